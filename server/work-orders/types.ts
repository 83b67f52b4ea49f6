/**
 * Categories (docs/work-orders.md, "Categories"): what kind of work, which decides the response
 * standard and the callback rule. `lift` (电梯) and `water-supply` (供水: tanks, pumps, overflow)
 * sit beside the trades; `complaint` is a service complaint with no trade of its own.
 */
export const WORK_ORDER_CATEGORIES = ['fire-safety', 'lift', 'access-security', 'water-leak', 'water-supply', 'electrical', 'general', 'complaint'] as const;
export type WorkOrderCategory = (typeof WORK_ORDER_CATEGORIES)[number];

export const WORK_ORDER_PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type WorkOrderPriority = (typeof WORK_ORDER_PRIORITIES)[number];

export const WORK_ORDER_STATES = ['open', 'acknowledged', 'in_progress', 'resolved', 'quality_checked', 'callback_done', 'verified', 'closed', 'reopened'] as const;
export type WorkOrderState = (typeof WORK_ORDER_STATES)[number];

/** What people do to a work order; each is one timeline entry. */
export const WORK_ORDER_ACTIONS = [
  'acknowledge',
  'assign',
  'start',
  'resolve',
  'leak-test',
  'quality-check',
  'reply',
  'callback',
  'verify',
  'escalate',
  'close',
  'reopen',
] as const;
export type WorkOrderAction = (typeof WORK_ORDER_ACTIONS)[number];

/** Where a work order came from. `alarm` only through raiseFromAlarm; `manual` is a repair request (报修) of an owner. */
export const WORK_ORDER_SOURCES = ['alarm', 'manual', 'complaint', 'inspection', 'handover'] as const;
export type WorkOrderSource = (typeof WORK_ORDER_SOURCES)[number];
export type ManualWorkOrderSource = Exclude<WorkOrderSource, 'alarm'>;

/**
 * How a finished repair is followed up (domain rule 3): work for an owner (报修, complaints,
 * handover defects) is called back by customer service; work with no owner (alarms, inspection
 * findings) is verified internally instead.
 */
export const FOLLOW_UPS = ['callback', 'verification'] as const;
export type FollowUp = (typeof FOLLOW_UPS)[number];

export function followUpOf(source: WorkOrderSource): FollowUp {
  return source === 'alarm' || source === 'inspection' ? 'verification' : 'callback';
}

/** A valid complaint (有效投诉), or a communication complaint (沟通性投诉): help, enquiry or venting (domain rule 4). */
export const COMPLAINT_TYPES = ['valid', 'help', 'enquiry', 'venting'] as const;
export type ComplaintType = (typeof COMPLAINT_TYPES)[number];

/** `not-home`: the owner could not be reached; the callback is tried again. */
export const CALLBACK_OUTCOMES = ['satisfied', 'problem', 'not-home'] as const;
export type CallbackOutcome = (typeof CALLBACK_OUTCOMES)[number];
/** What the callback found, as stored: an owner reached. */
export type CallbackFinding = Exclude<CallbackOutcome, 'not-home'>;

export const CALLBACK_METHODS = ['phone', 'visit'] as const;
export type CallbackMethod = (typeof CALLBACK_METHODS)[number];

/** The owner's satisfaction, asked at the callback (quality target: at least 85 % satisfied, domain rule 4). */
export const SATISFACTION_LEVELS = ['satisfied', 'basically-satisfied', 'dissatisfied'] as const;
export type Satisfaction = (typeof SATISFACTION_LEVELS)[number];

export const QUALITY_CHECK_RESULTS = ['pass', 'fail'] as const;
export type QualityCheckResult = (typeof QUALITY_CHECK_RESULTS)[number];

export const VERIFICATION_RESULTS = ['ok', 'problem'] as const;
export type VerificationResult = (typeof VERIFICATION_RESULTS)[number];

/** 0: with the team; 1: a supervisor; 2: the estate manager (项目经理); 3: the property manager (物业经理). */
export const ESCALATION_LEVELS = [0, 1, 2, 3] as const;
export type EscalationLevel = (typeof ESCALATION_LEVELS)[number];

export const ESCALATION_REASONS = ['response-overdue', 'reply-overdue', 'callback-overdue', 'verification-overdue', 'callback-problem', 'by-hand'] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

/**
 * Longest texts of a work order, in characters. The API's request schemas enforce them
 * (server/routes/schemas/work-order.ts); code that writes a work order itself (alarms) keeps to them.
 */
