import type { Statement } from 'better-sqlite3';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { Database } from '../db/database.ts';
import { DEFAULT_DEADLINE_RULES, callbackDeadline, missedDeadlines, responseDueAt, type DeadlineFacts, type DeadlineRules } from './deadlines.ts';
import { WorkOrderInputError, WorkOrderNotFoundError, WorkOrderTransitionError } from './errors.ts';
import { allowedActions, guardReason, nextState, statesAllowing } from './transitions.ts';
import {
  WORK_ORDER_ACTIONS,
  WORK_ORDER_CATEGORIES,
  WORK_ORDER_PRIORITIES,
  WORK_ORDER_SOURCES,
  WORK_ORDER_STATES,
  type ActionPayloads,
  type AlarmInput,
  type CreateWorkOrderInput,
  type OverdueWorkOrder,
  type TimelineAction,
  type WorkOrder,
  type WorkOrderAction,
  type WorkOrderCategory,
  type WorkOrderChange,
  type WorkOrderCounts,
  type WorkOrderEvent,
  type WorkOrderFilter,
  type WorkOrderPage,
  type WorkOrderState,
  type WorkOrderWithTimeline,
} from './types.ts';
import { toWorkOrder, toWorkOrderEvent, transitionFacts, type WorkOrderEventRow, type WorkOrderRow } from './work-order-rows.ts';

export interface WorkOrderServiceOptions {
  db: Database;
  clock?: () => number;
  /** Called after each committed change (creation, occurrence, action). Errors are logged, not thrown. */
  onChange?: (workOrder: WorkOrder, event: WorkOrderEvent) => void;
  rules?: DeadlineRules;
  logger?: Logger;
}

const TEXT_LIMITS = { title: 200, detail: 4000, comment: 4000, item: 500, reporter: 200, ref: 200, id: 200 } as const;
const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 50;

const RESPONSE_OVERDUE_SQL = "state IN ('open', 'reopened') AND response_due_at < @now";
const CALLBACK_OVERDUE_SQL = "state NOT IN ('callback_done', 'closed') AND callback_due_at IS NOT NULL AND callback_due_at < @now";
const OVERDUE_SQL = `((${RESPONSE_OVERDUE_SQL}) OR (${CALLBACK_OVERDUE_SQL}))`;

type NewWorkOrderRow = Pick<
  WorkOrderRow,
  'source' | 'source_ref' | 'category' | 'priority' | 'title' | 'detail' | 'building' | 'unit' | 'device_id' | 'rule_id' | 'reporter' | 'created_by' | 'created_at'
>;

/** The columns an action may change; written back as a whole. */
const MUTABLE_COLUMNS = [
  'state',
  'assignee_user_id',
  'assignee_team_id',
  'updated_at',
  'acknowledged_at',
  'started_at',
  'resolved_at',
  'leak_test_at',
  'callback_at',
  'callback_outcome',
  'closed_at',
  'reopened_at',
  'response_due_at',
  'callback_due_at',
  'repair_item',
  'cost_cents',
  'reopen_count',
] as const satisfies ReadonlyArray<keyof WorkOrderRow>;

/**
 * Work orders (docs/domain.md rules 3, 4, 7): creation by hand or from alarms (one open work order per
 * device and rule), the action state machine with its timeline, deadlines and overdue queries.
 * Every change is one IMMEDIATE transaction, so several connections to the same file stay consistent.
 */
export class WorkOrderService {
  readonly rules: DeadlineRules;
  private readonly db: Database;
  private readonly clock: () => number;
  private readonly onChange: ((workOrder: WorkOrder, event: WorkOrderEvent) => void) | undefined;
  private readonly log: Logger;
  private readonly sql: Record<
    'byId' | 'openForAlarm' | 'insert' | 'insertEvent' | 'addOccurrence' | 'update' | 'timeline' | 'eventById' | 'userExists' | 'teamExists',
    Statement
  >;

