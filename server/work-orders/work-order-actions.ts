import { withinWindow } from './callback-window.ts';
import { DAY_MS, callbackDeadline, replyDueAt, responseDueAt, type DeadlineRules } from './deadlines.ts';
import { WorkOrderInputError, WorkOrderPermissionError, WorkOrderTransitionError } from './errors.ts';
import { escalationRole, markEscalated, nextLevel, owedEscalations, reasonOf } from './escalation.ts';
import type { Notice } from './notices.ts';
import { allowedActions, guardReason, nextState, statesAllowing, type ActionOutcome } from './transitions.ts';
import {
  WORK_ORDER_TEXT_MAX,
  followUpOf,
  type ActionPayloads,
  type AlarmInput,
  type CreateWorkOrderInput,
  type EscalationReason,
  type MissedDeadline,
  type NewWorkOrderEvent,
  type NewWorkOrderRecord,
  type WorkOrderAction,
  type WorkOrderRecord,
} from './types.ts';
import { transitionFacts } from './work-order-view.ts';

// Pure functions: what a change does to a work order and which timeline entries record it. The
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

/** What the decisions need besides the work order: the estate's deadline rules, and whether anyone is paged. */
export interface DecisionContext {
  rules: DeadlineRules;
  /** The estate has an emergency team (突发事件应急小组) to page on critical work orders. */
  emergencyTeam: boolean;
}

export interface Decision {
  next: WorkOrderRecord;
  event: NewWorkOrderEvent;
  /** Entries the change records after its own, in order (an escalation it causes). */
  also?: NewWorkOrderEvent[];
  /** Who else is told, through the webhook. */
  notices?: Notice[];
}

export interface Creation {
  record: NewWorkOrderRecord;
  event: NewWorkOrderEvent;
  also?: NewWorkOrderEvent[];
  notices?: Notice[];
}

/** Trimmed text, or null when absent or blank. */
export function clean(value: string | undefined | null): string | null {
  const t = value?.trim();
  return t ? t : null;
}

/** Response, reply and callback due times of a work order in its current cycle. */
export function deadlinesOf(
  r: Pick<WorkOrderRecord, 'source' | 'category' | 'priority' | 'followUp' | 'createdAt' | 'reopenedAt' | 'resolvedAt' | 'leakTestAt'>,
  rules: DeadlineRules,
): Pick<WorkOrderRecord, 'responseDueAt' | 'callbackDueAt'> {
  const callback = callbackDeadline(r, rules);
  return { responseDueAt: responseDueAt(r, rules), callbackDueAt: callback.status === 'due' ? callback.dueAt : null };
}

type DraftFields = Pick<
  NewWorkOrderRecord,
  'source' | 'sourceRef' | 'category' | 'priority' | 'title' | 'detail' | 'building' | 'unit' | 'deviceId' | 'ruleId' | 'alarmInstance' | 'reporter' | 'createdBy' | 'peopleTrapped' | 'complaintType'
>;

function draft(fields: DraftFields, createdAt: number, now: number, rules: DeadlineRules): NewWorkOrderRecord {
  const base = {
    ...fields,
    followUp: followUpOf(fields.source),
    state: 'open' as const,
    assigneeUserId: null,
    assigneeTeamId: null,
    createdAt,
    updatedAt: now,
    acknowledgedAt: null,
    startedAt: null,
    resolvedAt: null,
    resolvedBy: null,
    leakTestAt: null,
    qualityCheckedAt: null,
    qualityCheckedBy: null,
    callbackAt: null,
    callbackOutcome: null,
    callbackAttempts: 0,
    satisfaction: null,
    verifiedAt: null,
    closedAt: null,
    reopenedAt: null,
    replyDueAt: replyDueAt({ source: fields.source, createdAt }, rules),
    repliedAt: null,
    escalationLevel: 0 as const,
    escalatedAt: null,
    responseEscalatedFor: null,
    replyEscalatedFor: null,
    callbackEscalatedFor: null,
    repairItem: null,
    costCents: null,
    occurrences: 1,
    lastOccurrenceAt: createdAt,
    reopenCount: 0,
  };
  return { ...base, ...deadlinesOf(base, rules) };
}

