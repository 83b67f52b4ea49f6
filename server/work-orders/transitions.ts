import type { WorkOrderAction, WorkOrderCategory, WorkOrderState } from './types.ts';
import { WORK_ORDER_ACTIONS } from './types.ts';

/**
 * Which action is allowed from which state, and where it leads ('same': the state does not
 * change). A callback with outcome `problem` leads to `reopened` instead (domain rule 3: back
 * to the repair team); close needs a satisfied callback, so only `callback_done` may close.
 */
export const TRANSITIONS: Readonly<Record<WorkOrderAction, Partial<Record<WorkOrderState, WorkOrderState | 'same'>>>> = {
  acknowledge: { open: 'acknowledged', reopened: 'acknowledged' },
  assign: { open: 'same', acknowledged: 'same', in_progress: 'same', reopened: 'same' },
  start: { acknowledged: 'in_progress' },
  resolve: { in_progress: 'resolved' },
  'leak-test': { resolved: 'same' },
  callback: { resolved: 'callback_done' },
  close: { callback_done: 'closed' },
  reopen: { resolved: 'reopened', callback_done: 'reopened', closed: 'reopened' },
};

export interface TransitionFacts {
  state: WorkOrderState;
  category: WorkOrderCategory;
  leakTestAt: number | null;
}

/** Why an action the state table allows is still refused for this work order, if it is. */
export function guardReason(wo: TransitionFacts, action: WorkOrderAction): string | undefined {
  if (action === 'leak-test' && wo.category !== 'water-leak') return 'leak tests are recorded on water-leak work orders only';
  if (action === 'callback' && wo.category === 'water-leak' && wo.leakTestAt === null) return 'a leak repair is called back after its leak test: record it first (leak-test)';
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

/** The state after `action`, or undefined when the table does not allow it. */
export function nextState(state: WorkOrderState, action: WorkOrderAction, outcome?: 'satisfied' | 'problem'): WorkOrderState | undefined {
  const to = TRANSITIONS[action][state];
  if (to === undefined) return undefined;
  if (action === 'callback' && outcome === 'problem') return 'reopened';
  return to === 'same' ? state : to;
}
