import { describe, expect, it } from 'vitest';
import { AlarmActionError, MAX_SHELVE_MS, type AlarmSeverity, type AlarmState } from '../server/alarms/alarm.ts';
import { AlarmService, type AlarmPoint } from '../server/alarms/alarm-service.ts';
import { AlarmRepository } from '../server/records/alarm-repository.ts';
import type { RecordsClient } from '../server/records/records-client.ts';
import { manualClock } from './fixtures/rules/harness.ts';
import { describeRecords } from './harness/records.ts';

const point = (device = 'door-1', severity: AlarmSeverity = 'high', ruleId = 'door-forced'): AlarmPoint => ({
  key: `${device}/${ruleId}`,
  ruleId,
  ruleType: 'event',
  device,
  building: 'B1',
  kind: 'door',
  category: 'access-security',
  severity,
});
const facts = { title: { en: 'Door forced', zh: '门被强行打开' } };

/** An alarm service over a records database; `settled` waits until its changes are stored and announced. */
async function setup(db: RecordsClient) {
  const clock = manualClock();
  const store = new AlarmRepository(db);
  const service = new AlarmService({ store, clock: clock.now });
  await service.restore();
  const log: string[] = [];
  service.on('alarm-raised', (a) => log.push(`raised ${a.state}`));
  service.on('alarm-cleared', (a) => log.push(`cleared ${a.state}`));
  service.on('alarm-updated', (u) => log.push(`${u.change} ${u.alarm.state}${u.notify ? ' notify' : ''}`));
  return { clock, store, service, log, db, settled: () => service.settled() };
}

type Step = 'trip' | 'normal' | 'ack';

