import { describe, expect, it } from 'vitest';
import { event, manualClock, newEngine, reading } from './fixtures/rules/harness.ts';

describe('chattering: 3 or more trips within 60 s', () => {
  it('a door forced/closed 5 times in 50 s gives exactly one alarm, marked chattering and held until 5 quiet minutes pass', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now });
    for (let i = 0; i < 5; i++) {
      clock.set(base + i * 10_000);
      engine.onEvent(event('door-1', 'forced', clock.now()));
      clock.advance(5_000);
      engine.onEvent(event('door-1', 'closed', clock.now()));
      engine.tick(clock.now());
    }
    await engine.settled();
    const door = events.filter((e) => e.alarm.device === 'door-1');
    expect(door.filter((e) => e.type === 'raised')).toHaveLength(1);
    expect(door.map((e) => e.change ?? e.type)).toEqual([
      'raised',
      'cleared',
      'retripped',
      'cleared',
      'chattering',
      'returned-to-normal-held',
      'retripped',
      'returned-to-normal-held',
      'retripped',
      'returned-to-normal-held',
    ]);
    await engine.settled();
    expect(new Set(door.map((e) => e.alarm.id)).size).toBe(1);
    const held = engine.alarms.listActive({ device: 'door-1' });
    await engine.settled();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ chattering: true, occurrences: 5, state: 'active-unacknowledged', conditionActive: false });
    expect(door.find((e) => e.change === 'chattering')!.notify).toBe(true);

    // Quiet period: 300 s after the last trip (at 40 s).
    engine.tick(base + 339_999);
    await engine.settled();
    expect(engine.alarms.listActive({ device: 'door-1' })[0]!.chattering).toBe(true);
    engine.tick(base + 340_000);
    await engine.settled();
    const after = events.filter((e) => e.alarm.device === 'door-1').slice(door.length);
    expect(after.map((e) => [e.change ?? e.type, e.alarm.state, e.alarm.chattering])).toEqual([
      ['chattering-ended', 'active-unacknowledged', false],
      ['cleared', 'cleared-unacknowledged', false],
    ]);
    await close();
  });

  it('a threshold without deadband flapping across its limit is kept to one alarm', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({
      clock: clock.now,
      rules: { devices: { 'tank-1': { 'tank-level-high': { forMs: 0, offDelayMs: 0, deadband: 0 } } } },
    });
    for (let i = 0; i < 20; i++) {
      clock.set(base + i * 2_000);
      engine.onReading(reading('tank-1', 'level_mm', i % 2 === 0 ? 3801 : 3799, clock.now()));
      engine.tick(clock.now());
    }
    await engine.settled();
    const tank = events.filter((e) => e.alarm.key === 'tank-1/tank-level-high');
    expect(tank.filter((e) => e.type === 'raised')).toHaveLength(1);
    expect(tank.filter((e) => e.type === 'cleared')).toHaveLength(2);
    expect(engine.alarms.listActive({ device: 'tank-1' })[0]).toMatchObject({ chattering: true, occurrences: 10 });
    await close();
  });

  it('trips more than 60 s apart are not chattering', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now });
    for (let i = 0; i < 4; i++) {
      clock.set(base + i * 31_000);
      engine.onEvent(event('sos-1', 'pressed', clock.now()));
      engine.onEvent(event('sos-1', 'reset', clock.now() + 1000));
    }
    await engine.settled();
    const sos = events.filter((e) => e.alarm.device === 'sos-1');
    expect(sos.some((e) => e.alarm.chattering)).toBe(false);
    expect(sos.map((e) => e.change ?? e.type)).toEqual(['raised', 'cleared', 'retripped', 'cleared', 'retripped', 'cleared', 'retripped', 'cleared']);
    await close();
  });

  it('the site file can change the chattering policy', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now, rules: { chattering: { count: 2, windowMs: 10_000, quietMs: 5_000 } } });
    engine.onEvent(event('sos-1', 'pressed', base));
    engine.onEvent(event('sos-1', 'reset', base + 1000));
    engine.onEvent(event('sos-1', 'pressed', base + 2000));
    await engine.settled();
    expect(events.at(-1)).toMatchObject({ change: 'chattering' });
    engine.onEvent(event('sos-1', 'reset', base + 3000));
    engine.tick(base + 3000);
    await engine.settled();
    expect(events.at(-1)!.change).toBe('returned-to-normal-held');
    engine.tick(base + 6_999);
    await engine.settled();
    expect(events.at(-1)!.change).toBe('returned-to-normal-held');
    engine.tick(base + 7_000);
    await engine.settled();
    expect(events.slice(-2).map((e) => e.change ?? e.type)).toEqual(['chattering-ended', 'cleared']);
    await close();
  });
});
