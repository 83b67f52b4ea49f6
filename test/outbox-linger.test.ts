import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { DeliveryLoop } from '../gateway/outbox/delivery-loop.ts';
import { DiskOutbox } from '../gateway/outbox/disk-outbox.ts';
import { ManualClock } from './harness/manual-clock.ts';
import { waitFor } from './harness/ports.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(lingerMs: number, maxRecords: number, clock = new ManualClock()): Promise<{ outbox: DiskOutbox; batches: number[]; loop: DeliveryLoop }> {
  const dir = await mkdtemp(join(tmpdir(), 'fm-outbox-linger-'));
  const outbox = await DiskOutbox.open({ dir, maxBytes: 16 * 1024 * 1024, whenFull: 'reject-new', consumers: ['store'] });
  const batches: number[] = [];
  const loop = new DeliveryLoop({
    consumer: outbox.consumer('store'),
    maxRecordsPerDelivery: maxRecords,
    lingerMs,
    clock,
    deliver: async (records) => {
      batches.push(records.length);
    },
  });
  cleanup.push(async () => {
    await loop.stop();
    await outbox.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { outbox, batches, loop };
}

it('batches by time: records trickling in within the linger window are delivered together once it has passed', async () => {
  const clock = new ManualClock();
  const start = clock.now();
  const { outbox, batches, loop } = await setup(60_000, 1000, clock);
  for (let i = 0; i < 3; i++) await outbox.append(Buffer.from([i]));
  loop.start();
  // The loop has read the three records and sleeps until the window ends instead of delivering them.
  await waitFor(() => clock.pending.length === 1, 10_000, 'the loop to linger');
  expect(clock.pending).toEqual([start + 60_000]);
  expect(batches).toEqual([]);

  clock.advance(30_000);
  await outbox.append(Buffer.from([3]));
  // Woken by the new record, it read it and went back to sleep until the same end of the window.
  await waitFor(() => clock.sleeps === 2 && clock.pending.length === 1, 10_000, 'the loop to linger again');
  expect(clock.pending).toEqual([start + 60_000]);
  expect(batches).toEqual([]);

  clock.advance(30_000);
  await waitFor(() => batches.length > 0, 10_000, 'the lingering delivery');
  expect(batches).toEqual([4]);
  expect(loop.stats()).toMatchObject({ deliveries: 1, deliveredRecords: 4 });
});

it('batches by size: a full batch goes out without waiting for the window', async () => {
  const clock = new ManualClock();
  const { outbox, batches, loop } = await setup(60_000, 10, clock);
  loop.start();
  await Promise.all(Array.from({ length: 25 }, (_, i) => outbox.append(Buffer.from([i]))));
  await waitFor(() => batches.reduce((a, b) => a + b, 0) >= 20, 10_000, 'two full batches');
  expect(batches.slice(0, 2)).toEqual([10, 10]);
  // The five left wait for the window.
  await waitFor(() => clock.pending.length === 1, 10_000, 'the loop to linger with the rest');
  expect(batches).toEqual([10, 10]);
  clock.advance(60_000);
  await waitFor(() => batches.length === 3, 10_000, 'the rest after the window');
  expect(batches).toEqual([10, 10, 5]);
});
