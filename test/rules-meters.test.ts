import { describe, expect, it } from 'vitest';
import { manualClock, newEngine, reading } from './fixtures/rules/harness.ts';

const MIN = 60_000;
const round = (v: number) => Math.round(v * 1000) / 1000;

describe('water meter leak: counter advance per hour above the limit (1 m³/h)', () => {
  it('normal use raises nothing; a leak raises once the last hour exceeds 1 m³; it clears when the hour is back under 0.9 m³', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now, rules: { kinds: { 'meter-water': { 'device-offline': { enabled: false } } } } });
    let volume = 120.5;
    // 0–120 min: 0.01 m³/min (0.6 m³/h). 120–180: leak, 0.04 m³/min. 180–300: nothing used.
    for (let m = 0; m <= 300; m++) {
      if (m > 0) volume = round(volume + (m <= 120 ? 0.01 : m <= 180 ? 0.04 : 0));
      clock.set(base + m * MIN);
      engine.onReading(reading('water-1', 'volume_m3', volume, clock.now()));
      if (m === 150) engine.onReading(reading('water-1', 'volume_m3', null, clock.now() + 1, 'bad'));
      engine.tick(clock.now());
    }
    await engine.settled();
    const leak = events.filter((e) => e.alarm.ruleId === 'water-leak');
    // Window of the last 60 min at 120+m: 0.6 + 0.03·m m³ > 1 from m = 14.
    await engine.settled();
    expect(leak.map((e) => [e.type, (e.type === 'raised' ? e.alarm.raisedAt : e.alarm.clearedAt!) - base])).toEqual([
      ['raised', 134 * MIN],
      // At 180+k the window holds (60−k) minutes of leak: 0.04·(60−k) ≤ 0.9 from k = 38.
      ['cleared', 218 * MIN],
    ]);
    const raised = leak[0]!.alarm;
    await engine.settled();
    expect(raised.value).toBeCloseTo(1.02, 6);
    expect(raised.limit).toBe(1);
    expect(raised).toMatchObject({ category: 'water-leak', unit: 'B1-0101', metric: 'volume_m3' });
    expect(raised.title.zh).toContain('疑似漏水');
    expect(events.filter((e) => e.alarm.device === 'water-1' && e.alarm.ruleId !== 'water-leak')).toEqual([]);
    await close();
  });

  it('a big leak raises within minutes, without waiting for a full hour of samples', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now });
    for (let m = 0; m <= 10; m++) engine.onReading(reading('water-1', 'volume_m3', round(10 + m * 0.2), base + m * MIN));
    await engine.settled();
    expect(events.map((e) => [e.type, e.alarm.ruleId, e.alarm.raisedAt - base])).toEqual([['raised', 'water-leak', 6 * MIN]]);
    await close();
  });
});

describe('meter counter going backwards (meter fault)', () => {
  it('raises on a decrease beyond the tolerance, clears after an hour without another, and does not count as consumption', async () => {
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({ clock: clock.now });
    const series: [number, number][] = [
      [0, 100],
      [5, 100.001],
      [10, 100.0005], // within the 0.001 tolerance: float noise, not a fault
      [15, 101],
      [20, 50], // meter replaced
      [25, 50.5],
      [30, 51],
      [60, 52],
      [80, 53],
      [85, 54],
    ];
    for (const [m, v] of series) {
      clock.set(base + m * MIN);
      engine.onReading(reading('elec-1', 'energy_kwh', v, clock.now()));
      engine.tick(clock.now());
    }
    await engine.settled();
    const mine = events.filter((e) => e.alarm.device === 'elec-1');
    expect(mine.map((e) => [e.type, e.alarm.ruleId, (e.type === 'raised' ? e.alarm.raisedAt : e.alarm.clearedAt!) - base])).toEqual([
      ['raised', 'meter-backwards', 20 * MIN],
      ['cleared', 'meter-backwards', 80 * MIN],
    ]);
    await engine.settled();
    expect(mine[0]!.alarm).toMatchObject({ value: 50, details: { previous: 101 }, category: 'general', metric: 'energy_kwh' });
    await close();
  });
});
