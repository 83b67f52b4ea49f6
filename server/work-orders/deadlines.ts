import { DEFAULT_CALLBACK_WINDOW, withinWindow, type CallbackWindow } from './callback-window.ts';
import type {
  CallbackStatus,
  DeadlineKind,
  FollowUp,
  MissedDeadline,
  WorkOrderCategory,
  WorkOrderPriority,
  WorkOrderSource,
  WorkOrderState,
} from './types.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
/** A "day" in the rules is a 24-hour period from the event, not a calendar date in the estate's time zone. */
export const DAY_MS = 24 * HOUR_MS;

/** Which callback window applies (domain rule 3). Every callback rule counts in 24-hour periods. */
export type CallbackRule = 'safety-facility' | 'leak-repair' | 'other-repair';

export interface DeadlineRules {
  /** Minutes from creation (or reopening) until the work order must be acknowledged (签领). */
  responseMinutes: Record<WorkOrderCategory, Record<WorkOrderPriority, number>>;
  /** Categories whose repairs are "safety-facility repairs" of domain rule 3. */
  safetyCategories: readonly WorkOrderCategory[];
  callbackDays: { safetyFacility: number; leakRepair: number; otherRepair: number };
  /** A complaint is answered (回复) within this many hours of it (domain rule 4). */
  replyHours: number;
  /** Owners are called in these local hours; a callback falling due outside is due at the next window's start. */
  callbackWindow: CallbackWindow;
  /** The estate's time zone, for the callback window. */
  timezone: string;
}

/**
 * Defaults. The procedures ask each company to set response-time standards for repairs but give no
 * numbers (domain rule 4): these are the shipped defaults, and each estate may set its own in the
 * site file (`workOrders.responseMinutes`). People trapped in a lift are the one case with an outside
 * bound: the rescue must arrive within 30 minutes in a city (TSG T5002-2017), so taking the job
 * may take 5.
 */
export const DEFAULT_DEADLINE_RULES: DeadlineRules = {
  responseMinutes: {
    'fire-safety': { critical: 15, high: 30, medium: 60, low: 240 },
    lift: { critical: 5, high: 30, medium: 60, low: 240 },
    'access-security': { critical: 15, high: 30, medium: 120, low: 480 },
    'water-leak': { critical: 15, high: 30, medium: 120, low: 480 },
    'water-supply': { critical: 15, high: 30, medium: 120, low: 480 },
    electrical: { critical: 15, high: 30, medium: 120, low: 480 },
    general: { critical: 30, high: 60, medium: 240, low: 1440 },
    complaint: { critical: 60, high: 240, medium: 720, low: 1440 },
  },
  safetyCategories: ['fire-safety', 'lift', 'access-security'],
  callbackDays: { safetyFacility: 2, leakRepair: 3, otherRepair: 2 },
  replyHours: 72,
  callbackWindow: DEFAULT_CALLBACK_WINDOW,
  timezone: 'Asia/Shanghai',
};

export type DeadlineRuleOverrides = {
  responseMinutes?: Partial<Record<WorkOrderCategory, Partial<Record<WorkOrderPriority, number>>>>;
  safetyCategories?: readonly WorkOrderCategory[];
  callbackDays?: Partial<DeadlineRules['callbackDays']>;
  replyHours?: number;
  callbackWindow?: CallbackWindow;
  timezone?: string;
};

/** The defaults with a site's overrides laid over them; every number must be positive. */
export function deadlineRules(overrides: DeadlineRuleOverrides = {}, base: DeadlineRules = DEFAULT_DEADLINE_RULES): DeadlineRules {
  const responseMinutes = { ...base.responseMinutes };
  for (const [category, byPriority] of Object.entries(overrides.responseMinutes ?? {}) as Array<[WorkOrderCategory, Partial<Record<WorkOrderPriority, number>>]>) {
    if (!(category in base.responseMinutes)) throw new RangeError(`deadline rules: unknown category ${category}`);
    responseMinutes[category] = { ...base.responseMinutes[category], ...byPriority };
  }
  const rules: DeadlineRules = {
    responseMinutes,
    safetyCategories: overrides.safetyCategories ?? base.safetyCategories,
    callbackDays: { ...base.callbackDays, ...overrides.callbackDays },
    replyHours: overrides.replyHours ?? base.replyHours,
    callbackWindow: overrides.callbackWindow ?? base.callbackWindow,
    timezone: overrides.timezone ?? base.timezone,
  };
  const numbers: Array<[string, number]> = [
    ...Object.entries(rules.responseMinutes).flatMap(([c, p]) => Object.entries(p).map(([k, v]) => [`responseMinutes.${c}.${k}`, v] as [string, number])),
    ...Object.entries(rules.callbackDays).map(([k, v]) => [`callbackDays.${k}`, v] as [string, number]),
    ['replyHours', rules.replyHours],
  ];
  for (const [path, v] of numbers) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`deadline rules: ${path} must be a positive number, got ${v}`);
  }
  const { from, to } = rules.callbackWindow;
  if (!(from >= 0 && to <= 24 * 60 && from < to)) throw new RangeError(`deadline rules: callbackWindow must start before it ends within one day, got ${from}..${to} minutes`);
  return rules;
}

