import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryLoop, type DeliveryError } from '../gateway/outbox/delivery-loop.ts';
import { DiskOutbox, type OutboxConsumer, type OutboxRecord } from '../gateway/outbox/disk-outbox.ts';
import { waitFor } from './harness/ports.ts';

let dir: string;
const cleanup: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fm-outbox-pipeline-'));
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  await rm(dir, { recursive: true, force: true });
});

async function openOutbox(records: number): Promise<DiskOutbox> {
  const o = await DiskOutbox.open({ dir, maxBytes: 16 * 1024 * 1024, whenFull: 'reject-new', consumers: ['store'], segmentBytes: 4096 });
  cleanup.push(() => o.close());
  for (let i = 1; i <= records; i++) await o.append(Buffer.from(`record ${i}`));
  return o;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * A target whose deliveries each wait until released (or answer by themselves after `autoMs`),
 * and the outbox consumer wrapped so every commit is checked against what the target has acknowledged.
 */
function harness(o: DiskOutbox, opts: { maxInFlight: number; maxRecords: number; autoMs?: (call: number) => number | undefined }) {
  const acked = new Set<number>();
  const commits: number[] = [];
  const badCommits: string[] = [];
  const calls: { seqs: number[]; release: (err?: Error) => void; settled: boolean }[] = [];
  let inFlight = 0;
  let maxSeenInFlight = 0;
  const real = o.consumer('store');
  const consumer: OutboxConsumer = {
    name: real.name,
    read: (n, b) => real.read(n, b),
    waitForData: (s, after) => real.waitForData(s, after),
    get cursor() {
      return real.cursor;
    },
    get pending() {
      return real.pending;
    },
    commit(seq) {
      const missing = range(1, seq).filter((s) => !acked.has(s));
      if (missing.length) badCommits.push(`commit ${seq} before ${missing.join(',')} were acknowledged`);
      if (commits.length && seq <= (commits.at(-1) as number)) badCommits.push(`commit ${seq} after ${commits.at(-1)}`);
      commits.push(seq);
      return real.commit(seq);
    },
  };
  const deliver = (records: OutboxRecord[]): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const call = { seqs: records.map((r) => r.seq), settled: false, release: (_err?: Error) => undefined as void };
      inFlight++;
      maxSeenInFlight = Math.max(maxSeenInFlight, inFlight);
      call.release = (err?: Error) => {
        if (call.settled) return;
        call.settled = true;
        inFlight--;
        if (err) return reject(err);
        for (const s of call.seqs) acked.add(s);
        resolve();
      };
      calls.push(call);
      const ms = opts.autoMs?.(calls.length);
      if (ms !== undefined) setTimeout(() => call.release(), ms);
    });
  const loop = new DeliveryLoop({ consumer, deliver, maxRecordsPerDelivery: opts.maxRecords, maxInFlight: opts.maxInFlight, backoff: { initialMs: 5, maxMs: 20 } });
  cleanup.push(() => loop.stop());
  return {
    loop,
    calls,
    acked,
    commits,
    badCommits,
    get inFlight() {
      return inFlight;
    },
    get maxSeenInFlight() {
      return maxSeenInFlight;
    },
  };
}

