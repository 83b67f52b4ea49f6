export const WORK_ORDER_CATEGORIES = ['fire-safety', 'water-leak', 'electrical', 'access-security', 'general', 'complaint'] as const;
export type WorkOrderCategory = (typeof WORK_ORDER_CATEGORIES)[number];

export const WORK_ORDER_PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type WorkOrderPriority = (typeof WORK_ORDER_PRIORITIES)[number];

export const WORK_ORDER_STATES = ['open', 'acknowledged', 'in_progress', 'resolved', 'callback_done', 'closed', 'reopened'] as const;
export type WorkOrderState = (typeof WORK_ORDER_STATES)[number];

/** What people do to a work order; each is one timeline entry. */
export const WORK_ORDER_ACTIONS = ['acknowledge', 'assign', 'start', 'resolve', 'leak-test', 'callback', 'close', 'reopen'] as const;
export type WorkOrderAction = (typeof WORK_ORDER_ACTIONS)[number];

/** Where a work order came from. `alarm` only through raiseFromAlarm. */
export const WORK_ORDER_SOURCES = ['alarm', 'manual', 'complaint', 'inspection', 'handover'] as const;
export type WorkOrderSource = (typeof WORK_ORDER_SOURCES)[number];
export type ManualWorkOrderSource = Exclude<WorkOrderSource, 'alarm'>;

export type CallbackOutcome = 'satisfied' | 'problem';

/**
 * Longest texts of a work order, in characters. The API's request schemas enforce them
 * (server/routes/schemas/work-order.ts); code that writes a work order itself (alarms) keeps to them.
 */
export const WORK_ORDER_TEXT_MAX = { title: 200, detail: 4000, comment: 4000, item: 500, reporter: 200, place: 200 } as const;

/** Highest repair cost, in currency units (2 decimals), so that cents stay exact integers. */
export const WORK_ORDER_COST_MAX = 10_000_000;

/** Pages of a work-order list. */
export const WORK_ORDER_PAGE = { defaultLimit: 50, maxLimit: 500 } as const;

/** Timeline entries: the actions, plus what the system records on its own. */
export type TimelineAction = WorkOrderAction | 'create' | 'raise' | 'occurrence';

export type DeadlineKind = 'response' | 'callback';

/** Why a callback has no due time yet. */
export type CallbackStatus = 'not-resolved' | 'leak-test-pending' | 'due' | 'done';

export interface WorkOrder {
  id: number;
  source: WorkOrderSource;
  /** Id of what raised it in another module (inspection task, handover defect), if any. */
  sourceRef: string | null;
  category: WorkOrderCategory;
  priority: WorkOrderPriority;
  state: WorkOrderState;
  title: string;
  detail: string;
  building: string;
  unit: string | null;
  deviceId: string | null;
  ruleId: string | null;
  /** The instance of the alarm point that raised it (a fire zone, a connection); '' for none. */
  alarmInstance: string;
  /** Owner or caller as given (name, phone), for callbacks. */
  reporter: string | null;
  /** null when raised by the system (an alarm). */
  createdBy: number | null;
  assigneeUserId: number | null;
  assigneeTeamId: number | null;
  createdAt: number;
  updatedAt: number;
  acknowledgedAt: number | null;
  startedAt: number | null;
  resolvedAt: number | null;
  leakTestAt: number | null;
  callbackAt: number | null;
  callbackOutcome: CallbackOutcome | null;
  closedAt: number | null;
  reopenedAt: number | null;
  /** Acknowledge before this (counted from creation, or from the last reopening). */
  responseDueAt: number;
  /** Call back before this; null while the callback is not due yet (see callbackStatus). */
  callbackDueAt: number | null;
  callbackStatus: CallbackStatus;
  /** Repair record (domain rule 7): what was repaired and what it cost, in currency units. */
  repairItem: string | null;
  cost: number | null;
  /** How many times the raising alarm fired while this work order was open (1 for manual ones). */
  occurrences: number;
  lastOccurrenceAt: number;
  reopenCount: number;
  /** Deadlines missed as of the service clock when this object was read. */
  overdue: DeadlineKind[];
  /** Actions the state table allows now (permissions are the caller's concern). */
  allowedActions: WorkOrderAction[];
}

