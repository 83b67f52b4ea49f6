import { Type } from '@sinclair/typebox';
import {
  CALLBACK_STATUSES,
  COMPLAINT_TYPES,
  DEADLINE_KINDS,
  ESCALATION_LEVELS,
  FOLLOW_UPS,
  SATISFACTION_LEVELS,
  SYSTEM_TIMELINE_ACTIONS,
  WORK_ORDER_ACTIONS,
  WORK_ORDER_CATEGORIES,
  WORK_ORDER_PRIORITIES,
  WORK_ORDER_SOURCES,
  WORK_ORDER_STATES,
  WORK_ORDER_TEXT_MAX,
} from '../../work-orders/types.ts';
import { EpochMs, Nullable, StringEnum } from './common.ts';

export const TicketSource = StringEnum(WORK_ORDER_SOURCES);
export const TicketCategory = StringEnum(WORK_ORDER_CATEGORIES);
export const TicketPriority = StringEnum(WORK_ORDER_PRIORITIES);
export const TicketState = StringEnum(WORK_ORDER_STATES);
export const TicketAction = StringEnum(WORK_ORDER_ACTIONS);
export const ComplaintType = StringEnum(COMPLAINT_TYPES, { description: 'valid (有效投诉), or a communication complaint (沟通性投诉): help, enquiry, venting' });
export const Satisfaction = StringEnum(SATISFACTION_LEVELS);
const DeadlineKind = StringEnum(DEADLINE_KINDS);
const EscalationLevel = Type.Unsafe<0 | 1 | 2 | 3>({ type: 'integer', enum: [...ESCALATION_LEVELS], description: '0 with the team, 1 a supervisor, 2 the estate manager, 3 the property manager' });

export const Ticket = Type.Object(
  {
    id: Type.Integer(),
    source: TicketSource,
    sourceRef: Nullable(Type.String()),
    category: TicketCategory,
    priority: TicketPriority,
    state: TicketState,
    title: Type.String(),
    detail: Type.String(),
    building: Type.String(),
    unit: Nullable(Type.String()),
    deviceId: Nullable(Type.String()),
    ruleId: Nullable(Type.String()),
    alarmInstance: Type.String({ description: "the instance of the alarm point that raised it (a fire zone, a gateway's connection); '' for none" }),
    reporter: Nullable(Type.String()),
    peopleTrapped: Type.Boolean({ description: 'people trapped in a lift (困人)' }),
    complaintType: Nullable(ComplaintType),
    followUp: StringEnum(FOLLOW_UPS, { description: 'callback to the owner, or internal verification when there is no owner' }),
    createdBy: Nullable(Type.Integer({ description: 'user id; null when an alarm raised it' })),
    assigneeUserId: Nullable(Type.Integer()),
    assigneeTeamId: Nullable(Type.Integer()),
    createdAt: EpochMs(),
    updatedAt: EpochMs(),
    acknowledgedAt: Nullable(EpochMs()),
    startedAt: Nullable(EpochMs()),
    resolvedAt: Nullable(EpochMs()),
    resolvedBy: Nullable(Type.Integer({ description: 'user id of who repaired it (this cycle)' })),
    leakTestAt: Nullable(EpochMs()),
    qualityCheckedAt: Nullable(EpochMs()),
    qualityCheckedBy: Nullable(Type.Integer()),
    callbackAt: Nullable(EpochMs()),
    callbackOutcome: Nullable(StringEnum(['satisfied', 'problem'] as const)),
    callbackAttempts: Type.Integer({ description: 'owners not reached (not-home) this cycle' }),
    satisfaction: Nullable(Satisfaction),
    verifiedAt: Nullable(EpochMs()),
    closedAt: Nullable(EpochMs()),
    reopenedAt: Nullable(EpochMs()),
    responseDueAt: EpochMs('acknowledge before this'),
    replyDueAt: Nullable(EpochMs('complaints: reply before this (72 h after the complaint)')),
    repliedAt: Nullable(EpochMs('complaints: the first reply')),
    callbackDueAt: Nullable(EpochMs('call back (or verify) before this; null while the clock has not started')),
    callbackStatus: StringEnum(CALLBACK_STATUSES),
    escalationLevel: EscalationLevel,
    escalatedAt: Nullable(EpochMs()),
    repairItem: Nullable(Type.String()),
    cost: Nullable(Type.Number()),
    occurrences: Type.Integer(),
    lastOccurrenceAt: EpochMs(),
    reopenCount: Type.Integer(),
    overdue: Type.Array(DeadlineKind, { description: 'deadlines missed now' }),
    allowedActions: Type.Array(TicketAction, { description: 'actions the state allows now' }),
  },
  { title: 'Ticket (work order)' },
);

export const TimelineEntry = Type.Object(
  {
    id: Type.Integer(),
    at: EpochMs(),
    by: Nullable(Type.Integer({ description: 'user id; null for the system' })),
    byName: Nullable(Type.String({ description: 'display name of the user' })),
    action: StringEnum([...WORK_ORDER_ACTIONS, ...SYSTEM_TIMELINE_ACTIONS] as const),
    fromState: Nullable(TicketState),
    toState: TicketState,
    comment: Nullable(Type.String()),
    details: Type.Record(Type.String(), Type.Unknown()),
  },
  { title: 'Timeline entry' },
);

export const TicketWithTimeline = Type.Composite([Ticket, Type.Object({ timeline: Type.Array(TimelineEntry) })], { title: 'Ticket with its timeline' });

export const TicketChange = Type.Object({ ticket: Ticket, event: TimelineEntry }, { title: 'Ticket and the timeline entry of the change' });

export const Comment = Type.Optional(Type.String({ maxLength: WORK_ORDER_TEXT_MAX.comment, description: 'recorded in the timeline' }));