/** A critical work order pages the emergency team, reachable 24 hours (domain rule 9). */
function paging(record: NewWorkOrderRecord, at: number, context: DecisionContext): Pick<Creation, 'also' | 'notices'> {
  if (record.priority !== 'critical' || !context.emergencyTeam) return {};
  const reason = record.peopleTrapped ? 'people-trapped' : 'critical';
  return {
    also: [{ at, by: null, action: 'page', fromState: 'open', toState: 'open', comment: null, details: { reason } }],
    notices: [{ kind: 'emergency-page', details: { reason } }],
  };
}

export function creationReferences(input: CreateWorkOrderInput): References {
  return { users: [input.createdBy], teams: [] };
}

/**
 * A work order recorded by a person, with its `create` entry. People trapped in a lift (困人) make
 * it critical whatever priority was given; a complaint needs its type.
 */
export function createWorkOrder(input: CreateWorkOrderInput, now: number, facts: ReferenceFacts, context: DecisionContext): Creation {
  requireUser(facts, input.createdBy, 'createdBy');
  if (input.peopleTrapped && input.category !== 'lift') throw new WorkOrderInputError(`peopleTrapped: people are trapped in a lift; this work order is ${input.category}, not lift`);
  if (input.source === 'complaint' && input.complaintType === undefined) throw new WorkOrderInputError('complaintType: a complaint needs its type (valid, help, enquiry, venting)');
  if (input.source !== 'complaint' && input.complaintType !== undefined) throw new WorkOrderInputError(`complaintType: only complaints have a type; this is a ${input.source} work order`);
  const trapped = input.peopleTrapped === true;
  const record = draft(
    {
      source: input.source,
      sourceRef: clean(input.sourceRef),
      category: input.category,
      priority: trapped ? 'critical' : input.priority,
      title: input.title.trim(),
      detail: clean(input.detail) ?? '',
      building: input.building.trim(),
      unit: clean(input.unit),
      deviceId: clean(input.deviceId),
      ruleId: null,
      alarmInstance: '',
      reporter: clean(input.reporter),
      createdBy: input.createdBy,
      peopleTrapped: trapped,
      complaintType: input.complaintType ?? null,
    },
    now,
    now,
    context.rules,
  );
  return {
    record,
    event: {
      at: now,
      by: input.createdBy,
      action: 'create',
      fromState: null,
      toState: 'open',
      comment: clean(input.comment),
      details: { source: record.source, sourceRef: record.sourceRef, ...(trapped && { peopleTrapped: true }), ...(record.complaintType && { complaintType: record.complaintType }) },
    },
    ...paging(record, now, context),
  };
}

/**
 * A work order opened by an alarm, created at the alarm's time, with its `raise` entry; `related`
 * are the device's other work orders not closed (another zone of the same fire panel).
 */
export function raiseWorkOrder(input: AlarmInput, now: number, context: DecisionContext, related: number[] = []): Creation {
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
      peopleTrapped: false,
      complaintType: null,
    },
    input.at,
    now,
    context.rules,
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
    ...paging(record, input.at, context),
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

function outcomeOf(command: ActionCommand): ActionOutcome | undefined {
  switch (command.action) {
    case 'callback':
      return (command.payload as ActionPayloads['callback']).outcome;
    case 'quality-check':
      return (command.payload as ActionPayloads['quality-check']).result;
    case 'verify':
      return (command.payload as ActionPayloads['verify']).result;
    default:
      return undefined;
  }
}

/**
 * One action by a person (docs/work-orders.md): the work order after it and its timeline entries.
 * Throws WorkOrderTransitionError when the state does not allow it, WorkOrderPermissionError when
 * the repairer would check or call back their own repair, WorkOrderInputError when it names a user
 * or team that does not exist or a time the rules refuse.
 */
