import type { Alarm, LocalizedText } from './alarm.ts';
import type { Flood } from './flood-monitor.ts';
import { DEFAULT_FLOOD_POLICY, type FloodPolicy } from './flood-policy.ts';

/** What the alarm-system report counts (docs/rules.md, "The alarm-system report"). */
export interface AlarmReportPolicy {
  flood: FloodPolicy;
  /** Returned to normal within this, unacknowledged: fleeting. */
  fleetingMs: number;
  /** Active longer than this: stale. */
  staleMs: number;
  /** How many of the most frequent alarm points are listed. */
  top: number;
}

export const DEFAULT_REPORT_POLICY: AlarmReportPolicy = { flood: DEFAULT_FLOOD_POLICY, fleetingMs: 10_000, staleMs: 24 * 3_600_000, top: 10 };

export interface ReportedPoint {
  key: string;
  device: string;
  ruleId: string;
  instance?: string;
  title: LocalizedText;
  /** Alarms of the point counted. */
  alarms: number;
  /** Their trips (occurrences). */
  trips: number;
}

export interface AlarmReport {
  from: number;
  to: number;
  /** Alarms announced in the period. */
  alarms: number;
  /** Windows of `windowMs` from `from` (the last one may be shorter). */
  windows: number;
  windowMs: number;
  /** Announced alarms per window: over the whole period, and the most in one window (with its start). */
  perWindow: { average: number; peak: number; peakAt: number | null };
  /** Windows with more than the flood limit, and their share of all windows. */
  floodWindows: number;
  floodShare: number;
  /** Floods recorded that went on in the period. */
  floods: Flood[];
  mostFrequent: ReportedPoint[];
  /** Points whose alarms raised in the period chattered. */
  chattering: ReportedPoint[];
  /** Points with alarms raised in the period that returned to normal within `fleetingMs`, unacknowledged. */
  fleeting: ReportedPoint[];
  /** Points with an alarm active longer than `staleMs` at some time in the period. */
  stale: ReportedPoint[];
  /** Alarms whose point was first shelved in the period. */
  shelved: number;
  /** Alarms first suppressed by their cause in the period (recorded, not announced then). */
  suppressed: number;
  /** Work orders alarms opened in the period, and announced alarms per such work order (null without any). */
  workOrders: number;
  alarmsPerWorkOrder: number | null;
}

export interface AlarmReportInput {
  from: number;
  to: number;
  /** When the report is made: an alarm still active counts as active until then. */
  now: number;
  /** Every alarm raised before `to` that was still open at `from` or changed after it. */
  alarms: readonly Alarm[];
  floods: readonly Flood[];
  /** Work orders opened by alarms in the period. */
  workOrders: number;
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;
const within = (t: number | undefined, from: number, to: number): t is number => t !== undefined && t >= from && t < to;

/**
 * The alarm-system report of a period (EEMUA 191, ANSI/ISA-18.2 section 16 monitoring): a pure
 * function of the recorded alarms, floods and work-order count, so that the figures can be
 * checked against a hand count (test/fixtures/alarm-report/).
 */
export function alarmReport(input: AlarmReportInput, policy: AlarmReportPolicy = DEFAULT_REPORT_POLICY): AlarmReport {
  const { from, to } = input;
  const windowMs = policy.flood.windowMs;
  const windows = Math.max(1, Math.ceil((to - from) / windowMs));
  // Only windows with alarms are kept: a long quiet period costs nothing.
  const perWindow = new Map<number, number>();
  const announced = input.alarms.filter((a) => within(a.announcedAt, from, to));
  for (const a of announced) {
    const w = Math.floor((a.announcedAt! - from) / windowMs);
    perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
  }
  let peak = 0;
  let peakWindow = 0;
  for (const [w, n] of perWindow) if (n > peak || (n === peak && w < peakWindow)) [peak, peakWindow] = [n, w];
  const floodWindows = [...perWindow.values()].filter((n) => n > policy.flood.limit).length;

  const raised = input.alarms.filter((a) => within(a.raisedAt, from, to));
  const raisedAnnounced = raised.filter((a) => a.announcedAt !== undefined);
  const fleeting = raisedAnnounced.filter(
    (a) => a.clearedAt !== undefined && a.clearedAt - a.raisedAt < policy.fleetingMs && (a.acknowledgedAt === undefined || a.acknowledgedAt >= a.clearedAt),
  );
  const stale = input.alarms.filter((a) => {
    if (a.announcedAt === undefined) return false;
    const end = a.clearedAt ?? Math.min(to, input.now);
    const staleFrom = a.raisedAt + policy.staleMs;
    return end - a.raisedAt > policy.staleMs && staleFrom < to && end > from;
  });
  return {
    from,
    to,
    alarms: announced.length,
    windows,
    windowMs,
    perWindow: { average: round((announced.length * windowMs) / (to - from), 2), peak, peakAt: peak > 0 ? from + peakWindow * windowMs : null },
    floodWindows,
    floodShare: round(floodWindows / windows, 4),
    floods: [...input.floods],
    mostFrequent: byPoint(raisedAnnounced)
      .sort((a, b) => b.trips - a.trips || byKey(a, b))
      .slice(0, policy.top),
    chattering: byPoint(raised.filter((a) => a.chatteredAt !== undefined)),
    fleeting: byPoint(fleeting),
    stale: byPoint(stale),
    shelved: input.alarms.filter((a) => within(a.shelvedAt, from, to)).length,
    suppressed: input.alarms.filter((a) => within(a.suppressedAt, from, to)).length,
    workOrders: input.workOrders,
    alarmsPerWorkOrder: input.workOrders > 0 ? round(announced.length / input.workOrders, 2) : null,
  };
}

/** Alarms grouped by alarm point, in key order; the title is the newest alarm's. */
function byPoint(alarms: readonly Alarm[]): ReportedPoint[] {
  const points = new Map<string, ReportedPoint>();
  for (const a of [...alarms].sort((x, y) => x.raisedAt - y.raisedAt)) {
    const p = points.get(a.key);
    if (p) {
      p.alarms++;
      p.trips += a.occurrences;
      p.title = a.title;
      continue;
    }
    points.set(a.key, { key: a.key, device: a.device, ruleId: a.ruleId, ...(a.instance !== undefined ? { instance: a.instance } : {}), title: a.title, alarms: 1, trips: a.occurrences });
  }
  return [...points.values()].sort(byKey);
}

/** Alarm points in code-point order of their keys, the same in every locale. */
function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
