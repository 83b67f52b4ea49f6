/**
 * The hours in which owners may be called, in the estate's local time (domain rule 3: never after
 * 21:00). Minutes after local midnight; a time is inside when `from <= t <= to`.
 */
export interface CallbackWindow {
  from: number;
  to: number;
}

export const DEFAULT_CALLBACK_WINDOW: CallbackWindow = { from: 9 * 60, to: 21 * 60 };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timezone, f);
  }
  return f;
}

/** The wall clock of `t` in `timezone`. */
export function localParts(t: number, timezone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number; ms: number } {
  const parts = Object.fromEntries(formatter(timezone).formatToParts(new Date(t)).map((p) => [p.type, Number(p.value)]));
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second!, ms: ((t % 1000) + 1000) % 1000 };
}

/** How far the zone's wall clock is ahead of UTC at `t`, in ms. */
function offsetAt(t: number, timezone: string): number {
  const p = localParts(t, timezone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.ms) - t;
}

/** The instant of a wall-clock time in `timezone` (day may overflow: day 32 is the next month). */
export function zonedTime(year: number, month: number, day: number, minutes: number, timezone: string): number {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  const guess = wall - offsetAt(wall, timezone);
  return wall - offsetAt(guess, timezone);
}

/** Local midnight of the first day of a month (`2025-03`) and of the month after it. */
export function monthBounds(month: string, timezone: string): { from: number; to: number } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return { from: zonedTime(y, m, 1, 0, timezone), to: zonedTime(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1, 0, timezone) };
}

/** The month (`2025-03`) of `t` in `timezone`. */
export function monthOf(t: number, timezone: string): string {
  const p = localParts(t, timezone);
  return `${p.year}-${String(p.month).padStart(2, '0')}`;
}

export function insideWindow(t: number, window: CallbackWindow, timezone: string): boolean {
  const p = localParts(t, timezone);
  const minutes = p.hour * 60 + p.minute + (p.second * 1000 + p.ms) / 60_000;
  return minutes >= window.from && minutes <= window.to;
}

/** `t` when owners may be called then, else the start of the next window. */
export function withinWindow(t: number, window: CallbackWindow, timezone: string): number {
  if (insideWindow(t, window, timezone)) return t;
  const p = localParts(t, timezone);
  const minutes = p.hour * 60 + p.minute;
  return zonedTime(p.year, p.month, minutes < window.from ? p.day : p.day + 1, window.from, timezone);
}

/** `HH:MM` as minutes after midnight, or undefined. */
export function parseClock(text: string): number | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
