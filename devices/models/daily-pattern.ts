import type { BuildingConfig } from '../../common/site/types.ts';

export type BuildingType = BuildingConfig['type'];

/** Local time of day in the estate's time zone: fractional hour 0–24 and weekday 0 (Sunday)–6. */
export interface LocalTime {
  hour: number;
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();
const minuteCache = new Map<string, { minute: number; time: { hourOfDay: number; weekday: number } }>();

/** Intl is slow next to a model step, so the local wall time is worked out once per minute per zone. */
export function localTime(nowMs: number, timeZone: string): LocalTime {
  const minute = Math.floor(nowMs / 60_000);
  let cached = minuteCache.get(timeZone);
  if (!cached || cached.minute !== minute) {
    let fmt = formatters.get(timeZone);
    if (!fmt) {
      fmt = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', weekday: 'short' });
      formatters.set(timeZone, fmt);
    }
    const parts = fmt.formatToParts(minute * 60_000);
    const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '0';
    cached = { minute, time: { hourOfDay: Number(get('hour')) + Number(get('minute')) / 60, weekday: WEEKDAYS[get('weekday')] ?? 0 } };
    minuteCache.set(timeZone, cached);
  }
  return { hour: cached.time.hourOfDay + (nowMs - minute * 60_000) / 3_600_000, weekday: cached.time.weekday };
}

function bump(hour: number, centre: number, width: number): number {
  const d = hour - centre;
  return Math.exp(-(d * d) / (2 * width * width));
}

/**
 * Relative water demand 0–1 over the day. Residential: morning peak around 07:30 and a longer evening
 * peak around 20:00, little at night. Offices: working hours on weekdays, with a lunch bump.
 */
export function waterDemand(t: LocalTime, type: BuildingType): number {
  if (type === 'residential') {
    return Math.min(1, 0.06 + 0.95 * bump(t.hour, 7.5, 0.9) + 0.35 * bump(t.hour, 12.3, 0.8) + 0.85 * bump(t.hour, 20, 1.4));
  }
  const weekend = t.weekday === 0 || t.weekday === 6;
  const open = t.hour >= 8.5 && t.hour < 18.5 ? 0.55 + 0.4 * bump(t.hour, 12.5, 0.8) : 0.05;
  return weekend ? open * 0.2 + 0.03 : open;
}

/** Share of people at home (residential) or at work (offices), 0–1. */
export function occupancy(t: LocalTime, type: BuildingType): number {
  if (type === 'residential') {
    const h = t.hour;
    if (h < 6.5 || h >= 22) return 0.95;
    if (h >= 9 && h < 17) return 0.35;
    return 0.75;
  }
  const weekend = t.weekday === 0 || t.weekday === 6;
  const working = t.hour >= 8.5 && t.hour < 18.5;
  return working ? (weekend ? 0.1 : 0.9) : 0.02;
}

/** Relative gas demand 0–1: cooking at meal times in homes. */
export function gasDemand(t: LocalTime, type: BuildingType): number {
  if (type !== 'residential') return 0.05 * occupancy(t, type);
  return Math.min(1, 0.02 + 0.5 * bump(t.hour, 7.2, 0.5) + 0.7 * bump(t.hour, 12, 0.6) + 1.0 * bump(t.hour, 18.5, 0.8));
}
