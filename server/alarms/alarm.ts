import type { DeviceKind } from '../../common/reading.ts';

export const ALARM_CATEGORIES = ['fire-safety', 'lift', 'access-security', 'water-leak', 'water-supply', 'electrical', 'general'] as const;
export type AlarmCategory = (typeof ALARM_CATEGORIES)[number];

export const ALARM_SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];

/**
 * ISA-18.2 alarm states (ANSI/ISA-18.2-2016, figure 5): `cleared-unacknowledged` is "returned to
 * normal, unacknowledged"; `cleared` is normal and acknowledged, which closes the alarm. Shelved
 * and suppressed-by-design are flags beside the state (`shelved`, `suppressed`).
 */
export const ALARM_STATES = ['active-unacknowledged', 'active-acknowledged', 'cleared-unacknowledged', 'cleared'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export interface LocalizedText {
  en: string;
  zh: string;
}

export interface Shelf {
  by: string;
  reason: string;
  at: number;
  until: number;
}

/** What raises alarms besides devices: a gateway, about itself and its links (server/infrastructure/). */
export const INFRASTRUCTURE_KIND = 'gateway';
export type AlarmSourceKind = DeviceKind | typeof INFRASTRUCTURE_KIND;

/** What a rule knows about the alarm point it trips. */
export interface AlarmPoint {
  /** Identity of the alarm point: `{device}/{ruleId}` plus `/{instance}` (a fire zone, a connection) when the rule has instances. */
  key: string;
  ruleId: string;
  ruleType: string;
  /** The device, or for a gateway's conditions the gateway id. */
  device: string;
  /** The building; for a condition of the whole estate (a gateway) the site id. */
  building: string;
  kind: AlarmSourceKind;
  unit?: string;
  /** Rule instance such as a fire zone; absent when the rule has one alarm per device. */
  instance?: string;
  metric?: string;
  category: AlarmCategory;
  severity: AlarmSeverity;
}

/** One alarm, from the moment it was raised until it is cleared and acknowledged. Times are epoch ms. */
export interface Alarm extends AlarmPoint {
  id: string;
  title: LocalizedText;
  state: AlarmState;
  /** Whether the process condition is in alarm now. Differs from `state` only while chattering holds the alarm. */
  conditionActive: boolean;
  /** Value that tripped the alarm (threshold value, advance per window, …) and the limit it crossed. */
  value?: number;
  limit?: number;
  /** Extra facts, such as `cause: 'gateway-offline'`. */
  details?: Record<string, string | number | boolean>;
  raisedAt: number;
  /** When the alarm was announced (alarm-raised emitted); absent while it was raised on a shelved point. */
  announcedAt?: number;
  lastTripAt: number;
  clearedAt?: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  acknowledgeComment?: string;
  closedAt?: number;
  updatedAt: number;
  occurrences: number;
  chattering: boolean;
  shelved?: Shelf;
  /**
   * Suppressed by its cause (ISA-18.2 designed suppression): raised while something the device
   * depends on (its gateway, its connection) was in alarm. Recorded, not announced.
   */
  suppressed?: boolean;
  /** The alarm point of the cause, e.g. `gw-sunshine-1/connection-down/T1-modbus`. */
  suppressedBy?: string;
  /** When it was first suppressed; kept once released, for the alarm-system report. */
  suppressedAt?: number;
  /** When it first became chattering; kept, for the report. */
  chatteredAt?: number;
  /** When its point was first shelved while it was open; kept, for the report. */
  shelvedAt?: number;
}

export const MAX_SHELVE_MS = 24 * 60 * 60 * 1000;

export type TimerPhase = 'on-delay' | 'off-delay';

/** A running `for` (on-delay) or off-delay of one rule on one device, kept so a restart resumes it. */
export interface PendingTimer {
  ruleId: string;
  device: string;
  /** Rule instance (fire zone); '' when the rule has one state per device. */
  instance: string;
  phase: TimerPhase;
  since: number;
  due: number;
  /** The reading that started the timer, so an alarm raised after a restart still carries it. */
  value?: number;
  /** The rule's limit when the timer started. */
  limit?: number;
}

export interface AlarmHistoryQuery {
  /** raisedAt >= from */
  from?: number;
  /** raisedAt < to */
  to?: number;
  device?: string;
  building?: string;
  category?: AlarmCategory;
  state?: AlarmState;
  /** Newest first; default 100, at most 1000. */
  limit?: number;
}

export type AlarmActionErrorCode = 'not-found' | 'invalid' | 'conflict';

/** A refused operator action; `code` maps to 404, 400 and 409. */
export class AlarmActionError extends Error {
  constructor(
    readonly code: AlarmActionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AlarmActionError';
  }
}

export function isActive(alarm: Pick<Alarm, 'state'>): boolean {
  return alarm.state === 'active-unacknowledged' || alarm.state === 'active-acknowledged';
}

export function isUnacknowledged(alarm: Pick<Alarm, 'state'>): boolean {
  return alarm.state === 'active-unacknowledged' || alarm.state === 'cleared-unacknowledged';
}

/** Condition returned to normal. */
export function clearedState(state: AlarmState): AlarmState {
  if (state === 'active-unacknowledged') return 'cleared-unacknowledged';
  if (state === 'active-acknowledged') return 'cleared';
  return state;
}

/** Condition in alarm again while the alarm is still open: an unacknowledged return to normal becomes active again. */
export function retrippedState(state: AlarmState): AlarmState {
  return state === 'cleared-unacknowledged' ? 'active-unacknowledged' : state;
}

/** Operator acknowledgement; undefined when the state has nothing to acknowledge. */
export function acknowledgedState(state: AlarmState): AlarmState | undefined {
  if (state === 'active-unacknowledged') return 'active-acknowledged';
  if (state === 'cleared-unacknowledged') return 'cleared';
  return undefined;
}

const SEVERITY_RANK: Record<AlarmSeverity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Most severe first, then unacknowledged before acknowledged, then newest first. */
export function compareAlarms(a: Alarm, b: Alarm): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    Number(!isUnacknowledged(a)) - Number(!isUnacknowledged(b)) ||
    b.raisedAt - a.raisedAt
  );
}
