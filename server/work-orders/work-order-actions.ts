import { callbackDeadline, responseDueAt, type DeadlineRules } from './deadlines.ts';
import { WorkOrderInputError, WorkOrderTransitionError } from './errors.ts';
import { allowedActions, guardReason, nextState, statesAllowing } from './transitions.ts';
import {
  WORK_ORDER_TEXT_MAX,
  type ActionPayloads,
  type AlarmInput,
  type CreateWorkOrderInput,
  type NewWorkOrderEvent,
  type NewWorkOrderRecord,
  type WorkOrderAction,
  type WorkOrderRecord,
} from './types.ts';
import { transitionFacts } from './work-order-view.ts';

// Pure functions: what a change does to a work order and which timeline entry records it. The
// records layer reads the work order and the facts, calls one of these, and writes the result
// in the same transaction.

/** What the records say about the users and teams a change names. */
export interface ReferenceFacts {
  /** Those of the named users that exist. */
  users: ReadonlySet<number>;
  /** Those of the named teams that exist. */
  teams: ReadonlySet<number>;
}

export interface ActionFacts extends ReferenceFacts {
  /** Another work order, not closed, of the same device and rule (alarm work orders), or null. */
  openForSameAlarm: number | null;
}

/** The users and teams a change names, to be looked up as ReferenceFacts. */
export interface References {
  users: number[];
  teams: number[];
}

export interface ActionCommand<A extends WorkOrderAction = WorkOrderAction> {
  action: A;
  by: number;
  payload: ActionPayloads[A];
  now: number;
}

export interface Decision {
  next: WorkOrderRecord;
  event: NewWorkOrderEvent;
}

export interface Creation {
  record: NewWorkOrderRecord;
  event: NewWorkOrderEvent;
}

/** Trimmed text, or null when absent or blank. */
export function clean(value: string | undefined | null): string | null {
  const t = value?.trim();
  return t ? t : null;
}

/** Response and callback due times of a work order in its current cycle. */
export function deadlinesOf(
  r: Pick<WorkOrderRecord, 'category' | 'priority' | 'createdAt' | 'reopenedAt' | 'resolvedAt' | 'leakTestAt'>,
  rules: DeadlineRules,
): Pick<WorkOrderRecord, 'responseDueAt' | 'callbackDueAt'> {
  const callback = callbackDeadline(r, rules);
  return { responseDueAt: responseDueAt(r, rules), callbackDueAt: callback.status === 'due' ? callback.dueAt : null };
}

function draft(
  fields: Pick<NewWorkOrderRecord, 'source' | 'sourceRef' | 'category' | 'priority' | 'title' | 'detail' | 'building' | 'unit' | 'deviceId' | 'ruleId' | 'alarmInstance' | 'reporter' | 'createdBy'>,
  createdAt: number,
  now: number,
  rules: DeadlineRules,
): NewWorkOrderRecord {
  const base = {
    ...fields,
    state: 'open' as const,
    assigneeUserId: null,
    assigneeTeamId: null,
    createdAt,
    updatedAt: now,
    acknowledgedAt: null,
    startedAt: null,
    resolvedAt: null,
    leakTestAt: null,
    callbackAt: null,
    callbackOutcome: null,
    closedAt: null,
    reopenedAt: null,
    repairItem: null,
    costCents: null,
    occurrences: 1,
    lastOccurrenceAt: createdAt,
    reopenCount: 0,
  };
  return { ...base, ...deadlinesOf(base, rules) };
}

export function creationReferences(input: CreateWorkOrderInput): References {
  return { users: [input.createdBy], teams: [] };
}

/** A work order recorded by a person, with its `create` entry. */
export function createWorkOrder(input: CreateWorkOrderInput, now: number, facts: ReferenceFacts, rules: DeadlineRules): Creation {
  requireUser(facts, input.createdBy, 'createdBy');
  const record = draft(
    {
      source: input.source,
      sourceRef: clean(input.sourceRef),
      category: input.category,
      priority: input.priority,
      title: input.title.trim(),
      detail: clean(input.detail) ?? '',
      building: input.building.trim(),
      unit: clean(input.unit),
      deviceId: clean(input.deviceId),
      ruleId: null,
      alarmInstance: '',
      reporter: clean(input.reporter),
      createdBy: input.createdBy,
    },
    now,
    now,
    rules,
  );
  return {
    record,
    event: { at: now, by: input.createdBy, action: 'create', fromState: null, toState: 'open', comment: clean(input.comment), details: { source: record.source, sourceRef: record.sourceRef } },
  };
}

