import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ConnectionStatus, GatewayStatus } from '../common/topics.ts';
import { newInfrastructure, status } from './fixtures/infrastructure/harness.ts';
import { event, manualClock, reading, summary } from './fixtures/rules/harness.ts';

/** One step at `t` ms after the start: a status of gw-1 (its times relative too), a reading, an event, or only the clock. */
interface Step {
  t: number;
  status?: Omit<GatewayStatus, 'gateway' | 'connections'> & { connections?: ConnectionStatus[] };
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
        const { connections, since, ...s } = step.status;
        monitor.onGatewayStatus(
          status(s.online, base + s.ts, {
            ...(since !== undefined ? { since: base + since } : {}),
            ...(connections ? { connections: connections.map((c) => ({ ...c, since: base + c.since })) } : {}),
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
