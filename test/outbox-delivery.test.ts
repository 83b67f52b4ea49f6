import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryLoop, type DeliveryError } from '../gateway/outbox/delivery-loop.ts';
import { DiskOutbox, type OutboxRecord } from '../gateway/outbox/disk-outbox.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { waitFor } from './harness/ports.ts';

let dir: string;
const cleanup: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fm-outbox-delivery-'));
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  await rm(dir, { recursive: true, force: true });
});

async function openOutbox(): Promise<DiskOutbox> {
  const o = await DiskOutbox.open({ dir, maxBytes: 16 * 1024 * 1024, whenFull: 'reject-new', consumers: ['store'], segmentBytes: 4096 });
  cleanup.push(() => o.close());
  return o;
}

function loopOf(o: DiskOutbox, deliver: (records: OutboxRecord[]) => Promise<void>, metrics?: MetricsRegistry): DeliveryLoop {
  const loop = new DeliveryLoop({ consumer: o.consumer('store'), deliver, maxRecordsPerDelivery: 25, backoff: { initialMs: 5, maxMs: 40 }, metrics });
  cleanup.push(() => loop.stop());
  return loop;
}

/** A delivery target that is down while `down` is true, and remembers what it accepted. */
function target() {
  const t = {
    down: false,
    calls: 0,
    accepted: [] as number[],
    deliver: async (records: OutboxRecord[]): Promise<void> => {
      t.calls++;
      await new Promise((r) => setTimeout(r, 1));
      if (t.down) throw new Error('connect ECONNREFUSED 127.0.0.1:8086');
      for (const r of records) t.accepted.push(r.payload.readUInt32LE(0));
    },
  };
  return t;
}

function payload(n: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(n, 0);
  return b;
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('DeliveryLoop', () => {
  it('retries while the target is down and, once it is back, delivers every record once, in order', async () => {
    const o = await openOutbox();
    const t = target();
    t.down = true;
    const metrics = new MetricsRegistry();
    const loop = loopOf(o, t.deliver, metrics);
    const errors: DeliveryError[] = [];
    loop.on('error', (e) => errors.push(e));
    for (let i = 0; i < 150; i++) await o.append(payload(i));
    loop.start();

    await waitFor(() => loop.failures >= 5, 20_000, 'deliveries to fail');
    expect(loop.healthy).toBe(false);
    expect(loop.lastError?.message).toMatch(/ECONNREFUSED/);
    expect(errors.length).toBe(1);
    expect(errors[0]).toMatchObject({ consumer: 'store', stage: 'deliver' });
    expect(errors[0]?.message).toMatch(/ECONNREFUSED/);
    // More readings arrive during the outage.
    await Promise.all(range(150, 150).map((i) => o.append(payload(i))));
    expect(t.accepted).toEqual([]);

    t.down = false;
    await waitFor(() => t.accepted.length >= 300, 20_000, 'the backlog to be delivered');
    expect(t.accepted).toEqual(range(0, 300));
    expect(loop.healthy).toBe(true);
    expect(loop.deliveredRecords).toBe(300);
    expect(metrics.find('fm_delivery_records_total')?.get({ consumer: 'store' })).toBe(300);
    expect(metrics.find('fm_delivery_failures_total')?.get({ consumer: 'store' })).toBe(loop.failures);
    await waitFor(() => o.consumer('store').pending === 0, 10_000, 'the cursor to reach the end');

    await o.append(payload(300));
    await waitFor(() => t.accepted.length === 301, 10_000, 'a live record to be delivered');
    expect(t.accepted.at(-1)).toBe(300);
  });

  it('delivers exactly once in order through a flaky target', async () => {
    const o = await openOutbox();
    const t = target();
    const flaky = async (records: OutboxRecord[]): Promise<void> => {
      t.down = t.calls % 3 === 1;
      await t.deliver(records);
    };
    const loop = loopOf(o, flaky);
    loop.start();
    await Promise.all(range(0, 400).map((i) => o.append(payload(i))));
    await waitFor(() => t.accepted.length >= 400, 20_000, 'all records to be delivered');
    expect(t.accepted).toEqual(range(0, 400));
    expect(loop.failures).toBeGreaterThan(0);
  });

  it('stop() during an outage leaves the records for the next start, also after a restart', async () => {
    let o = await openOutbox();
    const t = target();
    t.down = true;
    let loop = loopOf(o, t.deliver);
    for (let i = 0; i < 60; i++) await o.append(payload(i));
    loop.start();
    await waitFor(() => loop.failures >= 2, 20_000, 'deliveries to fail');
    await loop.stop();
    expect(o.consumer('store')).toMatchObject({ cursor: 0, pending: 60 });

    await o.close();
    cleanup.splice(0);
    o = await openOutbox();
    t.down = false;
    loop = loopOf(o, t.deliver);
    loop.start();
    await waitFor(() => t.accepted.length >= 60, 20_000, 'the records to be delivered after restart');
    expect(t.accepted).toEqual(range(0, 60));
  });

  it('stop() waits for the delivery in flight and commits only what was delivered', async () => {
    const o = await openOutbox();
    let release: () => void = () => undefined;
    let started = false;
    const delivered: number[][] = [];
    const loop = loopOf(o, async (records) => {
      started = true;
      await new Promise<void>((r) => (release = r));
      delivered.push(records.map((r) => r.seq));
    });
    for (let i = 0; i < 60; i++) await o.append(payload(i));
    loop.start();
    await waitFor(() => started, 10_000, 'a delivery to start');
    const stopping = loop.stop().then(() => ({ delivered: [...delivered], cursor: o.consumer('store').cursor }));
    // The target answers only after every promise callback has run, so a stop() that did not wait would have resolved first.
    setImmediate(release);
    expect(await stopping).toEqual({ delivered: [range(1, 25)], cursor: 25 });
    expect(o.consumer('store')).toMatchObject({ cursor: 25, pending: 35 });
  });
});
