import type { MonthFacts } from '../records/work-order-repository.ts';
import { DAY_MS } from '../work-orders/deadlines.ts';
import {
  COMPLAINT_TYPES,
  ESCALATION_REASONS,
  SATISFACTION_LEVELS,
  WORK_ORDER_CATEGORIES,
  WORK_ORDER_SOURCES,
  type ComplaintType,
  type EscalationReason,
  type Satisfaction,
  type WorkOrderCategory,
  type WorkOrderRecord,
  type WorkOrderSource,
} from '../work-orders/types.ts';

/** Two work orders of one unit and category created within this of each other are one recurring problem (domain rule 7). */
export const RECURRING_WITHIN_MS = 30 * DAY_MS;

/** The company's quality targets (domain rule 4). */
export const QUALITY_TARGETS = { responseOnTimeRate: 1, callbackRate: 1, satisfactionRate: 0.85 } as const;

export interface FollowUpFigures {
  /** Made in the month (the owner reached, or the verification done). */
  made: number;
  /** Of those, by their due time. */
  onTime: number;
  /** Fell due in the month and still not made. */
  missed: number;
  /** made / (made + missed), null when nothing was due. */
  rate: number | null;
  onTimeRate: number | null;
}

export interface RecurringProblem {
  building: string;
  unit: string;
  category: WorkOrderCategory;
  /** The work orders of the unit and category in the 30 days up to the last repeat, oldest first. */
  workOrders: number[];
  /** Those created in the month after another within 30 days. */
  repeats: number;
}

/** The month's statistics of an estate (docs/work-orders.md, "Monthly statistics"). Rates are 0..1. */
export interface MonthlyReport {
  estate: { id: string; name: string; timezone: string };
  month: string;
  from: number;
  to: number;
  generatedAt: number;
  received: { total: number; byCategory: Record<WorkOrderCategory, number>; bySource: Record<WorkOrderSource, number> };
  /** The work orders created in the month, by their first acknowledgement (签领). */
  response: { total: number; onTime: number; late: number; notResponded: number; pending: number; onTimeRate: number | null };
  /** Complaints whose 72-hour reply fell due in the month; and the complaints received, by type. */
  replies: { due: number; onTime: number; late: number; unanswered: number; pending: number; onTimeRate: number | null };
  complaints: { total: number; byType: Record<ComplaintType | 'unknown', number> };
  callbacks: FollowUpFigures & { notHome: number };
  verifications: FollowUpFigures;
  qualityChecks: { pass: number; fail: number };
  /** Asked at the callbacks made in the month. */
  satisfaction: { rated: number; byLevel: Record<Satisfaction, number>; rate: number | null };
  escalations: { total: number; byLevel: Record<'1' | '2' | '3', number>; byReason: Record<EscalationReason, number> };
  recurring: { problems: number; repeats: number; items: RecurringProblem[] };
  targets: typeof QUALITY_TARGETS;
}

const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);
const zeros = <K extends string>(keys: readonly K[]): Record<K, number> => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
const inMonth = (t: number | null, from: number, to: number): t is number => t !== null && t >= from && t < to;

/**
 * Counts a month, [from, to) in UTC ms of the estate's local month, at `now` (domain rule 7):
 * - response: work orders created in the month; on time when their first acknowledgement met the
 *   response deadline; not due yet when unacknowledged before it;
 * - replies: complaints whose reply deadline falls in the month;
 * - callbacks and verifications: those made in the month, on time or not, and those that fell due in
 *   the month and are still owed (missed); a callback that did not reach the owner is not made;
 * - satisfaction: asked at the callbacks made in the month;
 * - recurring problems: work orders created in the month with another of the same unit and category
 *   created in the 30 days before.
 */
