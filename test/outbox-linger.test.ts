import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { DeliveryLoop } from '../gateway/outbox/delivery-loop.ts';
import { DiskOutbox } from '../gateway/outbox/disk-outbox.ts';
import { waitFor } from './harness/ports.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(lingerMs: number, maxRecords: number): Promise<{ outbox: DiskOutbox; batches: number[]; loop: DeliveryLoop }> {
  const dir = await mkdtemp(join(tmpdir(), 'fm-outbox-linger-'));
  const outbox = await DiskOutbox.open({ dir, maxBytes: 16 * 1024 * 1024, whenFull: 'reject-new', consumers: ['store'] });
  const batches: number[] = [];
  const loop = new DeliveryLoop({
    consumer: outbox.consumer('store'),
    maxRecordsPerDelivery: maxRecords,
    lingerMs,
    deliver: async (records) => {
      batches.push(records.length);
    },
  });
  cleanup.push(async () => {
    await loop.stop();
    await outbox.close();
    await rm(dir, { recursive: true, force: true });
  });
  loop.start();
  return { outbox, batches, loop };
}

it('batches by time: records trickling in within the linger window are delivered together', async () => {
  const { outbox, batches } = await setup(60_000, 1000);
  for (let i = 0; i < 5; i++) await outbox.append(Buffer.from([i]));
  // Far below the size limit and inside the window: nothing may be delivered yet.
  await new Promise((r) => setTimeout(r, 150));
  expect(batches).toEqual([]);
});

it('batches by size: a full batch goes out without waiting for the window', async () => {
  const { outbox, batches } = await setup(60_000, 10);
  await Promise.all(Array.from({ length: 25 }, (_, i) => outbox.append(Buffer.from([i]))));
  await waitFor(() => batches.reduce((a, b) => a + b, 0) >= 20, 10_000, 'two full batches');
  expect(batches.slice(0, 2)).toEqual([10, 10]);
});

it('delivers a partial batch once the window has passed', async () => {
  const { outbox, batches } = await setup(100, 1000);
  await Promise.all([0, 1, 2].map((i) => outbox.append(Buffer.from([i]))));
  await waitFor(() => batches.length > 0, 10_000, 'the lingering batch');
  expect(batches).toEqual([3]);
});
