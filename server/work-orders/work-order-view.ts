import { callbackStatus, missedKinds } from './deadlines.ts';
import { allowedActions, type TransitionFacts } from './transitions.ts';
import type { WorkOrder, WorkOrderRecord } from './types.ts';

/** What the transition table needs of a work order. */
export function transitionFacts(r: Pick<WorkOrderRecord, 'state' | 'source' | 'category' | 'followUp' | 'leakTestAt' | 'repliedAt'>): TransitionFacts {
  return { state: r.state, source: r.source, category: r.category, followUp: r.followUp, leakTestAt: r.leakTestAt, repliedAt: r.repliedAt };
}

/** A stored work order as people see it at `now`: cost in currency units, callback status, missed deadlines, allowed actions. */
export function toWorkOrder(r: WorkOrderRecord, now: number): WorkOrder {
  const { costCents, responseEscalatedFor: _r, replyEscalatedFor: _p, callbackEscalatedFor: _c, ...stored } = r;
  return {
    ...stored,
    callbackStatus: callbackStatus(r.state, r.callbackDueAt, r.category, r.resolvedAt),
    cost: costCents === null ? null : costCents / 100,
    overdue: missedKinds(r, now),
    allowedActions: allowedActions(transitionFacts(r)),
  };
}
