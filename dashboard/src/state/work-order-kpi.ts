import type { DeadlineKind, WorkOrder } from '../types.ts';

export type { DeadlineKind };

/**
 * The deadlines a work order has missed at `now` (docs/work-orders.md, overdue): the response while
 * it is open or reopened past `responseDueAt`; a complaint's reply while nobody answered it past
 * `replyDueAt`; the callback (or internal verification) while it is not made past `callbackDueAt`.
 * Computed on the screen, so a work order turns overdue without a message.
 */
export function missedDeadlines(w: WorkOrder, now: number): DeadlineKind[] {
  const missed: DeadlineKind[] = [];
  if ((w.state === 'open' || w.state === 'reopened') && now > w.responseDueAt) missed.push('response');
  if (w.replyDueAt !== null && w.repliedAt === null && w.state !== 'closed' && now > w.replyDueAt) missed.push('reply');
  const made = w.state === 'callback_done' || w.state === 'verified' || w.state === 'closed';
  if (w.callbackDueAt !== null && !made && now > w.callbackDueAt) missed.push(w.followUp);
  return missed;
}

export interface Ratio {
  met: number;
  total: number;
}

export interface WorkOrderKpis {
  /** Acknowledged by the response deadline (domain rule 4: response rate 100 %). */
  responseOnTime: Ratio;
  /** Complaints answered within 72 hours (domain rule 4). */
  replyOnTime: Ratio;
  /** Owners called back by the callback deadline (domain rule 3: callback rate 100 %). */
  callbackOnTime: Ratio;
  overdue: number;
  /** Not closed and escalated to a supervisor or a manager. */
  escalated: number;
  leakTestPending: number;
  open: number;
}

/** The KPI strip of the work-order board, over the work orders the screen knows. */
export function workOrderKpis(orders: readonly WorkOrder[], now: number): WorkOrderKpis {
  const k: WorkOrderKpis = { responseOnTime: { met: 0, total: 0 }, replyOnTime: { met: 0, total: 0 }, callbackOnTime: { met: 0, total: 0 }, overdue: 0, escalated: 0, leakTestPending: 0, open: 0 };
  for (const w of orders) {
    if (w.state !== 'closed') k.open++;
    if (w.acknowledgedAt !== null) {
      k.responseOnTime.total++;
      if (w.acknowledgedAt <= w.responseDueAt) k.responseOnTime.met++;
    } else if (now > w.responseDueAt && (w.state === 'open' || w.state === 'reopened')) {
      k.responseOnTime.total++;
    }
    if (w.replyDueAt !== null) {
      if (w.repliedAt !== null) {
        k.replyOnTime.total++;
        if (w.repliedAt <= w.replyDueAt) k.replyOnTime.met++;
      } else if (now > w.replyDueAt) k.replyOnTime.total++;
    }
    if (w.followUp === 'callback') {
      if (w.callbackAt !== null && w.callbackDueAt !== null) {
        k.callbackOnTime.total++;
        if (w.callbackAt <= w.callbackDueAt) k.callbackOnTime.met++;
      } else if (w.callbackDueAt !== null && w.callbackAt === null && now > w.callbackDueAt) {
        k.callbackOnTime.total++;
      }
    }
    if (missedDeadlines(w, now).length > 0) k.overdue++;
    if (w.state !== 'closed' && w.escalationLevel > 0) k.escalated++;
    if ((w.state === 'resolved' || w.state === 'quality_checked') && w.category === 'water-leak' && w.leakTestAt === null) k.leakTestPending++;
  }
  return k;
}
