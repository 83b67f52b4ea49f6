import { AWAITING_RESPONSE, FOLLOW_UP_MADE } from '../work-orders/deadlines.ts';
import { WorkOrderNotFoundError } from '../work-orders/errors.ts';
import type { Notice } from '../work-orders/notices.ts';
import type { ActionFacts, Creation, Decision, ReferenceFacts, References } from '../work-orders/work-order-actions.ts';
import type {
  CallbackFinding,
  ComplaintType,
  EscalationLevel,
  FollowUp,
  NewWorkOrderEvent,
  NewWorkOrderRecord,
  TimelineAction,
  WorkOrderCategory,
  WorkOrderEvent,
  WorkOrderFilter,
  WorkOrderPriority,
  WorkOrderRecord,
  Satisfaction,
  WorkOrderSource,
  WorkOrderState,
} from '../work-orders/types.ts';
import { UniqueViolationError, first, placeholders, type RecordsClient, type SqlRunner, type SqlValue } from './records-client.ts';

/** A work_orders row. */
interface WorkOrderRow {
  id: number;
  source: WorkOrderSource;
  source_ref: string | null;
  category: WorkOrderCategory;
  priority: WorkOrderPriority;
  state: WorkOrderState;
  title: string;
  detail: string;
  building: string;
  unit: string | null;
  device_id: string | null;
  rule_id: string | null;
  alarm_instance: string;
  reporter: string | null;
  created_by: number | null;
  assignee_user_id: number | null;
  assignee_team_id: number | null;
  created_at: number;
  updated_at: number;
  acknowledged_at: number | null;
  started_at: number | null;
  resolved_at: number | null;
  leak_test_at: number | null;
  callback_at: number | null;
  callback_outcome: CallbackFinding | null;
  closed_at: number | null;
  reopened_at: number | null;
  response_due_at: number;
  callback_due_at: number | null;
  repair_item: string | null;
  cost_cents: number | null;
  occurrences: number;
  last_occurrence_at: number;
  reopen_count: number;
  people_trapped: number;
  complaint_type: ComplaintType | null;
  follow_up: FollowUp;
  resolved_by: number | null;
  quality_checked_at: number | null;
  quality_checked_by: number | null;
  callback_attempts: number;
  satisfaction: Satisfaction | null;
  verified_at: number | null;
  reply_due_at: number | null;
  replied_at: number | null;
  escalation_level: EscalationLevel;
  escalated_at: number | null;
  response_escalated_for: number | null;
  reply_escalated_for: number | null;
  callback_escalated_for: number | null;
}

interface WorkOrderEventRow {
  id: number;
  work_order_id: number;
  at: number;
  by_user_id: number | null;
  action: TimelineAction;
  from_state: WorkOrderState | null;
  to_state: WorkOrderState;
  comment: string | null;
  details: string;
}

/** Column of each stored field. */
const COLUMNS = {
  source: 'source',
  sourceRef: 'source_ref',
  category: 'category',
  priority: 'priority',
  state: 'state',
  title: 'title',
  detail: 'detail',
  building: 'building',
  unit: 'unit',
  deviceId: 'device_id',
  ruleId: 'rule_id',
  alarmInstance: 'alarm_instance',
  reporter: 'reporter',
  createdBy: 'created_by',
  assigneeUserId: 'assignee_user_id',
  assigneeTeamId: 'assignee_team_id',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  acknowledgedAt: 'acknowledged_at',
  startedAt: 'started_at',
  resolvedAt: 'resolved_at',
  leakTestAt: 'leak_test_at',
  callbackAt: 'callback_at',
  callbackOutcome: 'callback_outcome',
  closedAt: 'closed_at',
  reopenedAt: 'reopened_at',
  responseDueAt: 'response_due_at',
  callbackDueAt: 'callback_due_at',
  repairItem: 'repair_item',
  costCents: 'cost_cents',
  occurrences: 'occurrences',
  lastOccurrenceAt: 'last_occurrence_at',
  reopenCount: 'reopen_count',
  peopleTrapped: 'people_trapped',
  complaintType: 'complaint_type',
  followUp: 'follow_up',
  resolvedBy: 'resolved_by',
  qualityCheckedAt: 'quality_checked_at',
  qualityCheckedBy: 'quality_checked_by',
  callbackAttempts: 'callback_attempts',
  satisfaction: 'satisfaction',
  verifiedAt: 'verified_at',
  replyDueAt: 'reply_due_at',
  repliedAt: 'replied_at',
  escalationLevel: 'escalation_level',
  escalatedAt: 'escalated_at',
  responseEscalatedFor: 'response_escalated_for',
  replyEscalatedFor: 'reply_escalated_for',
  callbackEscalatedFor: 'callback_escalated_for',
} as const satisfies { [K in keyof NewWorkOrderRecord]-?: keyof WorkOrderRow };

