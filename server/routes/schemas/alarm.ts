import { Type } from '@sinclair/typebox';
import { DEVICE_KINDS } from '../../../common/reading.ts';
import { ALARM_CATEGORIES, ALARM_SEVERITIES, ALARM_STATES, INFRASTRUCTURE_KIND } from '../../alarms/alarm.ts';
import { EpochMs, StringEnum } from './common.ts';

export const AlarmCategory = StringEnum(ALARM_CATEGORIES);
export const AlarmSeverity = StringEnum(ALARM_SEVERITIES);
export const AlarmState = StringEnum(ALARM_STATES, { description: 'ISA-18.2: cleared-unacknowledged is returned to normal, not yet acknowledged' });

const LocalizedTitle = Type.Object({ en: Type.String(), zh: Type.String() });

const ReportedPoint = Type.Object({
  key: Type.String(),
  device: Type.String(),
  ruleId: Type.String(),
  instance: Type.Optional(Type.String()),
  title: LocalizedTitle,
  alarms: Type.Integer({ description: 'alarms of the point counted' }),
  trips: Type.Integer({ description: 'their trips (occurrences)' }),
});

export const FloodBody = Type.Object(
  {
    id: Type.String(),
    startedAt: EpochMs(),
    endedAt: Type.Optional(EpochMs()),
    peak: Type.Integer({ description: 'most alarms announced within one window' }),
    alarms: Type.Integer({ description: 'alarms announced while it lasted' }),
    grouped: Type.Integer({ description: 'non-critical ones grouped into its summary on the dashboard feed' }),
  },
  { title: 'Alarm flood' },
);

export const AlarmReportBody = Type.Object(
  {
    from: EpochMs(),
    to: EpochMs(),
    alarms: Type.Integer({ description: 'alarms announced in the period' }),
    windows: Type.Integer({ description: 'windows of windowMs from `from`; the last may be shorter' }),
    windowMs: Type.Integer(),
    perWindow: Type.Object({ average: Type.Number(), peak: Type.Integer(), peakAt: Type.Union([EpochMs('start of the busiest window'), Type.Null()]) }),
    floodWindows: Type.Integer({ description: 'windows with more alarms than the flood limit' }),
    floodShare: Type.Number({ description: 'floodWindows / windows' }),
    floods: Type.Array(FloodBody),
    mostFrequent: Type.Array(ReportedPoint),
    chattering: Type.Array(ReportedPoint),
    fleeting: Type.Array(ReportedPoint),
    stale: Type.Array(ReportedPoint),
    shelved: Type.Integer(),
    suppressed: Type.Integer(),
    workOrders: Type.Integer({ description: 'work orders alarms opened in the period' }),
    alarmsPerWorkOrder: Type.Union([Type.Number(), Type.Null()]),
  },
  { title: 'Alarm-system report' },
);

const Shelf = Type.Object({ by: Type.String(), reason: Type.String(), at: EpochMs(), until: EpochMs() });

export const AlarmBody = Type.Object(
  {
    id: Type.String(),
    key: Type.String({ description: 'alarm point: device/rule[/instance]; a gateway condition: gateway/condition[/connection]' }),
    ruleId: Type.String(),
    ruleType: Type.String({ description: "the rule type, or 'infrastructure' for a condition a gateway reports" }),
    device: Type.String({ description: 'the device, or the gateway' }),
    building: Type.String({ description: 'the building; the site id for a condition of the whole estate' }),
    kind: StringEnum([...DEVICE_KINDS, INFRASTRUCTURE_KIND] as const),
    unit: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String({ description: 'e.g. the fire zone' })),
    metric: Type.Optional(Type.String()),
    category: AlarmCategory,
    severity: AlarmSeverity,
    title: Type.Object({ en: Type.String(), zh: Type.String() }),
    state: AlarmState,
    conditionActive: Type.Boolean(),
    value: Type.Optional(Type.Number()),
    limit: Type.Optional(Type.Number()),
    details: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
    raisedAt: EpochMs(),
    announcedAt: Type.Optional(EpochMs()),
    lastTripAt: EpochMs(),
    clearedAt: Type.Optional(EpochMs()),
    acknowledgedAt: Type.Optional(EpochMs()),
    acknowledgedBy: Type.Optional(Type.String()),
    acknowledgeComment: Type.Optional(Type.String()),
    closedAt: Type.Optional(EpochMs()),
    updatedAt: EpochMs(),
    occurrences: Type.Integer(),
    chattering: Type.Boolean(),
    shelved: Type.Optional(Shelf),
    suppressed: Type.Optional(Type.Boolean({ description: 'suppressed by its cause: recorded, not announced' })),
    suppressedBy: Type.Optional(Type.String({ description: 'the alarm point of the cause (or, on the dashboard feed, the flood grouping it)' })),
    suppressedAt: Type.Optional(EpochMs()),
    chatteredAt: Type.Optional(EpochMs('when it first became chattering')),
    shelvedAt: Type.Optional(EpochMs('when its point was first shelved while it was open')),
  },
  { title: 'Alarm' },
);
