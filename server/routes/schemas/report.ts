import { Type, type TSchema } from '@sinclair/typebox';
import { COMPLAINT_TYPES, ESCALATION_REASONS, SATISFACTION_LEVELS, WORK_ORDER_CATEGORIES, WORK_ORDER_SOURCES } from '../../work-orders/types.ts';
import { EpochMs, Nullable } from './common.ts';
import { TicketCategory } from './work-order.ts';

const counts = (keys: readonly string[]) => Type.Object(Object.fromEntries(keys.map((k) => [k, Type.Integer()])) as Record<string, TSchema>);
const Rate = Nullable(Type.Number({ minimum: 0, maximum: 1, description: '0..1; null when nothing counted' }));
const n = () => Type.Integer({ minimum: 0 });

const FollowUp = {
  made: n(),
  onTime: n(),
  missed: Type.Integer({ minimum: 0, description: 'fell due in the month, still not made' }),
  rate: Rate,
  onTimeRate: Rate,
};

export const MonthlyReportSchema = Type.Object(
  {
    estate: Type.Object({ id: Type.String(), name: Type.String(), timezone: Type.String() }),
    month: Type.String({ description: 'YYYY-MM, in the estate time zone' }),
    from: EpochMs('local midnight of the 1st'),
    to: EpochMs('local midnight of the 1st of the next month'),
    generatedAt: EpochMs(),
    received: Type.Object({ total: n(), byCategory: counts(WORK_ORDER_CATEGORIES), bySource: counts(WORK_ORDER_SOURCES) }),
    response: Type.Object({ total: n(), onTime: n(), late: n(), notResponded: n(), pending: n(), onTimeRate: Rate }, { description: 'work orders created in the month, by their first acknowledgement' }),
    replies: Type.Object({ due: n(), onTime: n(), late: n(), unanswered: n(), pending: n(), onTimeRate: Rate }, { description: 'complaints whose 72-hour reply fell due in the month' }),
    complaints: Type.Object({ total: n(), byType: counts([...COMPLAINT_TYPES, 'unknown']) }),
    callbacks: Type.Object({ ...FollowUp, notHome: n() }),
    verifications: Type.Object(FollowUp),
    qualityChecks: Type.Object({ pass: n(), fail: n() }),
    satisfaction: Type.Object({ rated: n(), byLevel: counts(SATISFACTION_LEVELS), rate: Rate }),
    escalations: Type.Object({ total: n(), byLevel: counts(['1', '2', '3']), byReason: counts(ESCALATION_REASONS) }),
    recurring: Type.Object({
      problems: n(),
      repeats: n(),
      items: Type.Array(Type.Object({ building: Type.String(), unit: Type.String(), category: TicketCategory, workOrders: Type.Array(Type.Integer()), repeats: n() })),
    }),
    targets: Type.Object({ responseOnTimeRate: Type.Number(), callbackRate: Type.Number(), satisfactionRate: Type.Number() }),
  },
  { title: 'Monthly work-order statistics' },
);