/**
 * A work order opened by an alarm, created at the alarm's time, with its `raise` entry; `related`
 * are the device's other work orders not closed (another zone of the same fire panel).
 */
export function raiseWorkOrder(input: AlarmInput, now: number, rules: DeadlineRules, related: number[] = []): Creation {
  const relatedLine = related.length > 0 ? `\nrelated open work orders of ${input.deviceId}: ${related.map((id) => `#${id}`).join(', ')}` : '';
  const record = draft(
    {
      source: 'alarm',
      sourceRef: null,
      category: input.category,
      priority: input.priority,
      title: input.title.trim(),
      detail: ((clean(input.detail) ?? '') + relatedLine).trim().slice(0, WORK_ORDER_TEXT_MAX.detail),
      building: input.building,
      unit: clean(input.unit),
      deviceId: input.deviceId,
      ruleId: input.ruleId,
      alarmInstance: input.instance ?? '',
      reporter: null,
      createdBy: null,
    },
    input.at,
    now,
    rules,
  );
  return {
    record,
    event: {
      at: input.at,
      by: null,
      action: 'raise',
      fromState: null,
      toState: 'open',
      comment: null,
      details: { deviceId: input.deviceId, ruleId: input.ruleId, ...(record.alarmInstance ? { instance: record.alarmInstance } : {}), detail: record.detail, ...(related.length > 0 ? { related } : {}) },
    },
  };
}

/** A repeat of the alarm of a work order that is not closed: one more occurrence, whatever its state. */
export function alarmOccurrence(open: WorkOrderRecord, input: AlarmInput, now: number): Decision {
  return {
    next: { ...open, occurrences: open.occurrences + 1, lastOccurrenceAt: Math.max(open.lastOccurrenceAt, input.at), updatedAt: now },
    event: {
      at: input.at,
      by: null,
      action: 'occurrence',
      fromState: open.state,
      toState: open.state,
      comment: null,
      details: { occurrence: open.occurrences + 1, priority: input.priority, title: input.title.trim(), detail: clean(input.detail) ?? '' },
    },
  };
}

export function actionReferences(command: ActionCommand): References {
  const users = [command.by];
  const teams: number[] = [];
  if (command.action === 'assign') {
    const p = command.payload as ActionPayloads['assign'];
    if (p.userId !== undefined && p.userId !== null) users.push(p.userId);
    if (p.teamId !== undefined && p.teamId !== null) teams.push(p.teamId);
  }
  return { users, teams };
}

/**
 * One action by a person (docs/work-orders.md): the work order after it and its timeline entry.
 * Throws WorkOrderTransitionError when the state does not allow it, WorkOrderInputError when it
 * names a user or team that does not exist or a leak-test time the rules refuse.
 */
export function applyAction(current: WorkOrderRecord, command: ActionCommand, facts: ActionFacts, rules: DeadlineRules): Decision {
  const { action, by, payload, now } = command;
  const to = nextState(current.state, action, action === 'callback' ? (payload as ActionPayloads['callback']).outcome : undefined);
  const guard = guardReason(transitionFacts(current), action);
  if (to === undefined || guard !== undefined) {
    const reason = to === undefined ? `${action} is allowed from ${statesAllowing(action).join(', ')}` : guard;
    throw new WorkOrderTransitionError(current.id, action, current.state, allowedActions(transitionFacts(current)), reason);
  }
  requireUser(facts, by, 'by');
  const next: WorkOrderRecord = { ...current, state: to, updatedAt: now };
  const details = fill(command, current, next, facts, rules);
  return { next, event: { at: now, by, action, fromState: current.state, toState: to, comment: clean(payload.comment), details } };
}

