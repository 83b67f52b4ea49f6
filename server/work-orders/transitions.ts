import type { FollowUp, WorkOrderAction, WorkOrderCategory, WorkOrderSource, WorkOrderState } from './types.ts';
import { WORK_ORDER_ACTIONS } from './types.ts';

const NOT_CLOSED = ['open', 'acknowledged', 'in_progress', 'resolved', 'quality_checked', 'callback_done', 'verified', 'reopened'] as const;
const same = (states: readonly WorkOrderState[]) => Object.fromEntries(states.map((s) => [s, 'same'])) as Partial<Record<WorkOrderState, 'same'>>;

/**
 * Which action is allowed from which state, and where it leads ('same': the state does not
 * change). A repair is quality-checked (质量检查) before it is called back or verified; a failed
 * quality check, a callback that finds a problem and a failed verification lead to `reopened`
 * instead (domain rule 3: back to the repair team), a callback that finds nobody at home stays.
 */
export const TRANSITIONS: Readonly<Record<WorkOrderAction, Partial<Record<WorkOrderState, WorkOrderState | 'same'>>>> = {
  acknowledge: { open: 'acknowledged', reopened: 'acknowledged' },
  assign: { open: 'same', acknowledged: 'same', in_progress: 'same', reopened: 'same' },
  start: { acknowledged: 'in_progress' },
  resolve: { in_progress: 'resolved' },
  'leak-test': { resolved: 'same', quality_checked: 'same' },
  'quality-check': { resolved: 'quality_checked' },
  reply: same(NOT_CLOSED),
  callback: { quality_checked: 'callback_done' },
  verify: { quality_checked: 'verified' },
  escalate: same(NOT_CLOSED),
  close: { callback_done: 'closed', verified: 'closed' },
  reopen: { resolved: 'reopened', quality_checked: 'reopened', callback_done: 'reopened', verified: 'reopened', closed: 'reopened' },
};

export interface TransitionFacts {
  state: WorkOrderState;
  source: WorkOrderSource;
  category: WorkOrderCategory;
  followUp: FollowUp;
  leakTestAt: number | null;
  repliedAt: number | null;
}

/** Why an action the state table allows is still refused for this work order, if it is. */
export function guardReason(wo: TransitionFacts, action: WorkOrderAction): string | undefined {
  if (action === 'leak-test' && wo.category !== 'water-leak') return 'leak tests are recorded on water-leak work orders only';
  if (action === 'reply' && wo.source !== 'complaint') return 'replies are to complaints; this work order is not one';
  if (action === 'callback' && wo.followUp !== 'callback') return 'this work order has no owner to call back: it is verified internally (verify)';
  if (action === 'verify' && wo.followUp !== 'verification') return 'work for an owner is called back by customer service, not verified internally (callback)';
  if ((action === 'callback' || action === 'verify') && wo.category === 'water-leak' && wo.leakTestAt === null) {
    return 'a leak repair is followed up after its leak test: record it first (leak-test)';
  }
  if (action === 'close' && wo.source === 'complaint' && wo.repliedAt === null) return 'a complaint is answered before it is closed: record the reply first (reply)';
  return undefined;
}

export function isAllowed(wo: TransitionFacts, action: WorkOrderAction): boolean {
  return TRANSITIONS[action][wo.state] !== undefined && guardReason(wo, action) === undefined;
}

/** The actions a person can take on this work order now (for buttons and error messages). */
export function allowedActions(wo: TransitionFacts): WorkOrderAction[] {
  return WORK_ORDER_ACTIONS.filter((a) => isAllowed(wo, a));
}

/** The states an action may be taken from, per the table. */
export function statesAllowing(action: WorkOrderAction): WorkOrderState[] {
  return Object.keys(TRANSITIONS[action]) as WorkOrderState[];
}

/** What decides where an action with an outcome leads. */
export type ActionOutcome = 'satisfied' | 'problem' | 'not-home' | 'pass' | 'fail' | 'ok';

/** The state after `action`, or undefined when the table does not allow it. */
export function nextState(state: WorkOrderState, action: WorkOrderAction, outcome?: ActionOutcome): WorkOrderState | undefined {
  const to = TRANSITIONS[action][state];
  if (to === undefined) return undefined;
  if (outcome === 'problem' || outcome === 'fail') return 'reopened';
  if (action === 'callback' && outcome === 'not-home') return state;
  return to === 'same' ? state : to;
}