export const WORK_ORDER_TEXT_MAX = { title: 200, detail: 4000, comment: 4000, item: 500, reporter: 200, place: 200 } as const;

/** Highest repair cost, in currency units (2 decimals), so that cents stay exact integers. */
export const WORK_ORDER_COST_MAX = 10_000_000;

/** Pages of a work-order list. */
export const WORK_ORDER_PAGE = { defaultLimit: 50, maxLimit: 500 } as const;

/** Entries the system writes on its own: creation, an alarm's work order and its repeats, paging the emergency team. */
export const SYSTEM_TIMELINE_ACTIONS = ['create', 'raise', 'occurrence', 'page'] as const;

/** Timeline entries: the actions (`escalate` also by the system, with no user), plus the system's own. */
export type TimelineAction = WorkOrderAction | (typeof SYSTEM_TIMELINE_ACTIONS)[number];

export const DEADLINE_KINDS = ['response', 'reply', 'callback', 'verification'] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];

/** Why a callback (or verification) has no due time yet, or that it is made. */
export const CALLBACK_STATUSES = ['not-resolved', 'leak-test-pending', 'due', 'done'] as const;
export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];

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
  /** People trapped in a lift (困人): always critical, the emergency team is paged. */
  peopleTrapped: boolean;
  /** Complaints only: what kind of complaint the service desk judged it to be. */
  complaintType: ComplaintType | null;
  followUp: FollowUp;
  /** null when raised by the system (an alarm). */
  createdBy: number | null;
  assigneeUserId: number | null;
  assigneeTeamId: number | null;
  createdAt: number;
  updatedAt: number;
  acknowledgedAt: number | null;
  startedAt: number | null;
  resolvedAt: number | null;
  /** Who resolved it in the current cycle: they may not check or call back their own repair. */
  resolvedBy: number | null;
  leakTestAt: number | null;
  qualityCheckedAt: number | null;
  qualityCheckedBy: number | null;
  callbackAt: number | null;
  callbackOutcome: CallbackFinding | null;
  /** Owners not reached (`not-home`) in the current cycle. */
  callbackAttempts: number;
  satisfaction: Satisfaction | null;
  verifiedAt: number | null;
  closedAt: number | null;
  reopenedAt: number | null;
  /** Acknowledge before this (counted from creation, or from the last reopening). */
  responseDueAt: number;
  /** Complaints: reply (回复) before this, 72 hours after the complaint; a fix or a reopening does not move it. */
  replyDueAt: number | null;
  /** The first reply to a complaint (an interim reply counts). */
  repliedAt: number | null;
  /**
   * Call the owner back (followUp `callback`) or verify internally (`verification`) before this;
   * null while not due yet (see callbackStatus).
   */
  callbackDueAt: number | null;
  callbackStatus: CallbackStatus;
  escalationLevel: EscalationLevel;
  escalatedAt: number | null;
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

/** The due time of each deadline last escalated, so that one missed deadline escalates once. */
export interface EscalationMarks {
  responseEscalatedFor: number | null;
  replyEscalatedFor: number | null;
  callbackEscalatedFor: number | null;
}

/** A work order as stored: every field but those computed when it is read; the cost in cents. */
export interface WorkOrderRecord extends Omit<WorkOrder, 'callbackStatus' | 'cost' | 'overdue' | 'allowedActions'>, EscalationMarks {
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
  /** User id; null for the system (alarms, escalation of a missed deadline). */
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
  /** Lift only: people are trapped; the work order is critical whatever priority is given. */
  peopleTrapped?: boolean;
  /** Required for a complaint. */
  complaintType?: ComplaintType;
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
  /** `fail` sends the work back to the repair team. */
  'quality-check': { comment?: string; result: QualityCheckResult };
  /** The reply to a complaint, interim or final: what the owner was told. */
  reply: { comment: string };
  /** `not-home`: tried again at `retryAt` (default: the next callback window a day later). */
  callback: { comment?: string; outcome: CallbackOutcome; method?: CallbackMethod; satisfaction?: Satisfaction; retryAt?: number };
  verify: { comment?: string; result: VerificationResult };
  escalate: { comment: string };
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
  /** Only those escalated to at least this level. */
  escalatedTo?: EscalationLevel;
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
  /** Not closed and escalated, per level (1 to 3). */
  escalated: Record<'1' | '2' | '3', number>;
}

export interface WorkOrderChange {
  workOrder: WorkOrder;
  event: WorkOrderEvent;
}
