import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Alarm } from '../server/alarms/alarm.ts';
import type { AlarmReport } from '../server/alarms/alarm-report.ts';
import { AlarmService } from '../server/alarms/alarm-service.ts';
import type { Flood } from '../server/alarms/flood-monitor.ts';
import { recordsOver } from '../server/records/records.ts';
import { openSqliteRecords } from '../server/records/sqlite/sqlite-client.ts';
import { WorkOrderQueries } from '../server/work-orders/work-order-queries.ts';
import { WorkOrderService } from '../server/work-orders/work-order-service.ts';

/** Times in the fixtures are seconds after T0 (a Monday, 00:00 in Shanghai). */
const T0 = Date.parse('2025-01-06T00:00:00+08:00');
const at = (s: number): number => T0 + s * 1000;

/** An alarm of the history: its key says device/rule[/instance]; the rest defaults to a closed, announced alarm. */
type FixtureAlarm = Partial<Omit<Alarm, 'announcedAt'>> & { key: string; raisedAt: number; announcedAt?: number | null };
/** An alarm point as the report lists it: [key, alarms, trips]. */
type FixturePoint = [key: string, alarms: number, trips: number];

interface ReportFixture {
  about: string;
  from: number;
  to: number;
  now: number;
  alarms: FixtureAlarm[];
  floods: Flood[];
  /** Alarms raising work orders, in order: [key, at]. */
  workOrders: [key: string, at: number][];
  expect: Omit<AlarmReport, 'from' | 'to' | 'floods' | 'mostFrequent' | 'chattering' | 'fleeting' | 'stale' | 'perWindow'> & {
    perWindow: { average: number; peak: number; peakAt: number | null };
    /** The floods listed, by their start. */
    floods: number[];
    mostFrequent: FixturePoint[];
    chattering: FixturePoint[];
    fleeting: FixturePoint[];
    stale: FixturePoint[];
  };
}

const split = (key: string) => {
  const [device, ruleId, instance] = key.split('/') as [string, string, string?];
  return { device, ruleId, ...(instance !== undefined ? { instance } : {}) };
};

function alarmOf(a: FixtureAlarm, i: number): Alarm {
  const times = Object.fromEntries(Object.entries(a).filter(([k, v]) => k.endsWith('At') && typeof v === 'number').map(([k, v]) => [k, at(v as number)]));
  const { announcedAt: _announced, ...rest } = a;
  const alarm: Alarm = {
    id: `alarm-${i}`,
    ...split(a.key),
    ruleType: 'event',
    building: 'B1',
    kind: 'door',
    category: 'general',
    severity: 'medium',
    title: { en: a.key, zh: a.key },
    state: a.clearedAt !== undefined ? 'cleared' : 'active-unacknowledged',
    conditionActive: a.clearedAt === undefined,
    lastTripAt: at(a.raisedAt),
    updatedAt: at(a.clearedAt ?? a.raisedAt),
    occurrences: 1,
    chattering: false,
    ...rest,
    ...times,
  } as Alarm;
  if (a.announcedAt !== null) alarm.announcedAt = at(a.announcedAt ?? a.raisedAt);
  return alarm;
}

const point = ([key, alarms, trips]: FixturePoint) => ({ key, ...split(key), title: { en: key, zh: key }, alarms, trips });

const dir = new URL('./fixtures/alarm-report/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as ReportFixture] as const);

describe.each(fixtures)('alarm-system report: %s', (_name, fx) => {
  it(`${fx.about}: the figures are the hand count`, async () => {
    const client = openSqliteRecords(':memory:');
    const records = recordsOver(client);
    try {
      for (const [i, a] of fx.alarms.entries()) await records.alarms.saveAlarm(alarmOf(a, i));
      for (const f of fx.floods) await records.alarms.startFlood({ ...f, startedAt: at(f.startedAt), ...(f.endedAt !== undefined ? { endedAt: at(f.endedAt) } : {}) });
      const workOrders = new WorkOrderService({ records: records.workOrders, clock: () => at(fx.now) });
      for (const [key, s] of fx.workOrders) {
        const { device, ruleId, instance } = split(key);
        await workOrders.raiseFromAlarm({ deviceId: device, ruleId, ...(instance ? { instance } : {}), building: 'B1', category: 'general', priority: 'medium', title: key, detail: '', at: at(s) });
      }
      const alarms = new AlarmService({ store: records.alarms, clock: () => at(fx.now) });
      const from = at(fx.from);
      const to = at(fx.to);
      const report = await alarms.report(from, to, await new WorkOrderQueries(records.workOrders).openedByAlarms(from, to));
      const want = fx.expect;
      expect(report).toEqual({
        ...want,
        from,
        to,
        perWindow: { ...want.perWindow, peakAt: want.perWindow.peakAt === null ? null : at(want.perWindow.peakAt) },
        floods: fx.floods
          .filter((f) => want.floods.includes(f.startedAt))
          .map((f) => ({ ...f, id: `flood-${at(f.startedAt)}`, startedAt: at(f.startedAt), ...(f.endedAt !== undefined ? { endedAt: at(f.endedAt) } : {}) })),
        mostFrequent: want.mostFrequent.map(point),
        chattering: want.chattering.map(point),
        fleeting: want.fleeting.map(point),
        stale: want.stale.map(point),
      });
    } finally {
      await client.close();
    }
  });
});