  constructor(options: WorkOrderServiceOptions) {
    this.db = options.db;
    this.clock = options.clock ?? Date.now;
    this.onChange = options.onChange;
    this.rules = options.rules ?? DEFAULT_DEADLINE_RULES;
    this.log = options.logger ?? createLogger('work-orders');
    const db = this.db;
    this.sql = {
      byId: db.prepare('SELECT * FROM work_orders WHERE id = ?'),
      openForAlarm: db.prepare("SELECT * FROM work_orders WHERE device_id = ? AND rule_id = ? AND state != 'closed'"),
      insert: db.prepare(`
        INSERT INTO work_orders (source, source_ref, category, priority, state, title, detail, building, unit, device_id, rule_id,
          reporter, created_by, created_at, updated_at, response_due_at, callback_due_at, occurrences, last_occurrence_at)
        VALUES (@source, @source_ref, @category, @priority, 'open', @title, @detail, @building, @unit, @device_id, @rule_id,
          @reporter, @created_by, @created_at, @updated_at, @response_due_at, @callback_due_at, 1, @created_at)`),
      insertEvent: db.prepare(`
        INSERT INTO work_order_events (work_order_id, at, by_user_id, action, from_state, to_state, comment, details)
        VALUES (@work_order_id, @at, @by_user_id, @action, @from_state, @to_state, @comment, @details)`),
      addOccurrence: db.prepare(
        'UPDATE work_orders SET occurrences = occurrences + 1, last_occurrence_at = MAX(last_occurrence_at, @at), updated_at = @now WHERE id = @id',
      ),
      update: db.prepare(`UPDATE work_orders SET ${MUTABLE_COLUMNS.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`),
      timeline: db.prepare('SELECT * FROM work_order_events WHERE work_order_id = ? ORDER BY id'),
      eventById: db.prepare('SELECT * FROM work_order_events WHERE id = ?'),
      userExists: db.prepare('SELECT 1 FROM users WHERE id = ?'),
      teamExists: db.prepare('SELECT 1 FROM teams WHERE id = ?'),
    };
  }

  /** A work order recorded by a person (repair call, complaint, inspection finding, handover defect). */
  create(input: CreateWorkOrderInput): WorkOrderChange {
    oneOf('source', input.source, WORK_ORDER_SOURCES.filter((s) => s !== 'alarm'));
    oneOf('category', input.category, WORK_ORDER_CATEGORIES);
    oneOf('priority', input.priority, WORK_ORDER_PRIORITIES);
    const row = {
      source: input.source,
      source_ref: optionalText('sourceRef', input.sourceRef, TEXT_LIMITS.ref),
      category: input.category,
      priority: input.priority,
      title: text('title', input.title, TEXT_LIMITS.title),
      detail: optionalText('detail', input.detail, TEXT_LIMITS.detail) ?? '',
      building: text('building', input.building, TEXT_LIMITS.id),
      unit: optionalText('unit', input.unit, TEXT_LIMITS.id),
      device_id: optionalText('deviceId', input.deviceId, TEXT_LIMITS.id),
      rule_id: null,
      reporter: optionalText('reporter', input.reporter, TEXT_LIMITS.reporter),
      created_by: input.createdBy,
    };
    const comment = optionalText('comment', input.comment, TEXT_LIMITS.comment);
    const change = this.db
      .transaction(() => {
        this.requireUser(input.createdBy, 'createdBy');
        const now = this.clock();
        const id = this.insert({ ...row, created_at: now });
        const event = this.appendEvent(id, now, input.createdBy, 'create', null, 'open', comment, { source: row.source, sourceRef: row.source_ref });
        return this.change(id, event);
      })
      .immediate();
    this.notify(change);
    return change;
  }