/** Fills `next` (already in its new state) for the action and returns the timeline details. */
function fill(command: ActionCommand, current: WorkOrderRecord, next: WorkOrderRecord, facts: ActionFacts, rules: DeadlineRules): Record<string, unknown> {
  const { now } = command;
  switch (command.action) {
    case 'acknowledge':
      next.acknowledgedAt = now;
      return { responseDueAt: current.responseDueAt, onTime: now <= current.responseDueAt };
    case 'assign': {
      const p = command.payload as ActionPayloads['assign'];
      if (p.userId !== undefined && p.userId !== null) requireUser(facts, p.userId, 'userId');
      if (p.teamId !== undefined && p.teamId !== null && !facts.teams.has(p.teamId)) throw new WorkOrderInputError(`teamId: team ${p.teamId} does not exist`);
      if (p.userId !== undefined) next.assigneeUserId = p.userId;
      if (p.teamId !== undefined) next.assigneeTeamId = p.teamId;
      return { userId: next.assigneeUserId, teamId: next.assigneeTeamId, previousUserId: current.assigneeUserId, previousTeamId: current.assigneeTeamId };
    }
    case 'start':
      next.startedAt = now;
      return {};
    case 'resolve': {
      const p = command.payload as ActionPayloads['resolve'];
      next.resolvedAt = now;
      if (p.leakTestAt !== undefined) {
        if (current.category !== 'water-leak') throw new WorkOrderInputError(`leakTestAt applies to water-leak work orders only, this one is ${current.category}`);
        next.leakTestAt = leakTestTime(p.leakTestAt, current, now);
      }
      if (p.item !== undefined) next.repairItem = clean(p.item);
      if (p.cost !== undefined) next.costCents = Math.round(p.cost * 100);
      Object.assign(next, deadlinesOf(next, rules));
      return {
        ...(p.leakTestAt !== undefined && { leakTestAt: next.leakTestAt }),
        ...(p.item !== undefined && { item: next.repairItem }),
        ...(p.cost !== undefined && { cost: p.cost }),
        callbackDueAt: next.callbackDueAt,
      };
    }
    case 'leak-test': {
      const p = command.payload as ActionPayloads['leak-test'];
      next.leakTestAt = leakTestTime(p.leakTestAt, current, now);
      Object.assign(next, deadlinesOf(next, rules));
      return { leakTestAt: next.leakTestAt, callbackDueAt: next.callbackDueAt };
    }
    case 'callback': {
      const p = command.payload as ActionPayloads['callback'];
      next.callbackAt = now;
      next.callbackOutcome = p.outcome;
      const record = { outcome: p.outcome, callbackDueAt: current.callbackDueAt, onTime: current.callbackDueAt === null || now <= current.callbackDueAt };
      if (p.outcome === 'satisfied') return record;
      restartCycle(next, now, rules);
      return { ...record, responseDueAt: next.responseDueAt };
    }
    case 'close':
      next.closedAt = now;
      return {};
    case 'reopen': {
      if (current.state === 'closed' && facts.openForSameAlarm !== null) {
        throw new WorkOrderTransitionError(
          current.id,
          'reopen',
          current.state,
          allowedActions(transitionFacts(current)).filter((a) => a !== 'reopen'),
          `work order ${facts.openForSameAlarm} is already open for device ${current.deviceId} and rule ${current.ruleId}${current.alarmInstance ? ` (${current.alarmInstance})` : ''}`,
        );
      }
      restartCycle(next, now, rules);
      return { responseDueAt: next.responseDueAt, callbackDueAt: next.callbackDueAt };
    }
  }
}

/** Back to the repair team: a new cycle with fresh response and callback deadlines. */
function restartCycle(next: WorkOrderRecord, now: number, rules: DeadlineRules): void {
  next.state = 'reopened';
  next.reopenedAt = now;
  next.reopenCount += 1;
  next.acknowledgedAt = null;
  next.startedAt = null;
  next.resolvedAt = null;
  next.leakTestAt = null;
  next.closedAt = null;
  Object.assign(next, deadlinesOf(next, rules));
}

/** A leak test is recorded once done, and belongs to the current repair cycle. */
function leakTestTime(at: number, current: WorkOrderRecord, now: number): number {
  const from = current.reopenedAt ?? current.createdAt;
  if (at > now) throw new WorkOrderInputError(`leakTestAt ${new Date(at).toISOString()} is in the future; record a leak test once it is done`);
  if (at < from) throw new WorkOrderInputError(`leakTestAt ${new Date(at).toISOString()} is before this repair began (${new Date(from).toISOString()})`);
  return at;
}

function requireUser(facts: ReferenceFacts, id: number, field: string): void {
  if (!facts.users.has(id)) throw new WorkOrderInputError(`${field}: user ${id} does not exist`);
}
