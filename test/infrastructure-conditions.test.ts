import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConnectionStatus, GatewayStatus, GatewayStorageStatus } from '../common/topics.ts';
import { newInfrastructure, status } from './fixtures/infrastructure/harness.ts';
import { event, manualClock, reading, summary, tempDir } from './fixtures/rules/harness.ts';

/** One step at `t` ms after the start: a status of gw-1 (its times relative too), a reading, an event, or only the clock. */
interface Step {
  t: number;
  status?: Omit<GatewayStatus, 'gateway' | 'connections' | 'storage'> & { connections?: ConnectionStatus[]; storage?: GatewayStorageStatus };
  reading?: [device: string, metric: string, value: number];
  event?: [device: string, name: string];
}

interface ConditionFixture {
  about: string;
  rules?: Record<string, unknown>;
  steps: Step[];
  /** Alarm changes announced, as `raised gw-1/gateway-offline@1000` (harness summary). */
  announced: string[];
  /** Alarm points whose alarms were suppressed by their cause, sorted. */
  suppressed: string[];
  /** Facts of alarms, by alarm point, as toMatchObject wants them. */
  alarms?: Record<string, Record<string, unknown>>;
}

const dir = new URL('./fixtures/infrastructure/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as ConditionFixture] as const);

describe.each(fixtures)('gateway conditions: %s', (_name, fx) => {
  it(fx.about, async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, monitor, events, close } = newInfrastructure({ clock: clock.now, ...(fx.rules ? { rules: fx.rules } : {}) });
    await engine.restore(base);
    monitor.restore();
    for (const step of fx.steps) {
      clock.set(base + step.t);
      if (step.status) {
        const { connections, storage, since, ...s } = step.status;
        monitor.onGatewayStatus(
          status(s.online, base + s.ts, {
            ...(since !== undefined ? { since: base + since } : {}),
            ...(connections ? { connections: connections.map((c) => ({ ...c, since: base + c.since })) } : {}),
            ...(storage ? { storage: { ...storage, ts: base + storage.ts } } : {}),
          }),
        );
      }
      if (step.reading) engine.onReading(reading(step.reading[0], step.reading[1], step.reading[2], clock.now()));
      if (step.event) engine.onEvent(event(step.event[0], step.event[1], clock.now()));
      engine.tick(clock.now());
    }
    await engine.settled();
    expect(summary(events.filter((e) => e.type !== 'suppressed'), base)).toEqual(fx.announced);
    expect([...new Set(events.filter((e) => e.type === 'suppressed').map((e) => e.alarm.key))].sort()).toEqual(fx.suppressed);
    for (const [key, facts] of Object.entries(fx.alarms ?? {})) {
      const last = events.filter((e) => e.alarm.key === key).at(-1);
      // Times (`…At`) are relative to the start, like the steps'.
      const want = Object.fromEntries(Object.entries(facts).map(([k, v]) => [k, k.endsWith('At') && typeof v === 'number' ? base + v : v]));
      expect(last?.alarm, key).toMatchObject(want);
    }
    await close();
  });
});

describe('gateway conditions across a server restart', () => {
  it('resume: the cause stays in alarm, its consequences stay suppressed, the retained status raises nothing twice', async () => {
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'records.db');
    const clock = manualClock();
    const base = clock.now();
    try {
      const first = newInfrastructure({ clock: clock.now, file });
      await first.engine.restore(base);
      first.monitor.restore();
      clock.set(base + 1000);
      first.monitor.onGatewayStatus(status(false, base, { since: base }));
      await first.close();
      expect(summary(first.events.filter((e) => e.type !== 'suppressed'), base)).toEqual(['raised gw-1/gateway-offline@1000']);

      clock.set(base + 5000);
      const second = newInfrastructure({ clock: clock.now, file });
      await second.engine.restore(clock.now());
      second.monitor.restore();
      expect(second.monitor.activePoints()).toEqual(['gw-1/gateway-offline']);
      // The broker hands the retained last will over again.
      second.monitor.onGatewayStatus(status(false, base, { since: base }));
      second.engine.tick(base + 70_000);
      await second.engine.settled();
      expect(second.events.filter((e) => e.type !== 'suppressed')).toEqual([]);
      expect(second.engine.alarms.listActive({ suppressed: 'only' })).toHaveLength(6);
      clock.set(base + 80_000);
      second.monitor.onGatewayStatus(status(true, base + 80_000, { since: base + 80_000 }));
      for (const [d, m] of [['tank-1', 'level_mm'], ['water-1', 'volume_m3'], ['elec-1', 'energy_kwh']] as const) second.engine.onReading(reading(d, m, 1, base + 81_000));
      second.engine.tick(base + 81_000);
      await second.engine.settled();
      expect(summary(second.events.filter((e) => e.type !== 'suppressed'), base)).toEqual(['cleared gw-1/gateway-offline@80000']);
      expect(second.engine.alarms.listActive({ suppressed: 'only' })).toEqual([]);
      await second.close();
    } finally {
      cleanup();
    }
  });
});
