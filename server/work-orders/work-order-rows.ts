import { callbackStatus, missedKinds } from './deadlines.ts';
import { allowedActions, type TransitionFacts } from './transitions.ts';
import type {
  CallbackOutcome,
  TimelineAction,
  WorkOrder,
  WorkOrderCategory,
  WorkOrderEvent,
  WorkOrderPriority,
  WorkOrderSource,
  WorkOrderState,
} from './types.ts';

/** A work_orders row as SQLite returns it. */
export interface WorkOrderRow {
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
  callback_outcome: CallbackOutcome | null;
  closed_at: number | null;
  reopened_at: number | null;
  response_due_at: number;
  callback_due_at: number | null;
  repair_item: string | null;
  cost_cents: number | null;
  occurrences: number;
  last_occurrence_at: number;
  reopen_count: number;
}

export interface WorkOrderEventRow {
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

/** What the transition table needs of a row. */
export function transitionFacts(r: WorkOrderRow): TransitionFacts {
  return { state: r.state, category: r.category, leakTestAt: r.leak_test_at };
}

export function toWorkOrder(r: WorkOrderRow, now: number): WorkOrder {
  return {
    id: r.id,
    source: r.source,
    sourceRef: r.source_ref,
    category: r.category,
    priority: r.priority,
    state: r.state,
    title: r.title,
    detail: r.detail,
    building: r.building,
    unit: r.unit,
    deviceId: r.device_id,
    ruleId: r.rule_id,
    reporter: r.reporter,
    createdBy: r.created_by,
    assigneeUserId: r.assignee_user_id,
    assigneeTeamId: r.assignee_team_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    acknowledgedAt: r.acknowledged_at,
    startedAt: r.started_at,
    resolvedAt: r.resolved_at,
    leakTestAt: r.leak_test_at,
    callbackAt: r.callback_at,
    callbackOutcome: r.callback_outcome,
    closedAt: r.closed_at,
    reopenedAt: r.reopened_at,
    responseDueAt: r.response_due_at,
    callbackDueAt: r.callback_due_at,
    callbackStatus: callbackStatus(r.state, r.callback_due_at, r.category, r.resolved_at),
    repairItem: r.repair_item,
    cost: r.cost_cents === null ? null : r.cost_cents / 100,
    occurrences: r.occurrences,
    lastOccurrenceAt: r.last_occurrence_at,
    reopenCount: r.reopen_count,
    overdue: missedKinds({ state: r.state, responseDueAt: r.response_due_at, callbackDueAt: r.callback_due_at }, now),
    allowedActions: allowedActions(transitionFacts(r)),
  };
}

export function toWorkOrderEvent(r: WorkOrderEventRow): WorkOrderEvent {
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
