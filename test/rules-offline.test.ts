import { describe, expect, it } from 'vitest';
import { event, manualClock, newEngine, reading } from './fixtures/rules/harness.ts';

const at = (e: { type: string; alarm: { raisedAt: number; clearedAt?: number } }, base: number) => (e.type === 'raised' ? e.alarm.raisedAt : e.alarm.clearedAt!) - base;

describe('offline: no good reading for N seconds', () => {
  it('raises N s after the last good reading (bad readings are not signs of life) and clears when a reading arrives', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now });
    await engine.restore(base);
    const step = (t: number, fn?: () => void) => {
      clock.set(base + t);
      fn?.();
      engine.tick(clock.now());
    };
    step(0, () => engine.onReading(reading('tank-1', 'level_mm', 2000, base)));
    step(30_000, () => engine.onReading(reading('tank-1', 'level_mm', 2000, base + 30_000)));
    step(50_000, () => engine.onReading(reading('tank-1', 'level_mm', null, base + 50_000, 'bad')));
    step(89_999);
    await engine.settled();
    const tank = () => events.filter((e) => e.alarm.device === 'tank-1');
    expect(tank()).toEqual([]);
    step(90_000);
    await engine.settled();
    expect(tank().map((e) => [e.type, e.alarm.ruleId, at(e, base)])).toEqual([['raised', 'device-offline', 90_000]]);
    expect(tank()[0]!.alarm.details).toEqual({ cause: 'silent', lastSeen: base + 30_000 });
    step(95_000, () => engine.onReading(reading('tank-1', 'level_mm', 2000, base + 95_000)));
    await engine.settled();
    expect(tank().map((e) => [e.type, at(e, base)])).toEqual([
      ['raised', 90_000],
      ['cleared', 95_000],
    ]);
    await close();
  });

  it('a device never heard goes offline N s after start; event-only devices never go offline by silence', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now });
    await engine.restore(base);
    await engine.settled();
    expect(engine.nextDue()).toBe(base + 60_000);
    engine.tick(base + 3_600_000);
    await engine.settled();
    expect(events.map((e) => `${e.alarm.key}@${e.alarm.raisedAt - base}`).sort()).toEqual([
      'elec-1/device-offline@60000',
      'tank-1/device-offline@60000',
      'water-1/device-offline@60000',
    ]);
    await close();
  });

  it('a reading replayed from an outbox (older than N s) does not clear the offline alarm', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now });
    await engine.restore(base);
    clock.set(base + 120_000);
    engine.tick(clock.now());
    engine.onReading(reading('water-1', 'volume_m3', 5, base + 10_000));
    await engine.settled();
    const water = () => events.filter((e) => e.alarm.device === 'water-1').map((e) => e.type);
    expect(water()).toEqual(['raised']);
    engine.onReading(reading('water-1', 'volume_m3', 5, base + 119_000));
    await engine.settled();
    expect(water()).toEqual(['raised', 'cleared']);
    await close();
  });
});

describe('gateway last will', () => {
  it('marks every device of the gateway offline at once; polled devices clear on their reading, event-only ones when the gateway is back', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now });
    await engine.restore(base);
    for (const d of ['tank-1', 'water-1', 'elec-1']) engine.onReading(reading(d, d === 'tank-1' ? 'level_mm' : d === 'water-1' ? 'volume_m3' : 'energy_kwh', 1000, base + 1000));
    engine.onGatewayStatus('gw-other', false, base + 2000);
    await engine.settled();
    expect(events).toEqual([]);

    clock.set(base + 5000);
    engine.onGatewayStatus('gw-1', false, base + 5000);
    await engine.settled();
    const raised = events.filter((e) => e.type === 'raised');
    expect(raised.map((e) => e.alarm.device).sort()).toEqual(['door-1', 'elec-1', 'fire-1', 'sos-1', 'tank-1', 'water-1']);
    for (const e of raised) {
      await engine.settled();
      expect(e.alarm).toMatchObject({ ruleId: 'device-offline', raisedAt: base + 5000, details: { cause: 'gateway-offline', gateway: 'gw-1' } });
    }
    // The silence timers do not raise a second alarm for devices already offline.
    clock.set(base + 120_000);
    engine.tick(clock.now());
    await engine.settled();
    expect(events).toHaveLength(6);

    engine.onGatewayStatus('gw-1', true, base + 121_000);
    await engine.settled();
    expect(events.slice(6).map((e) => [e.type, e.alarm.device]).sort()).toEqual([
      ['cleared', 'door-1'],
      ['cleared', 'fire-1'],
      ['cleared', 'sos-1'],
    ]);
    clock.set(base + 122_000);
    engine.onReading(reading('tank-1', 'level_mm', 2000, base + 122_000));
    await engine.settled();
    expect(events.slice(9).map((e) => [e.type, e.alarm.device])).toEqual([['cleared', 'tank-1']]);
    await close();
  });

  it('a device reporting through another gateway follows that gateway', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now });
    engine.onEvent(event('door-1', 'closed', base), 'gw-2');
    engine.onGatewayStatus('gw-1', false, base + 1000);
    await engine.settled();
    expect(events.map((e) => e.alarm.device)).not.toContain('door-1');
    engine.onGatewayStatus('gw-2', false, base + 2000);
    await engine.settled();
    expect(events.map((e) => e.alarm.device)).toContain('door-1');
    await close();
  });
});
