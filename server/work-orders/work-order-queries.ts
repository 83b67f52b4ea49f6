import type { WorkOrderRepository } from '../records/work-order-repository.ts';
import { monthlyReport, RECURRING_WITHIN_MS, type MonthlyReport } from '../reports/monthly-report.ts';
import { monthBounds } from './callback-window.ts';
import { missedDeadlines } from './deadlines.ts';
import {
  WORK_ORDER_CATEGORIES,
  WORK_ORDER_PAGE,
  WORK_ORDER_STATES,
  type OverdueWorkOrder,
  type WorkOrderCategory,
  type WorkOrderCounts,
  type WorkOrderFilter,
  type WorkOrderPage,
  type WorkOrderState,
  type WorkOrderWithTimeline,
} from './types.ts';
import { toWorkOrder } from './work-order-view.ts';

/** Reading work orders: one with its timeline, lists, the overdue ones and the figures; deadlines as of the clock. */
export class WorkOrderQueries {
  constructor(
    private readonly records: WorkOrderRepository,
    private readonly clock: () => number = Date.now,
  ) {}

  /** How many work orders alarms opened in [from, to): for the alarm-system report. */
  openedByAlarms(from: number, to: number): Promise<number> {
    return this.records.openedByAlarms(from, to);
  }

  /** Throws WorkOrderNotFoundError for an unknown id. */
  async get(id: number): Promise<WorkOrderWithTimeline> {
    const { record, timeline } = await this.records.withTimeline(id);
    return { ...toWorkOrder(record, this.clock()), timeline };
  }

  /** Newest first. */
  async list(filter: WorkOrderFilter = {}): Promise<WorkOrderPage> {
    const page = filter.page ?? 1;
    const limit = filter.limit ?? WORK_ORDER_PAGE.defaultLimit;
    const now = this.clock();
    const { records, total } = await this.records.page(filter, now, page, limit);
    return { items: records.map((r) => toWorkOrder(r, now)), total, page, limit };
  }

  /** Work orders past their response or callback deadline at `now`, the longest overdue first. */
  async overdue(now: number = this.clock()): Promise<OverdueWorkOrder[]> {
    return (await this.records.overdue(now))
      .map((r) => ({ workOrder: toWorkOrder(r, now), missed: missedDeadlines(r, now) }))
      .sort((a, b) => Math.min(...a.missed.map((m) => m.dueAt)) - Math.min(...b.missed.map((m) => m.dueAt)) || a.workOrder.id - b.workOrder.id);
  }

  /** Figures for /metrics and the dashboard. "Open" is every state but closed. */
  async counts(now: number = this.clock()): Promise<WorkOrderCounts> {
    const rows = await this.records.counts(now);
    const byState = Object.fromEntries(WORK_ORDER_STATES.map((s) => [s, 0])) as Record<WorkOrderState, number>;
    for (const r of rows.byState) byState[r.state] = r.n;
    const openByCategory = Object.fromEntries(WORK_ORDER_CATEGORIES.map((c) => [c, 0])) as Record<WorkOrderCategory, number>;
    for (const r of rows.openByCategory) openByCategory[r.category] = r.n;
    return {
      total: Object.values(byState).reduce((a, b) => a + b, 0),
      byState,
      openByCategory,
      overdue: { response: rows.responseOverdue, reply: rows.replyOverdue, callback: rows.callbackOverdue, verification: rows.verificationOverdue },
      leakTestPending: rows.leakTestPending,
      escalated: { '1': 0, '2': 0, '3': 0, ...Object.fromEntries(rows.escalated.map((r) => [String(r.level), r.n])) },
    };
  }

  /** The statistics of an estate's local month (`2025-03`) as of the clock (domain rule 7). */
  async monthly(month: string, estate: MonthlyReport['estate']): Promise<MonthlyReport> {
    const { from, to } = monthBounds(month, estate.timezone);
    const facts = await this.records.monthFacts(from, to, RECURRING_WITHIN_MS);
    return monthlyReport(facts, { month, from, to, now: this.clock() }, estate);
  }
}
