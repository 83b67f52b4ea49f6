import { describe, expect, it } from 'vitest';
import { Reconnector } from '../gateway/connectors/reconnector.ts';
import { ManualClock } from './harness/manual-clock.ts';
import { waitFor } from './harness/ports.ts';

/** A link that opens when `up` is true; attempts are counted. */
function link() {
  const state = { up: false, open: false, attempts: 0 };
  const tryOpen = async (): Promise<boolean> => {
    state.attempts++;
    state.open = state.up;
    return state.open;
  };
  return { state, tryOpen, isOpen: () => state.open };
}

describe('Reconnector', () => {
  it('tries again one attempt at a time, each delay between half and all of a step that doubles up to the cap', async () => {
    const clock = new ManualClock();
    const { state, tryOpen, isOpen } = link();
    const r = new Reconnector(tryOpen, isOpen, { initialMs: 100, maxMs: 400 }, clock);
    expect(await r.open()).toBe(false);
    for (const step of [100, 200, 400, 400]) {
      await waitFor(() => clock.pending.length === 1, 10_000, 'the next attempt to be scheduled');
      r.schedule();
      r.schedule();
      expect(clock.pending).toHaveLength(1);
      const delay = clock.pending[0]! - clock.now();
      expect(delay).toBeGreaterThanOrEqual(step / 2);
      expect(delay).toBeLessThanOrEqual(step);
      const attempts = state.attempts;
      clock.advance(delay);
      await waitFor(() => state.attempts === attempts + 1, 10_000, 'the attempt');
    }
    state.up = true;
    await waitFor(() => clock.pending.length === 1, 10_000, 'the next attempt to be scheduled');
    clock.advance(400);
    await waitFor(() => state.open, 10_000, 'open');
    expect(r.attempt).toBe(0);
    expect(clock.pending).toEqual([]);
    // Lost: the first delay is the initial one again.
    state.open = false;
    r.schedule();
    expect(clock.pending[0]! - clock.now()).toBeLessThanOrEqual(100);
    await r.close();
  });

  it('stops trying once closed: the waiting attempt is cancelled', async () => {
    const clock = new ManualClock();
    const { state, tryOpen, isOpen } = link();
    const r = new Reconnector(tryOpen, isOpen, {}, clock);
    await r.open();
    await waitFor(() => clock.pending.length === 1, 10_000, 'an attempt to be scheduled');
    await r.close();
    expect(clock.pending).toEqual([]);
    expect(r.closed).toBe(true);
    clock.advance(60_000);
    r.schedule();
    expect(clock.pending).toEqual([]);
    expect(state.attempts).toBe(1);
  });
});
