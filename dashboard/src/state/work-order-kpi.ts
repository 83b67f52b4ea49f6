import type { WorkOrder } from '../types.ts';

export type DeadlineKind = 'response' | 'callback';

/**
 * The deadlines a work order has missed at `now` (docs/work-orders.md, overdue): the response while
 * it is open or reopened past `responseDueAt`, the callback while it is not called back or closed
 * past `callbackDueAt`. Computed on the screen, so a work order turns overdue without a message.
 */
export function missedDeadlines(w: WorkOrder, now: number): DeadlineKind[] {
  const missed: DeadlineKind[] = [];
  if ((w.state === 'open' || w.state === 'reopened') && now > w.responseDueAt) missed.push('response');
  if (w.callbackDueAt !== null && w.state !== 'callback_done' && w.state !== 'closed' && now > w.callbackDueAt) missed.push('callback');
  return missed;
}

export interface Ratio {
  met: number;
  total: number;
}

export interface WorkOrderKpis {
  /** Acknowledged by the response deadline (domain rule 4: response rate 100 %). */
  responseOnTime: Ratio;
  /** Called back by the callback deadline (domain rule 3: callback rate 100 %). */
  callbackOnTime: Ratio;
  overdue: number;
  leakTestPending: number;
  open: number;
}

/** The KPI strip of the work-order board, over the work orders the screen knows. */
export function workOrderKpis(orders: readonly WorkOrder[], now: number): WorkOrderKpis {
  const k: WorkOrderKpis = { responseOnTime: { met: 0, total: 0 }, callbackOnTime: { met: 0, total: 0 }, overdue: 0, leakTestPending: 0, open: 0 };
  for (const w of orders) {
    if (w.state !== 'closed') k.open++;
    if (w.acknowledgedAt !== null) {
      k.responseOnTime.total++;
      if (w.acknowledgedAt <= w.responseDueAt) k.responseOnTime.met++;
    } else if (now > w.responseDueAt && (w.state === 'open' || w.state === 'reopened')) {
      k.responseOnTime.total++;
    }
    if (w.callbackAt !== null && w.callbackDueAt !== null) {
      k.callbackOnTime.total++;
      if (w.callbackAt <= w.callbackDueAt) k.callbackOnTime.met++;
    } else if (w.callbackDueAt !== null && w.callbackAt === null && now > w.callbackDueAt) {
      k.callbackOnTime.total++;
    }
    if (missedDeadlines(w, now).length > 0) k.overdue++;
    if (w.state === 'resolved' && w.category === 'water-leak' && w.leakTestAt === null) k.leakTestPending++;
  }
  return k;
}