describe('DeliveryLoop with deliveries in flight (maxInFlight)', () => {
  it('hands over the next deliveries before the first is acknowledged, and commits in order when they finish out of order', async () => {
    const o = await openOutbox(40);
    // Later deliveries answer sooner than earlier ones.
    const h = harness(o, { maxInFlight: 3, maxRecords: 5, autoMs: (call) => [30, 20, 10][call % 3] });
    h.loop.start();
    await waitFor(() => h.calls.length >= 3, 10_000, 'three deliveries in flight');
    expect(h.calls.slice(0, 3).map((c) => c.seqs)).toEqual([range(1, 5), range(6, 10), range(11, 15)]);
    await waitFor(() => o.consumer('store').cursor === 40, 20_000, 'everything to be committed');
    expect(h.maxSeenInFlight).toBe(3);
    expect(h.badCommits).toEqual([]);
    // Each record delivered once: nothing failed, so nothing is handed over twice.
    expect(h.calls.flatMap((c) => c.seqs)).toEqual(range(1, 40));
    expect(h.loop.deliveredRecords).toBe(40);
  });

  it('a failure in the middle of the pipeline: stops issuing, keeps the cursor before it, retries it, and loses nothing', async () => {
    const o = await openOutbox(30);
    const h = harness(o, { maxInFlight: 3, maxRecords: 5 });
    const errors: DeliveryError[] = [];
    h.loop.on('error', (e) => errors.push(e));
    h.loop.start();
    await waitFor(() => h.calls.length === 3, 10_000, 'three deliveries in flight');
    const [first, second, third] = h.calls as [(typeof h.calls)[0], (typeof h.calls)[0], (typeof h.calls)[0]];
    third.release();
    second.release(new Error('connect ECONNREFUSED 127.0.0.1:8086'));
    // The loop has taken both answers while the first is still in flight: no new delivery has started, and nothing is committed.
    await waitFor(() => h.loop.inFlight === 1 && errors.length === 1, 10_000, 'the loop to take both answers');
    expect(h.calls.length).toBe(3);
    expect(h.commits).toEqual([]);
    first.release();
    // The failed delivery comes again with the same records, alone.
    await waitFor(() => h.calls.length === 4, 10_000, 'the retry');
    expect(h.calls[3]?.seqs).toEqual(range(6, 10));
    await waitFor(() => h.commits.length > 0, 10_000, 'the first commit');
    expect(h.commits).toEqual([5]);
    expect(h.inFlight).toBe(1);
    h.calls[3]?.release();
    // Once it is through, the third (already acknowledged) is committed with it and the loop goes on.
    await waitFor(() => h.calls.length === 7, 10_000, 'the pipeline to fill again');
    expect(h.commits).toEqual([5, 15]);
    expect(h.calls.slice(4).map((c) => c.seqs)).toEqual([range(16, 20), range(21, 25), range(26, 30)]);
    for (const c of h.calls.slice(4)) c.release();
    await waitFor(() => o.consumer('store').cursor === 30, 10_000, 'everything to be committed');
    expect(h.badCommits).toEqual([]);
    expect([...h.acked].sort((a, b) => a - b)).toEqual(range(1, 30));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ stage: 'deliver', records: 5 });
    expect(h.loop.healthy).toBe(true);
  });

  it('stop() waits for every delivery in flight and commits only up to the first one that failed', async () => {
    const o = await openOutbox(30);
    const h = harness(o, { maxInFlight: 4, maxRecords: 5 });
    h.loop.start();
    await waitFor(() => h.calls.length === 4, 10_000, 'four deliveries in flight');
    const stopping = h.loop.stop().then(() => ({ unanswered: h.calls.filter((c) => !c.settled).length, commits: [...h.commits] }));
    h.calls[3]?.release();
    h.calls[1]?.release();
    h.calls[0]?.release();
    // The loop has taken three answers; stopping, it waits for the last one before it commits.
    await waitFor(() => h.loop.inFlight === 1, 10_000, 'the loop to take three answers');
    expect(h.commits).toEqual([]);
    h.calls[2]?.release(new Error('socket hang up'));
    expect(await stopping).toEqual({ unanswered: 0, commits: [10] });
    expect(h.calls).toHaveLength(4);
    expect(o.consumer('store')).toMatchObject({ cursor: 10, pending: 20 });
    expect(h.badCommits).toEqual([]);
  });

  it('stop() with every delivery acknowledged commits all of them', async () => {
    const o = await openOutbox(12);
    const h = harness(o, { maxInFlight: 3, maxRecords: 4 });
    h.loop.start();
    await waitFor(() => h.calls.length === 3, 10_000, 'three deliveries in flight');
    const stopping = h.loop.stop();
    for (const c of [...h.calls].reverse()) c.release();
    await stopping;
    expect(o.consumer('store')).toMatchObject({ cursor: 12, pending: 0 });
    expect(h.badCommits).toEqual([]);
  });
});