/** What the deadline rules need to know about a work order. Times are UTC epoch ms. */
export interface DeadlineFacts {
  source: WorkOrderSource;
  category: WorkOrderCategory;
  priority: WorkOrderPriority;
  followUp: FollowUp;
  createdAt: number;
  reopenedAt: number | null;
  resolvedAt: number | null;
  leakTestAt: number | null;
}

export type CallbackDeadline =
  | { status: 'due'; rule: CallbackRule; dueAt: number; from: 'resolution' | 'leak-test' }
  | { status: 'not-resolved' | 'leak-test-pending'; rule: CallbackRule };

export function callbackRule(category: WorkOrderCategory, rules: DeadlineRules = DEFAULT_DEADLINE_RULES): CallbackRule {
  if (category === 'water-leak') return 'leak-repair';
  return rules.safetyCategories.includes(category) ? 'safety-facility' : 'other-repair';
}

/** Deadlines restart when a work order is reopened: the current cycle starts then. */
function cycleStart(f: Pick<DeadlineFacts, 'createdAt' | 'reopenedAt'>): number {
  return f.reopenedAt ?? f.createdAt;
}

export function responseDueAt(f: Pick<DeadlineFacts, 'category' | 'priority' | 'createdAt' | 'reopenedAt'>, rules: DeadlineRules = DEFAULT_DEADLINE_RULES): number {
  return cycleStart(f) + rules.responseMinutes[f.category][f.priority] * MINUTE_MS;
}

/** Complaints only: 72 hours after the complaint was received, whatever happens to the fix (domain rule 4). */
export function replyDueAt(f: Pick<DeadlineFacts, 'source' | 'createdAt'>, rules: DeadlineRules = DEFAULT_DEADLINE_RULES): number | null {
  return f.source === 'complaint' ? f.createdAt + rules.replyHours * HOUR_MS : null;
}

/**
 * The callback (or internal verification) of the current repair: within N days of the resolution;
 * leak repairs within N days after the leak test, and not due while no leak test is recorded. A
 * callback to an owner that would fall due outside the callback window is due at its next start.
 */
export function callbackDeadline(f: DeadlineFacts, rules: DeadlineRules = DEFAULT_DEADLINE_RULES): CallbackDeadline {
  const rule = callbackRule(f.category, rules);
  if (f.resolvedAt === null) return { status: 'not-resolved', rule };
  let due: { dueAt: number; from: 'resolution' | 'leak-test' };
  if (rule === 'leak-repair') {
    if (f.leakTestAt === null) return { status: 'leak-test-pending', rule };
    due = { dueAt: f.leakTestAt + rules.callbackDays.leakRepair * DAY_MS, from: 'leak-test' };
  } else {
    const days = rule === 'safety-facility' ? rules.callbackDays.safetyFacility : rules.callbackDays.otherRepair;
    due = { dueAt: f.resolvedAt + days * DAY_MS, from: 'resolution' };
  }
  const dueAt = f.followUp === 'callback' ? withinWindow(due.dueAt, rules.callbackWindow, rules.timezone) : due.dueAt;
  return { status: 'due', rule, dueAt, from: due.from };
}

/** States in which the response (acknowledgement) is still owed. */
export const AWAITING_RESPONSE: readonly WorkOrderState[] = ['open', 'reopened'];
/** States in which the callback or verification of the current cycle has been made. */
export const FOLLOW_UP_MADE: readonly WorkOrderState[] = ['callback_done', 'verified', 'closed'];

export function callbackStatus(state: WorkOrderState, callbackDueAt: number | null, category: WorkOrderCategory, resolvedAt: number | null): CallbackStatus {
  if (FOLLOW_UP_MADE.includes(state)) return 'done';
  if (callbackDueAt !== null) return 'due';
  return category === 'water-leak' && resolvedAt !== null ? 'leak-test-pending' : 'not-resolved';
}

export interface DeadlineState {
  state: WorkOrderState;
  followUp: FollowUp;
  responseDueAt: number;
  replyDueAt: number | null;
  repliedAt: number | null;
  callbackDueAt: number | null;
}

/** The deadlines a work order has missed at `now`; a deadline is missed once `now` is past it. */
export function missedDeadlines(wo: DeadlineState, now: number): MissedDeadline[] {
  const missed: MissedDeadline[] = [];
  const miss = (kind: DeadlineKind, dueAt: number) => missed.push({ kind, dueAt, overdueMs: now - dueAt });
  if (AWAITING_RESPONSE.includes(wo.state) && now > wo.responseDueAt) miss('response', wo.responseDueAt);
  if (wo.replyDueAt !== null && wo.repliedAt === null && wo.state !== 'closed' && now > wo.replyDueAt) miss('reply', wo.replyDueAt);
  if (!FOLLOW_UP_MADE.includes(wo.state) && wo.callbackDueAt !== null && now > wo.callbackDueAt) miss(wo.followUp, wo.callbackDueAt);
  return missed;
}

export function missedKinds(wo: DeadlineState, now: number): DeadlineKind[] {
  return missedDeadlines(wo, now).map((m) => m.kind);
}
