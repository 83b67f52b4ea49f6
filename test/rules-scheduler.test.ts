import { afterEach, describe, expect, it, vi } from 'vitest';
import { scheduleTicks } from '../server/rules/tick-scheduler.ts';
import { newEngine, reading } from './fixtures/rules/harness.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('scheduleTicks', () => {
  it('ticks at the exact due time of an on-delay, between its regular ticks', async () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    const { engine, events, close } = newEngine({
      clock: Date.now,
      rules: { devices: { 'tank-1': { 'tank-level-high': { forMs: 1_234, offDelayMs: 0 } } } },
    });
    const ticks: number[] = [];
    const tick = engine.tick.bind(engine);
    engine.tick = (now: number) => {
      ticks.push(now);
      tick(now);
    };
    const start = Date.now();
    const scheduler = scheduleTicks(engine, { intervalMs: 1_000_000 });
    engine.onReading(reading('tank-1', 'level_mm', 3900, start));
    await vi.advanceTimersByTimeAsync(1_233);
    await engine.settled();
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await engine.settled();
    expect(events.map((e) => [e.type, e.alarm.raisedAt - start])).toEqual([['raised', 1_234]]);
    expect(ticks.map((t) => t - start)).toContain(1_234);
    scheduler.stop();
    const count = ticks.length;
    await vi.advanceTimersByTimeAsync(5_000_000);
    expect(ticks).toHaveLength(count);
    await close();
  });

  it('ticks at least every interval (offline timers, shelves)', async () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    const { engine, events, close } = newEngine({ clock: Date.now });
    const start = Date.now();
    await engine.restore(start);
    const scheduler = scheduleTicks(engine, { intervalMs: 250 });
    await vi.advanceTimersByTimeAsync(59_999);
    await engine.settled();
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await engine.settled();
    expect(events.map((e) => e.alarm.key).sort()).toEqual(['elec-1/device-offline', 'tank-1/device-offline', 'water-1/device-offline']);
    scheduler.stop();
    await close();
  });
});