type Field = keyof typeof COLUMNS;
const FIELDS = Object.keys(COLUMNS) as Field[];

/** What a change may alter after creation; written back as a whole. */
const CHANGEABLE: readonly Field[] = [
  'state',
  'assigneeUserId',
  'assigneeTeamId',
  'updatedAt',
  'acknowledgedAt',
  'startedAt',
  'resolvedAt',
  'leakTestAt',
  'callbackAt',
  'callbackOutcome',
  'closedAt',
  'reopenedAt',
  'responseDueAt',
  'callbackDueAt',
  'repairItem',
  'costCents',
  'occurrences',
  'lastOccurrenceAt',
  'reopenCount',
  'resolvedBy',
  'qualityCheckedAt',
  'qualityCheckedBy',
  'callbackAttempts',
  'satisfaction',
  'verifiedAt',
  'repliedAt',
  'escalationLevel',
  'escalatedAt',
  'responseEscalatedFor',
  'replyEscalatedFor',
  'callbackEscalatedFor',
];

/** Stored as integers 0/1 in every dialect. */
const FLAGS: readonly Field[] = ['peopleTrapped'];

const INSERT_SQL = `INSERT INTO work_orders (${FIELDS.map((f) => COLUMNS[f]).join(', ')}) VALUES (${placeholders(FIELDS)}) RETURNING *`;
const UPDATE_SQL = `UPDATE work_orders SET ${CHANGEABLE.map((f) => `${COLUMNS[f]} = ?`).join(', ')} WHERE id = ? RETURNING *`;
const INSERT_EVENT_SQL =
  'INSERT INTO work_order_events (work_order_id, at, by_user_id, action, from_state, to_state, comment, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *';
const INSERT_NOTIFICATION_SQL = 'INSERT INTO notifications (work_order_id, event_id, kind, details, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)';
const OPEN_FOR_ALARM_SQL = "SELECT * FROM work_orders WHERE device_id = ? AND rule_id = ? AND alarm_instance = ? AND state <> 'closed'";
const OPEN_OF_DEVICE_SQL = "SELECT id FROM work_orders WHERE device_id = ? AND state <> 'closed' ORDER BY id";

/** The overdue conditions of docs/work-orders.md as SQL, with their parameters (now last). */
function responseOverdue(now: number): [string, SqlValue[]] {
  return [`(state IN (${placeholders(AWAITING_RESPONSE)}) AND response_due_at < ?)`, [...AWAITING_RESPONSE, now]];
}
function replyOverdue(now: number): [string, SqlValue[]] {
  return ["(reply_due_at IS NOT NULL AND replied_at IS NULL AND state <> 'closed' AND reply_due_at < ?)", [now]];
}
function followUpOverdue(now: number, followUp?: FollowUp): [string, SqlValue[]] {
  const which = followUp === undefined ? '' : ' AND follow_up = ?';
  return [
    `(state NOT IN (${placeholders(FOLLOW_UP_MADE)}) AND callback_due_at IS NOT NULL AND callback_due_at < ?${which})`,
    [...FOLLOW_UP_MADE, now, ...(followUp === undefined ? [] : [followUp])],
  ];
}
function overdue(now: number): [string, SqlValue[]] {
  const parts = [responseOverdue(now), replyOverdue(now), followUpOverdue(now)];
  return [`(${parts.map(([sql]) => sql).join(' OR ')})`, parts.flatMap(([, p]) => p)];
}

function toRecord(r: WorkOrderRow): WorkOrderRecord {
  const record = { id: r.id } as WorkOrderRecord;
  const target = record as unknown as Record<Field, unknown>;
  for (const f of FIELDS) target[f] = r[COLUMNS[f]];
  for (const f of FLAGS) target[f] = Boolean(target[f]);
  return record;
}

/** A field as a parameter: flags as 0/1. */
function value(record: NewWorkOrderRecord, f: Field): SqlValue {
  const v = record[f];
  return typeof v === 'boolean' ? (v ? 1 : 0) : (v as SqlValue);
}

