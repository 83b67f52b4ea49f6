import { Type } from '@sinclair/typebox';
import {
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
const DeadlineKind = StringEnum(['response', 'callback'] as const);

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
    createdBy: Nullable(Type.Integer({ description: 'user id; null when an alarm raised it' })),
    assigneeUserId: Nullable(Type.Integer()),
    assigneeTeamId: Nullable(Type.Integer()),
    createdAt: EpochMs(),
    updatedAt: EpochMs(),
    acknowledgedAt: Nullable(EpochMs()),
    startedAt: Nullable(EpochMs()),
    resolvedAt: Nullable(EpochMs()),
    leakTestAt: Nullable(EpochMs()),
    callbackAt: Nullable(EpochMs()),
    callbackOutcome: Nullable(StringEnum(['satisfied', 'problem'] as const)),
    closedAt: Nullable(EpochMs()),
    reopenedAt: Nullable(EpochMs()),
    responseDueAt: EpochMs('acknowledge before this'),
    callbackDueAt: Nullable(EpochMs('call back before this; null while the callback clock has not started')),
    callbackStatus: StringEnum(['not-resolved', 'leak-test-pending', 'due', 'done'] as const),
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
    action: StringEnum([...WORK_ORDER_ACTIONS, 'create', 'raise', 'occurrence'] as const),
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