export function applyAction(current: WorkOrderRecord, command: ActionCommand, facts: ActionFacts, context: DecisionContext): Decision {
  const { action, by, payload, now } = command;
  const to = nextState(current.state, action, outcomeOf(command));
  const guard = guardReason(transitionFacts(current), action);
  if (to === undefined || guard !== undefined) {
    const reason = to === undefined ? `${action} is allowed from ${statesAllowing(action).join(', ')}` : guard;
    throw new WorkOrderTransitionError(current.id, action, current.state, allowedActions(transitionFacts(current)), reason);
  }
  requireUser(facts, by, 'by');
  const next: WorkOrderRecord = { ...current, state: to, updatedAt: now };
  const decision: Decision = { next, event: { at: now, by, action, fromState: current.state, toState: to, comment: clean(payload.comment), details: {} } };
  decision.event.details = fill(command, current, decision, facts, context);
  return decision;
}

/** Fills `decision.next` (already in its new state) for the action and returns the timeline details. */
function fill(command: ActionCommand, current: WorkOrderRecord, decision: Decision, facts: ActionFacts, context: DecisionContext): Record<string, unknown> {
  const { now, by } = command;
  const { next } = decision;
  const { rules } = context;
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
      next.resolvedBy = by;
      if (p.leakTestAt !== undefined) {
        if (current.category !== 'water-leak') throw new WorkOrderInputError(`leakTestAt: applies to water-leak work orders only, this one is ${current.category}`);
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
    case 'quality-check': {
      const p = command.payload as ActionPayloads['quality-check'];
      notTheRepairer(current, by, 'a repair is quality-checked by someone other than who repaired it');
      if (p.result === 'pass') {
        next.qualityCheckedAt = now;
        next.qualityCheckedBy = by;
        return { result: 'pass' };
      }
      restartCycle(next, now, rules);
      return { result: 'fail', responseDueAt: next.responseDueAt };
    }
    case 'reply': {
      const first = current.repliedAt === null;
      if (first) next.repliedAt = now;
      return { first, replyDueAt: current.replyDueAt, ...(first && { onTime: current.replyDueAt === null || now <= current.replyDueAt }) };
    }
    case 'callback': {
      const p = command.payload as ActionPayloads['callback'];
      notTheRepairer(current, by, 'the callback checks the repairer\'s work and is made by customer service, not by who repaired it');
      const method = p.method ?? 'phone';
      const inWindow = withinWindow(now, rules.callbackWindow, rules.timezone) === now;
      const onTime = current.callbackDueAt === null || now <= current.callbackDueAt;
      if (p.outcome === 'not-home') {
        if (p.satisfaction !== undefined) throw new WorkOrderInputError('satisfaction: the owner was not reached; record satisfaction when they are');
        const retry = p.retryAt ?? now + DAY_MS;
        if (retry <= now) throw new WorkOrderInputError(`retryAt: ${new Date(retry).toISOString()} is not in the future`);
        if (retry > now + 14 * DAY_MS) throw new WorkOrderInputError('retryAt: try again within 14 days');
        next.callbackAttempts = current.callbackAttempts + 1;
        next.callbackDueAt = withinWindow(retry, rules.callbackWindow, rules.timezone);
        return { outcome: 'not-home', method, attempt: next.callbackAttempts, callbackDueAt: current.callbackDueAt, onTime, retryDueAt: next.callbackDueAt, ...(!inWindow && { outsideWindow: true }) };
      }
      if (p.retryAt !== undefined) throw new WorkOrderInputError('retryAt: only a callback that did not reach the owner (not-home) is tried again');
      if (p.satisfaction === undefined) throw new WorkOrderInputError('satisfaction: ask the owner and record it (satisfied, basically-satisfied, dissatisfied)');
      next.callbackAt = now;
      next.callbackOutcome = p.outcome;
      next.satisfaction = p.satisfaction;
      const record = { outcome: p.outcome, method, satisfaction: p.satisfaction, callbackDueAt: current.callbackDueAt, onTime, ...(!inWindow && { outsideWindow: true }) };
      if (p.outcome === 'satisfied') return record;
      // Back to the repair team, and up to the engineering supervisor (domain rules 3 and 9).
      restartCycle(next, now, rules);
      const { event, notice } = escalation(next, current, now, null, 'callback-problem', []);
      decision.also = [event];
      decision.notices = [notice];
      return { ...record, responseDueAt: next.responseDueAt };
    }
    case 'verify': {
      const p = command.payload as ActionPayloads['verify'];
      notTheRepairer(current, by, 'a repair is verified by someone other than who repaired it');
      const onTime = current.callbackDueAt === null || now <= current.callbackDueAt;
      if (p.result === 'ok') {
        next.verifiedAt = now;
        return { result: 'ok', callbackDueAt: current.callbackDueAt, onTime };
      }
      restartCycle(next, now, rules);
      return { result: 'problem', callbackDueAt: current.callbackDueAt, onTime, responseDueAt: next.responseDueAt };
    }
    case 'escalate': {
      const { event, notice } = escalation(next, current, now, by, 'by-hand', []);
      decision.notices = [notice];
      return event.details;
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

/** One level up (domain rule 9): marks `next` and returns the entry and the notice that record it. */
function escalation(next: WorkOrderRecord, current: WorkOrderRecord, now: number, by: number | null, reason: EscalationReason, missed: readonly MissedDeadline[]): { event: NewWorkOrderEvent; notice: Notice } {
  const level = nextLevel(current.escalationLevel);
  const role = escalationRole(level, reason, current);
  next.escalationLevel = level;
  next.escalatedAt = now;
  markEscalated(next, missed);
  const details = { level, role, reason, ...(missed.length > 0 && { missed: missed.map((m) => ({ kind: m.kind, dueAt: m.dueAt })) }) };
  return {
    event: { at: now, by, action: 'escalate', fromState: next.state, toState: next.state, comment: null, details },
    notice: { kind: 'escalation', details: { level, role, reason, missed: missed.map((m) => m.kind) } },
  };
}

/**
 * The escalation a work order owes at `now` for deadlines it missed (domain rule 9), or undefined:
 * one level up, the first missed deadline giving the reason, every missed one marked.
 */
export function escalateOverdue(current: WorkOrderRecord, now: number): Decision | undefined {
  const owed = owedEscalations(current, now);
  if (owed.length === 0) return undefined;
  const next: WorkOrderRecord = { ...current, updatedAt: now };
  const { event, notice } = escalation(next, current, now, null, reasonOf(owed[0]!.kind), owed);
  return { next, event, notices: [notice] };
}

/** Back to the repair team: a new cycle with fresh response and callback deadlines. A complaint's reply deadline stays. */
function restartCycle(next: WorkOrderRecord, now: number, rules: DeadlineRules): void {
  next.state = 'reopened';
  next.reopenedAt = now;
  next.reopenCount += 1;
  next.acknowledgedAt = null;
  next.startedAt = null;
  next.resolvedAt = null;
  next.resolvedBy = null;
  next.leakTestAt = null;
  next.qualityCheckedAt = null;
  next.qualityCheckedBy = null;
  next.callbackAttempts = 0;
  next.verifiedAt = null;
  next.closedAt = null;
  Object.assign(next, deadlinesOf(next, rules));
}

function notTheRepairer(current: WorkOrderRecord, by: number, why: string): void {
  if (current.resolvedBy !== null && current.resolvedBy === by) throw new WorkOrderPermissionError(`work order ${current.id}: ${why} (user ${by} resolved it)`);
}

/** A leak test is recorded once done, and belongs to the current repair cycle. */
function leakTestTime(at: number, current: WorkOrderRecord, now: number): number {
  const from = current.reopenedAt ?? current.createdAt;
  if (at > now) throw new WorkOrderInputError(`leakTestAt: ${new Date(at).toISOString()} is in the future; record a leak test once it is done`);
  if (at < from) throw new WorkOrderInputError(`leakTestAt: ${new Date(at).toISOString()} is before this repair began (${new Date(from).toISOString()})`);
  return at;
}

function requireUser(facts: ReferenceFacts, id: number, field: string): void {
  if (!facts.users.has(id)) throw new WorkOrderInputError(`${field}: user ${id} does not exist`);
}