/** A work order as stored: every field but those computed when it is read; the cost in cents. */
export interface WorkOrderRecord extends Omit<WorkOrder, 'callbackStatus' | 'cost' | 'overdue' | 'allowedActions'> {
  costCents: number | null;
}

/** A work order about to be stored (the store gives the id). */
export type NewWorkOrderRecord = Omit<WorkOrderRecord, 'id'>;

/** A timeline entry about to be stored. */
export type NewWorkOrderEvent = Omit<WorkOrderEvent, 'id' | 'workOrderId'>;

export interface WorkOrderEvent {
  id: number;
  workOrderId: number;
  at: number;
  /** User id; null for the system (alarms). */
  by: number | null;
  action: TimelineAction;
  fromState: WorkOrderState | null;
  toState: WorkOrderState;
  comment: string | null;
  details: Record<string, unknown>;
}

export interface WorkOrderWithTimeline extends WorkOrder {
  timeline: WorkOrderEvent[];
}

export interface CreateWorkOrderInput {
  source: ManualWorkOrderSource;
  sourceRef?: string;
  category: WorkOrderCategory;
  priority: WorkOrderPriority;
  title: string;
  detail?: string;
  building: string;
  unit?: string;
  deviceId?: string;
  reporter?: string;
  /** User id of whoever records it. */
  createdBy: number;
  comment?: string;
}

export interface AlarmInput {
  deviceId: string;
  building: string;
  unit?: string;
  ruleId: string;
  /** The alarm point's instance (a fire zone, a connection): each is a work order of its own. */
  instance?: string;
  category: WorkOrderCategory;
  priority: WorkOrderPriority;
  title: string;
  detail: string;
  /** When the alarm happened (device time), epoch ms. */
  at: number;
}

export interface ActionPayloads {
  acknowledge: { comment?: string };
  /** At least one of userId, teamId; null clears that side. */
  assign: { comment?: string } & ({ userId: number | null; teamId?: number | null } | { userId?: number | null; teamId: number | null });
  start: { comment?: string };
  /** leakTestAt only for water-leak work orders; cost in currency units (2 decimals). */
  resolve: { comment?: string; leakTestAt?: number; cost?: number; item?: string };
  'leak-test': { comment?: string; leakTestAt: number };
  callback: { comment?: string; outcome: CallbackOutcome };
  close: { comment?: string };
  reopen: { comment?: string };
}

export interface WorkOrderFilter {
  state?: WorkOrderState | readonly WorkOrderState[];
  category?: WorkOrderCategory | readonly WorkOrderCategory[];
  source?: WorkOrderSource;
  building?: string;
  unit?: string;
  deviceId?: string;
  assigneeUserId?: number;
  assigneeTeamId?: number;
  /** true: only work orders past a deadline now; false: only those that are not. */
  overdue?: boolean;
  /** 1-based. */
  page?: number;
  /** WORK_ORDER_PAGE: default 50, at most 500. */
  limit?: number;
}

export interface WorkOrderPage {
  items: WorkOrder[];
  total: number;
  page: number;
  limit: number;
}

export interface MissedDeadline {
  kind: DeadlineKind;
  dueAt: number;
  overdueMs: number;
}

export interface OverdueWorkOrder {
  workOrder: WorkOrder;
  missed: MissedDeadline[];
}

export interface WorkOrderCounts {
  total: number;
  byState: Record<WorkOrderState, number>;
  /** Not closed, per category. */
  openByCategory: Record<WorkOrderCategory, number>;
  overdue: Record<DeadlineKind, number>;
  /** Resolved leak repairs waiting for their leak test (callback clock not started). */
  leakTestPending: number;
}

export interface WorkOrderChange {
  workOrder: WorkOrder;
  event: WorkOrderEvent;
}