function toEvent(r: WorkOrderEventRow): WorkOrderEvent {
  return {
    id: r.id,
    workOrderId: r.work_order_id,
    at: r.at,
    by: r.by_user_id,
    action: r.action,
    fromState: r.from_state,
    toState: r.to_state,
    comment: r.comment,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

/** The timeline entries a month's statistics count. */
const MONTH_ACTIONS = ['quality-check', 'callback', 'verify', 'escalate'] as const;

export interface MonthFacts {
  workOrders: WorkOrderRecord[];
  events: WorkOrderEvent[];
  acknowledgements: WorkOrderEvent[];
}

/** A committed change: the work order as stored and the timeline entries that record it, its own first. */
export interface StoredChange {
  record: WorkOrderRecord;
  event: WorkOrderEvent;
  /** Entries the change recorded after its own (paging, an escalation it caused). */
  also: WorkOrderEvent[];
}

export interface WorkOrderCountRows {
  byState: Array<{ state: WorkOrderState; n: number }>;
  /** Not closed, per category. */
  openByCategory: Array<{ category: WorkOrderCategory; n: number }>;
  responseOverdue: number;
  replyOverdue: number;
  callbackOverdue: number;
  verificationOverdue: number;
  leakTestPending: number;
  escalated: Array<{ level: number; n: number }>;
}

/**
 * Work orders and their timeline (tables of migration 1). Every change is one transaction that
 * reads the work order (locked for the transaction), lets a pure function of server/work-orders
 * decide, and writes the work order with its timeline entry.
 */
export class WorkOrderRepository {
  constructor(private readonly client: RecordsClient) {}

  /** Stores a new work order and its first timeline entry once `decide` has seen who exists. */
  async create(refs: References, decide: (facts: ReferenceFacts) => Creation): Promise<StoredChange> {
    return this.client.transaction(async (tx) => {
      return insert(tx, decide(await referenceFacts(tx, refs)));
    });
  }

  /**
   * One action on work order `id`: reads it and the facts, `decide` computes the new work order and
   * its timeline entry (or throws, and nothing is written).
   */
  async act(id: number, refs: References, decide: (current: WorkOrderRecord, facts: ActionFacts) => Decision): Promise<StoredChange> {
    return this.client.transaction(async (tx) => {
      const current = await lock(tx, id);
      const facts: ActionFacts = { ...(await referenceFacts(tx, refs)), openForSameAlarm: null };
      if (current.deviceId !== null && current.ruleId !== null) {
        const other = await tx.query<{ id: number }>(
          "SELECT id FROM work_orders WHERE device_id = ? AND rule_id = ? AND alarm_instance = ? AND state <> 'closed' AND id <> ?",
          [current.deviceId, current.ruleId, current.alarmInstance, id],
        );
        facts.openForSameAlarm = first(other)?.id ?? null;
      }
      return update(tx, decide(current, facts));
    });
  }

  /**
   * The escalations owed at `now`: each work order past a deadline is read again (locked) and
   * `decide` says whether it owes one; those that do are written, each in its own transaction.
   */
  async escalate(now: number, decide: (current: WorkOrderRecord) => Decision | undefined): Promise<StoredChange[]> {
    const [sql, params] = overdue(now);
    const ids = await this.client.query<{ id: number }>(`SELECT id FROM work_orders WHERE ${sql} ORDER BY id`, params);
    const changes: StoredChange[] = [];
    for (const { id } of ids) {
      const change = await this.client.transaction(async (tx) => {
        const decision = decide(await lock(tx, id));
        return decision && update(tx, decision);
      });
      if (change) changes.push(change);
    }
    return changes;
  }

  /**
   * The work order of an alarm point: `decide` gets the one not closed for the device, rule and
   * instance, if any, with the other work orders of the device not closed (`related`), and says
   * whether to add to it or to open one. The partial unique index of migration 6 keeps it to one
   * per alarm point across processes; a writer that loses that race runs again and adds.
   */
  async raiseForAlarm(
    point: { deviceId: string; ruleId: string; instance: string },
    decide: (open: WorkOrderRecord | undefined, related: number[]) => ({ created: true } & Creation) | ({ created: false } & Decision),
  ): Promise<StoredChange & { created: boolean }> {
    const attempt = () =>
      this.client.transaction(async (tx) => {
        const row = first(await tx.query<WorkOrderRow>(OPEN_FOR_ALARM_SQL, [point.deviceId, point.ruleId, point.instance], { forUpdate: true }));
        const related = row ? [] : (await tx.query<{ id: number }>(OPEN_OF_DEVICE_SQL, [point.deviceId])).map((r) => r.id);
        const outcome = decide(row && toRecord(row), related);
        if (outcome.created) return { ...(await insert(tx, outcome)), created: true };
        return { ...(await update(tx, outcome)), created: false };
      });
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof UniqueViolationError)) throw err;
      return attempt();
    }
  }

  /** Work orders by id, in id order; unknown ids are left out. */
  async byIds(ids: readonly number[]): Promise<WorkOrderRecord[]> {
    if (ids.length === 0) return [];
    return (await this.client.query<WorkOrderRow>(`SELECT * FROM work_orders WHERE id IN (${placeholders(ids)}) ORDER BY id`, [...ids])).map(toRecord);
  }

  /** A work order and its timeline, read together. */
  async withTimeline(id: number): Promise<{ record: WorkOrderRecord; timeline: WorkOrderEvent[] }> {
    return this.client.transaction(async (tx) => {
      const record = await find(tx, id);
      const events = await tx.query<WorkOrderEventRow>('SELECT * FROM work_order_events WHERE work_order_id = ? ORDER BY id', [id]);
      return { record, timeline: events.map(toEvent) };
    });
  }

  /** One page, newest first, and how many match. `now` decides what is overdue. */
  async page(filter: WorkOrderFilter, now: number, page: number, limit: number): Promise<{ records: WorkOrderRecord[]; total: number }> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const anyOf = (column: string, values: readonly string[]) => {
      where.push(`${column} IN (${placeholders(values)})`);
      params.push(...values);
    };
    if (filter.state !== undefined) anyOf('state', typeof filter.state === 'string' ? [filter.state] : filter.state);
    if (filter.category !== undefined) anyOf('category', typeof filter.category === 'string' ? [filter.category] : filter.category);
    if (filter.source !== undefined) anyOf('source', [filter.source]);
    const equal = { building: 'building', unit: 'unit', deviceId: 'device_id', assigneeUserId: 'assignee_user_id', assigneeTeamId: 'assignee_team_id' } as const;
    for (const [key, column] of Object.entries(equal) as Array<[keyof typeof equal, string]>) {
      const value = filter[key];
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    if (filter.escalatedTo !== undefined) {
      where.push('escalation_level >= ?');
      params.push(filter.escalatedTo);
    }
    if (filter.overdue !== undefined) {
      const [sql, p] = overdue(now);
      where.push(filter.overdue ? sql : `NOT ${sql}`);
      params.push(...p);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [count] = await this.client.query<{ n: number }>(`SELECT COUNT(*) AS n FROM work_orders ${clause}`, params);
    const rows = await this.client.query<WorkOrderRow>(`SELECT * FROM work_orders ${clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, [
      ...params,
      limit,
      (page - 1) * limit,
    ]);
    return { records: rows.map(toRecord), total: count!.n };
  }

  /** How many work orders alarms opened in [from, to). */
  async openedByAlarms(from: number, to: number): Promise<number> {
    const [row] = await this.client.query<{ n: number }>("SELECT COUNT(*) AS n FROM work_orders WHERE source = 'alarm' AND created_at >= ? AND created_at < ?", [from, to]);
    return row!.n;
  }

  /** Work orders past their response or callback deadline at `now`. */
  async overdue(now: number): Promise<WorkOrderRecord[]> {
    const [sql, params] = overdue(now);
    return (await this.client.query<WorkOrderRow>(`SELECT * FROM work_orders WHERE ${sql}`, params)).map(toRecord);
  }

  /**
   * What a month's statistics are counted from: the work orders created in it or in the 30 days
   * before (recurring problems), those with a reply or callback due in it or a timeline entry in it;
   * the entries of [from, to) that count; and the acknowledgements of the work orders created in it.
   */
  async monthFacts(from: number, to: number, recurringMs: number): Promise<MonthFacts> {
    return this.client.transaction(async (tx) => {
      const rows = await tx.query<WorkOrderRow>(
        `SELECT * FROM work_orders WHERE created_at < ? AND (created_at >= ? OR (callback_due_at >= ? AND callback_due_at < ?) OR (reply_due_at >= ? AND reply_due_at < ?)
           OR id IN (SELECT work_order_id FROM work_order_events WHERE at >= ? AND at < ?)) ORDER BY id`,
        [to, from - recurringMs, from, to, from, to, from, to],
      );
      const events = await tx.query<WorkOrderEventRow>(
        `SELECT * FROM work_order_events WHERE at >= ? AND at < ? AND action IN (${placeholders(MONTH_ACTIONS)}) ORDER BY id`,
        [from, to, ...MONTH_ACTIONS],
      );
      const acknowledgements = await tx.query<WorkOrderEventRow>(
        "SELECT e.* FROM work_order_events e JOIN work_orders w ON w.id = e.work_order_id WHERE w.created_at >= ? AND w.created_at < ? AND e.action = 'acknowledge' ORDER BY e.id",
        [from, to],
      );
      return { workOrders: rows.map(toRecord), events: events.map(toEvent), acknowledgements: acknowledgements.map(toEvent) };
    });
  }

  async counts(now: number): Promise<WorkOrderCountRows> {
    const count = async ([sql, params]: [string, SqlValue[]]) => (await this.client.query<{ n: number }>(`SELECT COUNT(*) AS n FROM work_orders WHERE ${sql}`, params))[0]!.n;
    return {
      byState: await this.client.query('SELECT state, COUNT(*) AS n FROM work_orders GROUP BY state'),
      openByCategory: await this.client.query("SELECT category, COUNT(*) AS n FROM work_orders WHERE state <> 'closed' GROUP BY category"),
      responseOverdue: await count(responseOverdue(now)),
      replyOverdue: await count(replyOverdue(now)),
      callbackOverdue: await count(followUpOverdue(now, 'callback')),
      verificationOverdue: await count(followUpOverdue(now, 'verification')),
      leakTestPending: await count(["state IN ('resolved', 'quality_checked') AND category = 'water-leak' AND leak_test_at IS NULL", []]),
      escalated: await this.client.query("SELECT escalation_level AS level, COUNT(*) AS n FROM work_orders WHERE state <> 'closed' AND escalation_level > 0 GROUP BY escalation_level"),
    };
  }
}

async function find(tx: SqlRunner, id: number, forUpdate = false): Promise<WorkOrderRecord> {
  const row = first(await tx.query<WorkOrderRow>('SELECT * FROM work_orders WHERE id = ?', [id], { forUpdate }));
  if (!row) throw new WorkOrderNotFoundError(id);
  return toRecord(row);
}

function lock(tx: SqlRunner, id: number): Promise<WorkOrderRecord> {
  return find(tx, id, true);
}

async function referenceFacts(tx: SqlRunner, refs: References): Promise<ReferenceFacts> {
  const ids = async (table: 'users' | 'teams', wanted: number[]) => {
    if (wanted.length === 0) return new Set<number>();
    const rows = await tx.query<{ id: number }>(`SELECT id FROM ${table} WHERE id IN (${placeholders(wanted)})`, wanted);
    return new Set(rows.map((r) => r.id));
  };
  return { users: await ids('users', refs.users), teams: await ids('teams', refs.teams) };
}

async function insert(tx: SqlRunner, { record, event, also = [], notices = [] }: Creation): Promise<StoredChange> {
  const [row] = await tx.query<WorkOrderRow>(
    INSERT_SQL,
    FIELDS.map((f) => value(record, f)),
  );
  return appendAll(tx, toRecord(row!), event, also, notices);
}

async function update(tx: SqlRunner, { next, event, also = [], notices = [] }: Decision): Promise<StoredChange> {
  const [row] = await tx.query<WorkOrderRow>(UPDATE_SQL, [...CHANGEABLE.map((f) => value(next, f)), next.id]);
  return appendAll(tx, toRecord(row!), event, also, notices);
}

/** The change's timeline entries, then its notices, each linked to the entry that records it. */
async function appendAll(tx: SqlRunner, record: WorkOrderRecord, first: NewWorkOrderEvent, also: NewWorkOrderEvent[], notices: Notice[]): Promise<StoredChange> {
  const event = await append(tx, record.id, first);
  const rest: WorkOrderEvent[] = [];
  for (const e of also) rest.push(await append(tx, record.id, e));
  for (const notice of notices) {
    const action = notice.kind === 'escalation' ? 'escalate' : 'page';
    const linked = [event, ...rest].find((e) => e.action === action);
    const at = linked?.at ?? record.updatedAt;
    await tx.run(INSERT_NOTIFICATION_SQL, [record.id, linked?.id ?? null, notice.kind, JSON.stringify(notice.details), at, at]);
  }
  return { record, event, also: rest };
}

async function append(tx: SqlRunner, workOrderId: number, e: NewWorkOrderEvent): Promise<WorkOrderEvent> {
  const [row] = await tx.query<WorkOrderEventRow>(INSERT_EVENT_SQL, [workOrderId, e.at, e.by, e.action, e.fromState, e.toState, e.comment, JSON.stringify(e.details)]);
  return toEvent(row!);
}
