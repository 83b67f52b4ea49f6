import type { CallbackStatus, DeadlineKind, MissedDeadline, WorkOrderCategory, WorkOrderPriority, WorkOrderState } from './types.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
/** A "day" in the rules is a 24-hour period from the event, not a calendar date in the estate's time zone. */
export const DAY_MS = 24 * HOUR_MS;

/**
 * Which callback window applies (docs/domain.md rules 3 and 4). Every callback rule counts in 24-hour periods.
 */
export type CallbackRule = 'safety-facility' | 'leak-repair' | 'other-repair' | 'complaint';

export interface DeadlineRules {
  /** Minutes from creation (or reopening) until the work order must be acknowledged. */
  responseMinutes: Record<WorkOrderCategory, Record<WorkOrderPriority, number>>;
  /** Categories whose repairs are "safety-facility repairs" of domain rule 3. */
  safetyCategories: readonly WorkOrderCategory[];
  callbackDays: { safetyFacility: number; leakRepair: number; otherRepair: number };
  /** The complaint line answers within this many hours of the complaint (docs/domain.md rule 4). */
  complaintCallbackHours: number;
}

/**
 * Defaults. Electrical faults count as safety facilities with fire and access/security
 * equipment (shock and fire hazard); the procedures give other repairs the same 2 days, so the
 * choice changes the reported rule, not a due time.
 */
export const DEFAULT_DEADLINE_RULES: DeadlineRules = {
  responseMinutes: {
    'fire-safety': { critical: 15, high: 30, medium: 60, low: 240 },
    'access-security': { critical: 15, high: 30, medium: 120, low: 480 },
    electrical: { critical: 15, high: 30, medium: 120, low: 480 },
    'water-leak': { critical: 15, high: 30, medium: 120, low: 480 },
    general: { critical: 30, high: 60, medium: 240, low: 1440 },
    complaint: { critical: 60, high: 240, medium: 720, low: 1440 },
  },
  safetyCategories: ['fire-safety', 'access-security', 'electrical'],
  callbackDays: { safetyFacility: 2, leakRepair: 3, otherRepair: 2 },
  complaintCallbackHours: 72,
};

export type DeadlineRuleOverrides = {
  responseMinutes?: Partial<Record<WorkOrderCategory, Partial<Record<WorkOrderPriority, number>>>>;
  safetyCategories?: readonly WorkOrderCategory[];
  callbackDays?: Partial<DeadlineRules['callbackDays']>;
  complaintCallbackHours?: number;
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
    complaintCallbackHours: overrides.complaintCallbackHours ?? base.complaintCallbackHours,
  };
  const numbers: Array<[string, number]> = [
    ...Object.entries(rules.responseMinutes).flatMap(([c, p]) => Object.entries(p).map(([k, v]) => [`responseMinutes.${c}.${k}`, v] as [string, number])),
    ...Object.entries(rules.callbackDays).map(([k, v]) => [`callbackDays.${k}`, v] as [string, number]),
    ['complaintCallbackHours', rules.complaintCallbackHours],
  ];
  for (const [path, v] of numbers) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`deadline rules: ${path} must be a positive number, got ${v}`);
  }
  return rules;
}

/** What the deadline rules need to know about a work order. Times are UTC epoch ms. */
export interface DeadlineFacts {
  category: WorkOrderCategory;
  priority: WorkOrderPriority;
  createdAt: number;
  reopenedAt: number | null;
  resolvedAt: number | null;
  leakTestAt: number | null;
}

export type CallbackDeadline =
  | { status: 'due'; rule: CallbackRule; dueAt: number; from: 'resolution' | 'leak-test' | 'creation' | 'reopening' }
  | { status: 'not-resolved' | 'leak-test-pending'; rule: CallbackRule };

export function callbackRule(category: WorkOrderCategory, rules: DeadlineRules = DEFAULT_DEADLINE_RULES): CallbackRule {
  if (category === 'complaint') return 'complaint';
  if (category === 'water-leak') return 'leak-repair';
  return rules.safetyCategories.includes(category) ? 'safety-facility' : 'other-repair';
}

/** Deadlines restart when a work order is reopened: the current cycle starts then. */
function cycleStart(f: DeadlineFacts): number {
  return f.reopenedAt ?? f.createdAt;
}

export function responseDueAt(f: DeadlineFacts, rules: DeadlineRules = DEFAULT_DEADLINE_RULES): number {
  return cycleStart(f) + rules.responseMinutes[f.category][f.priority] * MINUTE_MS;
}

/**
 * Repairs: callback within N days of the resolution; leak repairs within N days after the leak
 * test, and not due while no leak test is recorded. Complaints: within 72 hours of the complaint,
 * whatever the state.
 */
export function callbackDeadline(f: DeadlineFacts, rules: DeadlineRules = DEFAULT_DEADLINE_RULES): CallbackDeadline {
  const rule = callbackRule(f.category, rules);
  if (rule === 'complaint') {
    return { status: 'due', rule, dueAt: cycleStart(f) + rules.complaintCallbackHours * HOUR_MS, from: f.reopenedAt === null ? 'creation' : 'reopening' };
  }
  if (f.resolvedAt === null) return { status: 'not-resolved', rule };
  if (rule === 'leak-repair') {
    if (f.leakTestAt === null) return { status: 'leak-test-pending', rule };
    return { status: 'due', rule, dueAt: f.leakTestAt + rules.callbackDays.leakRepair * DAY_MS, from: 'leak-test' };
  }
  const days = rule === 'safety-facility' ? rules.callbackDays.safetyFacility : rules.callbackDays.otherRepair;
  return { status: 'due', rule, dueAt: f.resolvedAt + days * DAY_MS, from: 'resolution' };
}

/** States in which the response (acknowledgement) is still owed. */
export const AWAITING_RESPONSE: readonly WorkOrderState[] = ['open', 'reopened'];
/** States in which the callback of the current cycle has been made. */
export const CALLBACK_MADE: readonly WorkOrderState[] = ['callback_done', 'closed'];

export function callbackStatus(state: WorkOrderState, callbackDueAt: number | null, category: WorkOrderCategory, resolvedAt: number | null): CallbackStatus {
  if (CALLBACK_MADE.includes(state)) return 'done';
  if (callbackDueAt !== null) return 'due';
  return category === 'water-leak' && resolvedAt !== null ? 'leak-test-pending' : 'not-resolved';
}

/** The deadlines a work order has missed at `now`; a deadline is missed once `now` is past it. */
export function missedDeadlines(wo: { state: WorkOrderState; responseDueAt: number; callbackDueAt: number | null }, now: number): MissedDeadline[] {
  const missed: MissedDeadline[] = [];
  if (AWAITING_RESPONSE.includes(wo.state) && now > wo.responseDueAt) {
    missed.push({ kind: 'response', dueAt: wo.responseDueAt, overdueMs: now - wo.responseDueAt });
  }
  if (!CALLBACK_MADE.includes(wo.state) && wo.callbackDueAt !== null && now > wo.callbackDueAt) {
    missed.push({ kind: 'callback', dueAt: wo.callbackDueAt, overdueMs: now - wo.callbackDueAt });
  }
  return missed;
}

export function missedKinds(wo: { state: WorkOrderState; responseDueAt: number; callbackDueAt: number | null }, now: number): DeadlineKind[] {
  return missedDeadlines(wo, now).map((m) => m.kind);
}