describeRecords('alarms', (backend) => {
  describe('ISA-18.2 alarm states', () => {
    const table: { name: string; steps: Step[]; states: AlarmState[]; alarms: number }[] = [
      { name: 'acknowledged while active, then returns to normal: closed', steps: ['trip', 'ack', 'normal'], states: ['active-unacknowledged', 'active-acknowledged', 'cleared'], alarms: 1 },
      { name: 'returns to normal, then acknowledged: closed', steps: ['trip', 'normal', 'ack'], states: ['active-unacknowledged', 'cleared-unacknowledged', 'cleared'], alarms: 1 },
      { name: 'returns to normal and trips again before acknowledgement: same alarm, active again', steps: ['trip', 'normal', 'trip'], states: ['active-unacknowledged', 'cleared-unacknowledged', 'active-unacknowledged'], alarms: 1 },
      { name: 'acknowledged while active, returns to normal (closed), then trips: a new alarm', steps: ['trip', 'ack', 'normal', 'trip'], states: ['active-unacknowledged', 'active-acknowledged', 'cleared', 'active-unacknowledged'], alarms: 2 },
    ];
    it.each(table)('$name', async ({ steps, states, alarms }) => {
      const { service, clock, store, db, settled } = await setup(await backend.open());
      const seen: AlarmState[] = [];
      const ids = new Set<string>();
      let id = '';
      for (const step of steps) {
        const t = clock.advance(1000);
        if (step === 'trip') service.trip(point(), t, facts);
        if (step === 'normal') service.returnToNormal(point().key, t);
        if (step === 'ack') await service.acknowledge(id, 'wang.wei', 'checked on site');
        await settled();
        const current = service.openAlarmFor(point().key) ?? (await store.getAlarm(id))!;
        id = current.id;
        ids.add(id);
        seen.push(current.state);
      }
      expect(seen).toEqual(states);
      expect(ids.size).toBe(alarms);
      await db.close();
    });

    it('records who acknowledged, when, and the comment; counts occurrences; keeps timestamps', async () => {
      const { service, clock, log, db, settled } = await setup(await backend.open());
      const t0 = clock.now();
      service.trip(point(), t0, facts);
      service.returnToNormal(point().key, t0 + 1000);
      service.trip(point(), t0 + 90_000, { ...facts, value: 2 });
      const id = service.openAlarmFor(point().key)!.id;
      clock.set(t0 + 100_000);
      const acked = await service.acknowledge(id, 'wang.wei', '  on my way  ');
      expect(acked).toMatchObject({
        state: 'active-acknowledged',
        acknowledgedBy: 'wang.wei',
        acknowledgedAt: t0 + 100_000,
        acknowledgeComment: 'on my way',
        raisedAt: t0,
        lastTripAt: t0 + 90_000,
        occurrences: 2,
        value: 2,
      });
      expect(acked.clearedAt).toBeUndefined();
      service.returnToNormal(point().key, t0 + 200_000);
      await settled();
      expect(await service.get(id)).toMatchObject({ state: 'cleared', clearedAt: t0 + 200_000, closedAt: t0 + 200_000 });
      expect(log).toEqual(['raised active-unacknowledged', 'cleared cleared-unacknowledged', 'retripped active-unacknowledged notify', 'acknowledged active-acknowledged', 'cleared cleared']);
      await db.close();
    });

    it('refuses acknowledgements that make no sense, with a code for the API', async () => {
      const { service, clock, db, settled } = await setup(await backend.open());
      service.trip(point(), clock.now(), facts);
      const id = service.openAlarmFor(point().key)!.id;
      const code = async (fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (err) {
          return err instanceof AlarmActionError ? err.code : `unexpected ${String(err)}`;
        }
        return 'no error';
      };
      expect(await code(() => service.acknowledge('nope', 'a'))).toBe('not-found');
      expect(await code(() => service.acknowledge(id, ' '))).toBe('invalid');
      await service.acknowledge(id, 'a');
      expect(await code(() => service.acknowledge(id, 'a'))).toBe('conflict');
      service.returnToNormal(point().key, clock.now());
      await settled();
      expect(await code(() => service.acknowledge(id, 'a'))).toBe('conflict');
      await db.close();
    });

    it('lists open alarms most severe first; history comes from the store with filters', async () => {
      const { service, clock, db, settled } = await setup(await backend.open());
      const t = clock.now();
      service.trip(point('door-1', 'medium'), t, facts);
      service.trip(point('sos-1', 'critical', 'emergency-call'), t + 1, facts);
      service.trip(point('door-2', 'high'), t + 2, facts);
      service.returnToNormal('door-2/door-forced', t + 3);
      await service.acknowledge(service.openAlarmFor('door-2/door-forced')!.id, 'li.na');
      await settled();
      expect(service.listActive().map((a) => a.device)).toEqual(['sos-1', 'door-1']);
      expect(service.listActive({ device: 'door-1' }).map((a) => a.severity)).toEqual(['medium']);
      expect((await service.history()).map((a) => a.device)).toEqual(['door-2', 'sos-1', 'door-1']);
      expect((await service.history({ state: 'cleared' })).map((a) => a.device)).toEqual(['door-2']);
      expect((await service.history({ from: t + 1, to: t + 2 })).map((a) => a.device)).toEqual(['sos-1']);
      expect(await service.history({ limit: 1 })).toHaveLength(1);
      await db.close();
    });

    it('open alarms and shelves survive a restart of the service', async () => {
      const db = await backend.open();
      const first = await setup(db);
      const t = first.clock.now();
      first.service.trip(point(), t, facts);
      const id = first.service.openAlarmFor(point().key)!.id;
      await first.service.shelve(id, 'li.na', 'sensor under repair', t + 3_600_000);
      const second = await setup(db);
      second.clock.set(t + 10);
      expect(second.service.listActive()).toMatchObject([{ id, shelved: { by: 'li.na', reason: 'sensor under repair', until: t + 3_600_000 } }]);
      expect(second.service.nextDue()).toBe(t + 3_600_000);
      second.service.returnToNormal(point().key, t + 20);
      await second.settled();
      expect(second.log).toEqual(['cleared cleared-unacknowledged']);
      await db.close();
    });
  });

  describe('shelving', () => {
    it('is bounded to 24 h and needs a reason', async () => {
      const { service, clock, db } = await setup(await backend.open());
      service.trip(point(), clock.now(), facts);
      const id = service.openAlarmFor(point().key)!.id;
      const now = clock.now();
      await expect(service.shelve(id, 'li.na', 'maintenance', now + MAX_SHELVE_MS + 1)).rejects.toThrow(/at most 24 hours/);
      await expect(service.shelve(id, 'li.na', '   ', now + 60_000)).rejects.toThrow(/reason/);
      await expect(service.shelve(id, 'li.na', 'maintenance', now)).rejects.toThrow(/future/);
      await expect(service.shelve('missing', 'li.na', 'maintenance', now + 60_000)).rejects.toThrow(AlarmActionError);
      expect((await service.shelve(id, 'li.na', 'maintenance', now + MAX_SHELVE_MS)).shelved).toEqual({ by: 'li.na', reason: 'maintenance', at: now, until: now + MAX_SHELVE_MS });
      await db.close();
    });

    it('shelved points do not notify; new alarms wait to be announced; the shelf ends by itself at its deadline', async () => {
      const { service, clock, store, log, db, settled } = await setup(await backend.open());
      const t = clock.now();
      service.trip(point(), t, facts);
      const first = service.openAlarmFor(point().key)!.id;
      await service.shelve(first, 'li.na', 'door closer broken, repair booked', t + 3_600_000);
      service.returnToNormal(point().key, t + 1000);
      service.trip(point(), t + 100_000, facts);
      await service.acknowledge(first, 'li.na');
      service.returnToNormal(point().key, t + 101_000);
      // The first alarm is closed; the point is still shelved, so the next alarm is not announced.
      service.trip(point(), t + 200_000, facts);
      await settled();
      const second = service.openAlarmFor(point().key)!;
      expect(second.id).not.toBe(first);
      expect(second.announcedAt).toBeUndefined();
      expect(log).toEqual([
        'raised active-unacknowledged',
        'shelved active-unacknowledged',
        'cleared cleared-unacknowledged',
        'retripped active-unacknowledged',
        'acknowledged active-acknowledged',
        'cleared cleared',
        'raised-while-shelved active-unacknowledged',
      ]);
      expect(service.nextDue()).toBe(t + 3_600_000);
      service.tick(t + 3_599_999);
      await settled();
      expect(log).toHaveLength(7);
      service.tick(t + 3_600_000);
      await settled();
      expect(log.slice(7)).toEqual(['raised active-unacknowledged']);
      expect(await service.get(second.id)).toMatchObject({ announcedAt: t + 3_600_000 });
      expect((await service.get(second.id))!.shelved).toBeUndefined();
      expect(await store.shelves()).toEqual([]);
      expect(service.nextDue()).toBeUndefined();
      await db.close();
    });

    it('can be ended early; an announced alarm still active notifies again', async () => {
      const { service, clock, log, db } = await setup(await backend.open());
      service.trip(point(), clock.now(), facts);
      const id = service.openAlarmFor(point().key)!.id;
      await service.shelve(id, 'li.na', 'noisy', clock.now() + 60_000);
      expect((await service.unshelve(id)).shelved).toBeUndefined();
      expect(log.at(-1)).toBe('unshelved active-unacknowledged notify');
      await expect(service.unshelve(id)).rejects.toThrow(/not shelved/);
      await db.close();
    });
  });
});
