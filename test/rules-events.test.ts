import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../common/reading.ts';
import { event, manualClock, newEngine } from './fixtures/rules/harness.ts';

interface EventFixture {
  about: string;
  /** [ms after start, device, event, attrs?] */
  steps: [number, string, string, DeviceEvent['attrs']?][];
  expect: string[];
}

const dir = new URL('./fixtures/rules/events/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as EventFixture] as const);

describe.each(fixtures)('device events: %s', (_name, fx) => {
  it(fx.about, async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now });
    for (const [t, device, name, attrs] of fx.steps) {
      clock.set(base + t);
      engine.onEvent(event(device, name, base + t, attrs ?? {}));
      engine.tick(clock.now());
    }
    const devices = new Set(fx.steps.map((s) => s[1]));
    await engine.settled();
    const got = events.filter((e) => devices.has(e.alarm.device)).map((e) => `${e.type} ${e.alarm.key}@${(e.type === 'raised' ? e.alarm.raisedAt : e.alarm.clearedAt!) - base}`);
    expect(got).toEqual(fx.expect);
    await close();
  });
});

describe('device event alarms carry what a work order needs', () => {
  it('fire zone alarm: critical fire-safety, zone as instance, bilingual title', async () => {
    const clock = manualClock();
    const { engine, events, close } = newEngine({ clock: clock.now });
    engine.onEvent(event('fire-1', 'alarm', clock.now(), { zone: 'B1-3F-east' }));
    await engine.settled();
    expect(events).toHaveLength(1);
    const a = events[0]!.alarm;
    expect(a).toMatchObject({
      ruleId: 'fire-zone-alarm',
      ruleType: 'event',
      device: 'fire-1',
      building: 'B1',
      kind: 'fire-panel',
      instance: 'B1-3F-east',
      category: 'fire-safety',
      severity: 'critical',
      state: 'active-unacknowledged',
      occurrences: 1,
      chattering: false,
      raisedAt: clock.now(),
      announcedAt: clock.now(),
    });
    await engine.settled();
    expect(a.title).toEqual({ en: 'FIRE ALARM B1 alarm zone B1-3F-east', zh: '火警 B1 报警区域 B1-3F-east' });
    await close();
  });

  it('emergency call is critical; events of unknown devices are counted and ignored', async () => {
    const clock = manualClock();
    const { engine, events, close } = newEngine({ clock: clock.now });
    engine.onEvent({ ...event('sos-1', 'pressed', clock.now()), device: 'sos-99' });
    await engine.settled();
    expect(events).toEqual([]);
    expect(engine.counters.unknownDevice).toBe(1);
    engine.onEvent(event('sos-1', 'pressed', clock.now()));
    await engine.settled();
    expect(events[0]!.alarm).toMatchObject({ key: 'sos-1/emergency-call', severity: 'critical', category: 'access-security' });
    expect(events[0]!.alarm.title.en).toBe('EMERGENCY CALL Lobby SOS');
    await close();
  });
});