  /**
   * An alarm from the rules engine. While a work order for the same device and rule is not
   * closed, a repeat adds an occurrence to it instead of opening another (the partial unique
   * index enforces this even across connections).
   */
  raiseFromAlarm(input: AlarmInput): WorkOrderChange & { created: boolean } {
    oneOf('category', input.category, WORK_ORDER_CATEGORIES);
    oneOf('priority', input.priority, WORK_ORDER_PRIORITIES);
    const at = epoch('at', input.at);
    const row = {
      source: 'alarm' as const,
      source_ref: null,
      category: input.category,
      priority: input.priority,
      title: text('title', input.title, TEXT_LIMITS.title),
      detail: optionalText('detail', input.detail, TEXT_LIMITS.detail) ?? '',
      building: text('building', input.building, TEXT_LIMITS.id),
      unit: optionalText('unit', input.unit, TEXT_LIMITS.id),
      device_id: text('deviceId', input.deviceId, TEXT_LIMITS.id),
      rule_id: text('ruleId', input.ruleId, TEXT_LIMITS.id),
      reporter: null,
      created_by: null,
    };
    const raise = this.db.transaction(() => {
      const open = this.sql.openForAlarm.get(row.device_id, row.rule_id) as WorkOrderRow | undefined;
      if (open) {
        this.sql.addOccurrence.run({ id: open.id, at, now: this.clock() });
        const event = this.appendEvent(open.id, at, null, 'occurrence', open.state, open.state, null, {
          occurrence: open.occurrences + 1,
          priority: input.priority,
          title: row.title,
          detail: row.detail,
        });
        return { ...this.change(open.id, event), created: false };
      }
      const id = this.insert({ ...row, created_at: at });
      const event = this.appendEvent(id, at, null, 'raise', null, 'open', null, { deviceId: row.device_id, ruleId: row.rule_id, detail: row.detail });
      return { ...this.change(id, event), created: true };
    });
    let result: WorkOrderChange & { created: boolean };
    try {
      result = raise.immediate();
    } catch (err) {
      // Another writer that did not take the write lock first can only lose the race on the index: retry as a repeat.
      if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
      result = raise.immediate();
    }
    this.notify(result);
    return result;
  }

  /** Applies one action by user `by`; throws WorkOrderTransitionError when the state does not allow it. */
  act<A extends WorkOrderAction>(id: number, action: A, by: number, payload: ActionPayloads[A] = {} as ActionPayloads[A]): WorkOrderChange {
    oneOf('action', action, WORK_ORDER_ACTIONS);
    const change = this.db
      .transaction(() => {
        const row = this.row(id);
        const to = nextState(row.state, action, action === 'callback' ? (payload as ActionPayloads['callback']).outcome : undefined);
        const guard = guardReason(transitionFacts(row), action);
        if (to === undefined || guard !== undefined) {
          const reason = to === undefined ? `${action} is allowed from ${statesAllowing(action).join(', ')}` : guard;
          throw new WorkOrderTransitionError(id, action, row.state, allowedActions(transitionFacts(row)), reason);
        }
        this.requireUser(by, 'by');
        const now = this.clock();
        const comment = optionalText('comment', payload.comment, TEXT_LIMITS.comment);
        const next: WorkOrderRow = { ...row, state: to, updated_at: now };
        const details = this.apply(action, payload, row, next, now);
        this.sql.update.run(Object.fromEntries([...MUTABLE_COLUMNS.map((c) => [c, next[c]]), ['id', id]]));
        const event = this.appendEvent(id, now, by, action, row.state, to, comment, details);
        return this.change(id, event);
      })
      .immediate();
    this.notify(change);
    return change;
  }

  get(id: number): WorkOrderWithTimeline {
    const row = this.row(id);
    const timeline = (this.sql.timeline.all(id) as WorkOrderEventRow[]).map(toWorkOrderEvent);
    return { ...toWorkOrder(row, this.clock()), timeline };
  }

