import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Coalescer } from '../server/live/coalescer.ts';

describe('Coalescer: device deltas for the dashboards', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function coalescer() {
    const batches: { at: number; keys: string[] }[] = [];
    const c = new Coalescer<string, true>(100, (b) => batches.push({ at: Date.now(), keys: [...b.keys()] }), 10, () => Date.now());
    return { c, batches };
  }

  it('hands over what arrives together shortly after, when the feed was quiet', () => {
    const { c, batches } = coalescer();
    const t0 = Date.now();
    c.mark('a', true);
    vi.advanceTimersByTime(3);
    c.mark('b', true);
    vi.advanceTimersByTime(6);
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([{ at: t0 + 10, keys: ['a', 'b'] }]);
  });

  it('hands over at most once per window, however often keys are marked', () => {
    const { c, batches } = coalescer();
    const t0 = Date.now();
    for (let i = 0; i < 1000; i++) {
      c.mark(`d${i % 7}`, true);
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(200);
    const gaps = batches.slice(1).map((b, i) => b.at - batches[i]!.at);
    expect(batches[0]!.at).toBe(t0 + 10);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
    expect(batches.length).toBeLessThanOrEqual(11);
    expect(batches.at(-1)!.keys.length).toBeGreaterThan(0);
  });

  it('waits for the rest of the window after a recent hand-over', () => {
    const { c, batches } = coalescer();
    c.mark('a', true);
    vi.advanceTimersByTime(10);
    const first = batches[0]!.at;
    vi.advanceTimersByTime(40);
    c.mark('b', true);
    vi.advanceTimersByTime(59);
    expect(batches).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(batches[1]).toEqual({ at: first + 100, keys: ['b'] });
  });
});