export function monthlyReport(
  facts: MonthFacts,
  period: { month: string; from: number; to: number; now: number },
  estate: MonthlyReport['estate'],
): MonthlyReport {
  const { from, to, now } = period;
  const created = facts.workOrders.filter((w) => inMonth(w.createdAt, from, to));

  const received = { total: created.length, byCategory: zeros(WORK_ORDER_CATEGORIES), bySource: zeros(WORK_ORDER_SOURCES) };
  for (const w of created) {
    received.byCategory[w.category]++;
    received.bySource[w.source]++;
  }

  const firstAck = new Map<number, boolean>();
  for (const e of facts.acknowledgements) if (!firstAck.has(e.workOrderId)) firstAck.set(e.workOrderId, e.details.onTime === true);
  const response = { total: created.length, onTime: 0, late: 0, notResponded: 0, pending: 0, onTimeRate: null as number | null };
  for (const w of created) {
    const onTime = firstAck.get(w.id);
    if (onTime === true) response.onTime++;
    else if (onTime === false) response.late++;
    else if (now > w.responseDueAt) {
      response.late++;
      response.notResponded++;
    } else response.pending++;
  }
  response.onTimeRate = ratio(response.onTime, response.total - response.pending);

  const replies = { due: 0, onTime: 0, late: 0, unanswered: 0, pending: 0, onTimeRate: null as number | null };
  for (const w of facts.workOrders) {
    if (!inMonth(w.replyDueAt, from, to)) continue;
    if (w.repliedAt !== null) {
      if (w.repliedAt <= w.replyDueAt) replies.onTime++;
      else replies.late++;
    } else if (now > w.replyDueAt) replies.unanswered++;
    else replies.pending++;
  }
  replies.due = replies.onTime + replies.late + replies.unanswered;
  replies.onTimeRate = ratio(replies.onTime, replies.due);
  const complaints = { total: 0, byType: { ...zeros(COMPLAINT_TYPES), unknown: 0 } };
  for (const w of created) {
    if (w.source !== 'complaint') continue;
    complaints.total++;
    complaints.byType[w.complaintType ?? 'unknown']++;
  }

  const callbacks = { made: 0, onTime: 0, missed: 0, notHome: 0, rate: null as number | null, onTimeRate: null as number | null };
  const verifications = { made: 0, onTime: 0, missed: 0, rate: null as number | null, onTimeRate: null as number | null };
  const qualityChecks = { pass: 0, fail: 0 };
  const satisfaction = { rated: 0, byLevel: zeros(SATISFACTION_LEVELS), rate: null as number | null };
  const escalations = { total: 0, byLevel: { '1': 0, '2': 0, '3': 0 }, byReason: zeros(ESCALATION_REASONS) };
  for (const e of facts.events) {
    const d = e.details;
    if (e.action === 'callback') {
      if (d.outcome === 'not-home') {
        callbacks.notHome++;
        continue;
      }
      callbacks.made++;
      if (d.onTime === true) callbacks.onTime++;
      if (typeof d.satisfaction === 'string' && d.satisfaction in satisfaction.byLevel) {
        satisfaction.rated++;
        satisfaction.byLevel[d.satisfaction as Satisfaction]++;
      }
    } else if (e.action === 'verify') {
      verifications.made++;
      if (d.onTime === true) verifications.onTime++;
    } else if (e.action === 'quality-check') {
      if (d.result === 'pass') qualityChecks.pass++;
      else qualityChecks.fail++;
    } else if (e.action === 'escalate') {
      escalations.total++;
      const level = String(d.level) as '1' | '2' | '3';
      if (level in escalations.byLevel) escalations.byLevel[level]++;
      if (typeof d.reason === 'string' && d.reason in escalations.byReason) escalations.byReason[d.reason as EscalationReason]++;
    }
  }
  for (const w of facts.workOrders) {
    const owed = (w.state === 'resolved' || w.state === 'quality_checked') && w.callbackDueAt !== null && w.callbackDueAt >= from && w.callbackDueAt < Math.min(to, now);
    if (!owed) continue;
    if (w.followUp === 'callback') callbacks.missed++;
    else verifications.missed++;
  }
  for (const f of [callbacks, verifications]) {
    f.rate = ratio(f.made, f.made + f.missed);
    f.onTimeRate = ratio(f.onTime, f.made + f.missed);
  }
  satisfaction.rate = ratio(satisfaction.byLevel.satisfied + satisfaction.byLevel['basically-satisfied'], satisfaction.rated);

  return {
    estate,
    month: period.month,
    from,
    to,
    generatedAt: now,
    received,
    response,
    replies,
    complaints,
    callbacks,
    verifications,
    qualityChecks,
    satisfaction,
    escalations,
    recurring: recurringProblems(facts.workOrders, from, to),
    targets: QUALITY_TARGETS,
  };
}

function recurringProblems(workOrders: readonly WorkOrderRecord[], from: number, to: number): MonthlyReport['recurring'] {
  const byKey = new Map<string, WorkOrderRecord[]>();
  for (const w of workOrders) {
    if (w.unit === null || w.createdAt >= to || w.createdAt < from - RECURRING_WITHIN_MS) continue;
    const key = `${w.unit}\u0000${w.category}`;
    const list = byKey.get(key);
    if (list) list.push(w);
    else byKey.set(key, [w]);
  }
  const items: RecurringProblem[] = [];
  for (const list of byKey.values()) {
    list.sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    const involved = new Set<number>();
    let repeats = 0;
    list.forEach((w, i) => {
      if (w.createdAt < from) return;
      const earlier = list.slice(0, i).filter((x) => x.createdAt >= w.createdAt - RECURRING_WITHIN_MS);
      if (earlier.length === 0) return;
      repeats++;
      involved.add(w.id);
      for (const x of earlier) involved.add(x.id);
    });
    if (repeats === 0) continue;
    const first = list[0]!;
    items.push({ building: first.building, unit: first.unit!, category: first.category, workOrders: list.filter((w) => involved.has(w.id)).map((w) => w.id), repeats });
  }
  items.sort((a, b) => b.repeats - a.repeats || a.unit.localeCompare(b.unit) || a.category.localeCompare(b.category));
  return { problems: items.length, repeats: items.reduce((n, p) => n + p.repeats, 0), items };
}