  /** Newest first. */
  list(filter: WorkOrderFilter = {}): WorkOrderPage {
    const page = filter.page ?? 1;
    const limit = filter.limit ?? DEFAULT_LIMIT;
    if (!Number.isSafeInteger(page) || page < 1) throw new WorkOrderInputError(`page must be a whole number from 1, got ${page}`);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new WorkOrderInputError(`limit must be a whole number from 1 to ${MAX_LIMIT}, got ${limit}`);
    const now = this.clock();
    const where: string[] = [];
    const params: Record<string, unknown> = { now };
    const anyOf = (column: string, name: string, values: readonly string[], allowed: readonly string[]) => {
      values.forEach((v) => oneOf(name, v, allowed));
      where.push(`${column} IN (${values.map((_, i) => `@${name}${i}`).join(', ') || 'NULL'})`);
      values.forEach((v, i) => (params[`${name}${i}`] = v));
    };
    if (filter.state !== undefined) anyOf('state', 'state', typeof filter.state === 'string' ? [filter.state] : filter.state, WORK_ORDER_STATES);
    if (filter.category !== undefined) anyOf('category', 'category', typeof filter.category === 'string' ? [filter.category] : filter.category, WORK_ORDER_CATEGORIES);
    if (filter.source !== undefined) anyOf('source', 'source', [filter.source], WORK_ORDER_SOURCES);
    const equal = { building: 'building', unit: 'unit', deviceId: 'device_id', assigneeUserId: 'assignee_user_id', assigneeTeamId: 'assignee_team_id' } as const;
    for (const [key, column] of Object.entries(equal) as Array<[keyof typeof equal, string]>) {
      if (filter[key] === undefined) continue;
      where.push(`${column} = @${key}`);
      params[key] = filter[key];
    }
    if (filter.overdue !== undefined) where.push(filter.overdue ? OVERDUE_SQL : `NOT ${OVERDUE_SQL}`);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM work_orders ${clause}`).get(params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM work_orders ${clause} ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit, offset: (page - 1) * limit }) as WorkOrderRow[];
    return { items: rows.map((r) => toWorkOrder(r, now)), total, page, limit };
  }

  /** Work orders past their response or callback deadline at `now`, the longest overdue first. */
  overdue(now: number = this.clock()): OverdueWorkOrder[] {
    const rows = this.db.prepare(`SELECT * FROM work_orders WHERE ${OVERDUE_SQL}`).all({ now }) as WorkOrderRow[];
    return rows
      .map((r) => ({
        workOrder: toWorkOrder(r, now),
        missed: missedDeadlines({ state: r.state, responseDueAt: r.response_due_at, callbackDueAt: r.callback_due_at }, now),
      }))
      .sort((a, b) => Math.min(...a.missed.map((m) => m.dueAt)) - Math.min(...b.missed.map((m) => m.dueAt)) || a.workOrder.id - b.workOrder.id);
  }

  /** Figures for /metrics and the dashboard. "Open" is every state but closed. */
  counts(now: number = this.clock()): WorkOrderCounts {
    const byState = Object.fromEntries(WORK_ORDER_STATES.map((s) => [s, 0])) as Record<WorkOrderState, number>;
    for (const r of this.db.prepare('SELECT state, COUNT(*) AS n FROM work_orders GROUP BY state').all() as Array<{ state: WorkOrderState; n: number }>) {
      byState[r.state] = r.n;
    }
    const openByCategory = Object.fromEntries(WORK_ORDER_CATEGORIES.map((c) => [c, 0])) as Record<WorkOrderCategory, number>;
    const openRows = this.db.prepare("SELECT category, COUNT(*) AS n FROM work_orders WHERE state != 'closed' GROUP BY category").all() as Array<{
      category: WorkOrderCategory;
      n: number;
    }>;
    for (const r of openRows) openByCategory[r.category] = r.n;
    const count = (sql: string) => (this.db.prepare(sql).get(sql.includes('@now') ? { now } : {}) as { n: number }).n;
    return {
      total: Object.values(byState).reduce((a, b) => a + b, 0),
      byState,
      openByCategory,
      overdue: {
        response: count(`SELECT COUNT(*) AS n FROM work_orders WHERE ${RESPONSE_OVERDUE_SQL}`),
        callback: count(`SELECT COUNT(*) AS n FROM work_orders WHERE ${CALLBACK_OVERDUE_SQL}`),
      },
      leakTestPending: count("SELECT COUNT(*) AS n FROM work_orders WHERE state = 'resolved' AND category = 'water-leak' AND leak_test_at IS NULL"),
    };
  }

  /** Fills `next` (already in its new state) for the action and returns the timeline details. */
  private apply(action: WorkOrderAction, payload: ActionPayloads[WorkOrderAction], row: WorkOrderRow, next: WorkOrderRow, now: number): Record<string, unknown> {
    switch (action) {
      case 'acknowledge':
        next.acknowledged_at = now;
        return { responseDueAt: row.response_due_at, onTime: now <= row.response_due_at };
      case 'assign': {
        const p = payload as ActionPayloads['assign'];
        if (p.userId === undefined && p.teamId === undefined) throw new WorkOrderInputError('assign needs userId or teamId (null to clear one)');
        if (p.userId !== undefined && p.userId !== null) this.requireUser(p.userId, 'userId');
        if (p.teamId !== undefined && p.teamId !== null) this.requireTeam(p.teamId);
        if (p.userId !== undefined) next.assignee_user_id = p.userId;
        if (p.teamId !== undefined) next.assignee_team_id = p.teamId;
        return {
          userId: next.assignee_user_id,
          teamId: next.assignee_team_id,
          previousUserId: row.assignee_user_id,
          previousTeamId: row.assignee_team_id,
        };
      }
      case 'start':
        next.started_at = now;
        return {};
      case 'resolve': {
        const p = payload as ActionPayloads['resolve'];
        next.resolved_at = now;
        if (p.leakTestAt !== undefined) {
          if (row.category !== 'water-leak') throw new WorkOrderInputError(`leakTestAt applies to water-leak work orders only, this one is ${row.category}`);
          next.leak_test_at = this.leakTestTime(p.leakTestAt, row, now);
        }
        if (p.item !== undefined) next.repair_item = optionalText('item', p.item, TEXT_LIMITS.item);
        if (p.cost !== undefined) next.cost_cents = cents(p.cost);
        this.setDeadlines(next);
        return {
          ...(p.leakTestAt !== undefined && { leakTestAt: next.leak_test_at }),
          ...(p.item !== undefined && { item: next.repair_item }),
          ...(p.cost !== undefined && { cost: p.cost }),
          callbackDueAt: next.callback_due_at,
        };
      }
      case 'leak-test': {
        const p = payload as ActionPayloads['leak-test'];
        if (p.leakTestAt === undefined) throw new WorkOrderInputError('leak-test needs leakTestAt (epoch ms of the test)');
        next.leak_test_at = this.leakTestTime(p.leakTestAt, row, now);
        this.setDeadlines(next);
        return { leakTestAt: next.leak_test_at, callbackDueAt: next.callback_due_at };
      }
      case 'callback': {
        const p = payload as ActionPayloads['callback'];
        oneOf('outcome', p.outcome, ['satisfied', 'problem']);
        next.callback_at = now;
        next.callback_outcome = p.outcome;
        const record = { outcome: p.outcome, callbackDueAt: row.callback_due_at, onTime: row.callback_due_at === null || now <= row.callback_due_at };
        if (p.outcome === 'satisfied') return record;
        this.restartCycle(next, now);
        return { ...record, responseDueAt: next.response_due_at };
      }
      case 'close':
        next.closed_at = now;
        return {};
      case 'reopen': {
        if (row.state === 'closed' && row.rule_id !== null) {
          const other = this.sql.openForAlarm.get(row.device_id, row.rule_id) as WorkOrderRow | undefined;
          if (other) {
            throw new WorkOrderTransitionError(row.id, 'reopen', row.state, allowedActions(transitionFacts(row)).filter((a) => a !== 'reopen'), `work order ${other.id} is already open for device ${row.device_id} and rule ${row.rule_id}`);
          }
        }
        this.restartCycle(next, now);
        return { responseDueAt: next.response_due_at, callbackDueAt: next.callback_due_at };
      }
    }
  }

  /** Back to the repair team: a new cycle with fresh response and callback deadlines. */
  private restartCycle(next: WorkOrderRow, now: number): void {
    next.state = 'reopened';
    next.reopened_at = now;
    next.reopen_count += 1;
    next.acknowledged_at = null;
    next.started_at = null;
    next.resolved_at = null;
    next.leak_test_at = null;
    next.closed_at = null;
    this.setDeadlines(next);
  }

  private setDeadlines(r: WorkOrderRow): void {
    Object.assign(
      r,
      this.deadlines({ category: r.category, priority: r.priority, createdAt: r.created_at, reopenedAt: r.reopened_at, resolvedAt: r.resolved_at, leakTestAt: r.leak_test_at }),
    );
  }

  private deadlines(facts: DeadlineFacts): Pick<WorkOrderRow, 'response_due_at' | 'callback_due_at'> {
    const callback = callbackDeadline(facts, this.rules);
    return { response_due_at: responseDueAt(facts, this.rules), callback_due_at: callback.status === 'due' ? callback.dueAt : null };
  }

  private leakTestTime(value: unknown, row: WorkOrderRow, now: number): number {
    const at = epoch('leakTestAt', value);
    const from = row.reopened_at ?? row.created_at;
    if (at > now) throw new WorkOrderInputError(`leakTestAt ${new Date(at).toISOString()} is in the future; record a leak test once it is done`);
    if (at < from) throw new WorkOrderInputError(`leakTestAt ${new Date(at).toISOString()} is before this repair began (${new Date(from).toISOString()})`);
    return at;
  }

  private insert(row: NewWorkOrderRow): number {
    const info = this.sql.insert.run({
      ...row,
      updated_at: this.clock(),
      ...this.deadlines({ category: row.category, priority: row.priority, createdAt: row.created_at, reopenedAt: null, resolvedAt: null, leakTestAt: null }),
    });
    return Number(info.lastInsertRowid);
  }

  private appendEvent(
    workOrderId: number,
    at: number,
    by: number | null,
    action: TimelineAction,
    from: WorkOrderState | null,
    to: WorkOrderState,
    comment: string | null,
    details: Record<string, unknown>,
  ): WorkOrderEvent {
    const info = this.sql.insertEvent.run({
      work_order_id: workOrderId,
      at,
      by_user_id: by,
      action,
      from_state: from,
      to_state: to,
      comment,
      details: JSON.stringify(details),
    });
    return toWorkOrderEvent(this.sql.eventById.get(info.lastInsertRowid) as WorkOrderEventRow);
  }

  private change(id: number, event: WorkOrderEvent): WorkOrderChange {
    return { workOrder: toWorkOrder(this.row(id), this.clock()), event };
  }

  private row(id: number): WorkOrderRow {
    if (!Number.isSafeInteger(id)) throw new WorkOrderNotFoundError(id);
    const row = this.sql.byId.get(id) as WorkOrderRow | undefined;
    if (!row) throw new WorkOrderNotFoundError(id);
    return row;
  }

  private requireUser(id: unknown, name: string): void {
    if (!Number.isSafeInteger(id) || !this.sql.userExists.get(id)) throw new WorkOrderInputError(`${name}: user ${String(id)} does not exist`);
  }

  private requireTeam(id: unknown): void {
    if (!Number.isSafeInteger(id) || !this.sql.teamExists.get(id)) throw new WorkOrderInputError(`teamId: team ${String(id)} does not exist`);
  }

  private notify(change: WorkOrderChange): void {
    if (!this.onChange) return;
    try {
      this.onChange(change.workOrder, change.event);
    } catch (err) {
      this.log.error({ err, workOrder: change.workOrder.id, action: change.event.action }, 'work-order change listener failed');
    }
  }
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (!allowed.includes(value as T)) throw new WorkOrderInputError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}

function text(name: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.trim() === '') throw new WorkOrderInputError(`${name} must be a non-empty string`);
  if (value.length > max) throw new WorkOrderInputError(`${name} is longer than ${max} characters`);
  return value.trim();
}

function optionalText(name: string, value: unknown, max: number): string | null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return null;
  return text(name, value, max);
}

function epoch(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new WorkOrderInputError(`${name} must be a UTC epoch in milliseconds, got ${JSON.stringify(value)}`);
  return value;
}

function cents(cost: unknown): number {
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) throw new WorkOrderInputError(`cost must be a non-negative amount, got ${JSON.stringify(cost)}`);
  const c = Math.round(cost * 100);
  if (Math.abs(c - cost * 100) > 1e-6) throw new WorkOrderInputError(`cost has more than 2 decimals: ${cost}`);
  if (!Number.isSafeInteger(c)) throw new WorkOrderInputError(`cost is too large: ${cost}`);
  return c;
}
