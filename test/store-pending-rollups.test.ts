import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RollupLevel } from '../gateway/store/influx-rollups.ts';
import { PendingRollups } from '../gateway/store/pending-rollups.ts';
import { ManualClock } from './harness/manual-clock.ts';
import { waitFor } from './harness/ports.ts';

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

type Call = `${RollupLevel} ${number}..${number}`;

/** A rollup runner whose statements the test lets finish (or fail) one by one. */
function gatedRunner() {
  const calls: Call[] = [];
  const gates: { resolve: () => void; reject: (e: Error) => void }[] = [];
  return {
    calls,
    run: (level: RollupLevel, from: number, to: number) =>
      new Promise<void>((resolve, reject) => {
        calls.push(`${level} ${(from - T0) / 60_000}..${(to - T0) / 60_000}`);
        gates.push({ resolve, reject });
      }),
    async next(outcome: 'ok' | Error = 'ok'): Promise<void> {
      await waitFor(() => gates.length > 0, 5_000, 'a rollup statement');
      const g = gates.shift()!;
      if (outcome === 'ok') g.resolve();
      else g.reject(outcome);
    },
  };
}

describe('pending rollups of late readings', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fm-pending-rollups-'));
    file = join(dir, 'rollups-pending.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the span on disk from the write until it is rolled up, merging what comes meanwhile', async () => {
    const runner = gatedRunner();
    const pending = new PendingRollups({ run: runner.run, file });
    await pending.add(T0 + 5 * 60_000, T0 + 6 * 60_000 + 1);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ first: T0 + 5 * 60_000, last: T0 + 6 * 60_000 + 1 });
    await waitFor(() => runner.calls.length === 1, 5_000, 'the first statement');
    // Recorded while the first run is on: the file holds both until each is done.
    await pending.add(T0 + 90 * 60_000, T0 + 91 * 60_000);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ first: T0 + 5 * 60_000, last: T0 + 91 * 60_000 });
    await runner.next();
    await runner.next();
    await runner.next();
    await runner.next();
    expect(await pending.idle()).toBe(true);
    expect(runner.calls).toEqual(['1m 5..7', '1h 0..60', '1m 90..92', '1h 60..120']);
    expect(existsSync(file)).toBe(false);
  });

  it('retries a failed statement after a back-off, and a restart finishes what the file holds', async () => {
    const clock = new ManualClock(T0);
    const runner = gatedRunner();
    const first = new PendingRollups({ run: runner.run, file, clock });
    await first.add(T0, T0 + 10 * 60_000);
    await runner.next(new Error('InfluxDB down'));
    await waitFor(() => clock.pending.length === 1, 5_000, 'the back-off');
    expect(clock.pending[0]! - clock.now()).toBe(1000);
    clock.advance(1000);
    await waitFor(() => runner.calls.length === 2, 5_000, 'the retry');
    expect(runner.calls).toEqual(['1m 0..11', '1m 0..11']);
    // The gateway stops before the retry succeeds: the span stays for the next start.
    const stopped = first.stop();
    await runner.next(new Error('connection closed'));
    await stopped;
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ first: T0, last: T0 + 10 * 60_000 });

    const again = gatedRunner();
    const second = new PendingRollups({ run: again.run, file, clock });
    await second.load();
    await again.next();
    await again.next();
    expect(await second.idle()).toBe(true);
    expect(again.calls).toEqual(['1m 0..11', '1h 0..60']);
    expect(existsSync(file)).toBe(false);
  });

  it('takes a statement InfluxDB never answers for a failure, and stops without waiting for it', async () => {
    const clock = new ManualClock(T0);
    const calls: string[] = [];
    // The first statement hangs for ever, as an HTTP request can when InfluxDB dies under it.
    const pending = new PendingRollups({ run: () => (calls.push('run'), calls.length === 1 ? new Promise<void>(() => undefined) : Promise.resolve()), clock, statementTimeoutMs: 60_000 });
    await pending.add(T0, T0 + 1000);
    await waitFor(() => clock.pending.length === 1, 5_000, 'the statement timeout');
    clock.advance(60_000);
    await waitFor(() => clock.pending.length === 1 && calls.length === 1, 5_000, 'the back-off');
    clock.advance(1000);
    expect(await pending.idle()).toBe(true);
    expect(calls).toEqual(['run', 'run', 'run']);

    const hung = new PendingRollups({ run: () => new Promise<void>(() => undefined), clock, stopWaitMs: 2_000 });
    await hung.add(T0, T0 + 1000);
    const stopped = hung.stop();
    await waitFor(() => clock.pending.includes(clock.now() + 2_000), 5_000, 'the wait of stop()');
    clock.advance(2_000);
    await stopped;
  });
});
