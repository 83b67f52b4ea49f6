// Outbox throughput: concurrent callers append encoded readings (each append is one ingest call,
// durable before it resolves) while a delivery loop drains and decodes them.
// Usage: npx tsx bench/outbox-throughput.ts [readings=200000]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reading } from '../common/reading.ts';
import { isMainModule } from '../common/run-process.ts';
import { decodeBatch, encodeBatch } from '../gateway/outbox/batch-codec.ts';
import { DeliveryLoop } from '../gateway/outbox/delivery-loop.ts';
import { DiskOutbox } from '../gateway/outbox/disk-outbox.ts';
import { waitFor } from '../test/harness/ports.ts';

export interface OutboxThroughputResult {
  scenario: string;
  readings: number;
  appends: number;
  seconds: number;
  readingsPerSecond: number;
  appendsPerSecond: number;
  mbPerSecond: number;
  /** Until the delivery loop had decoded the last reading. */
  deliveredReadingsPerSecond: number;
}

const METRICS = ['level_mm', 'level_pct', 'pump_running', 'battery_pct'];

function message(n: number, perAppend: number): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < perAppend; i++) {
    const d = (n * perAppend + i) >> 2;
    out.push({ building: `B${d % 3}`, device: `tank-${d % 179}`, kind: 'tank', metric: METRICS[i % 4] as string, value: (n + i) % 2 ? 1000 + i : 73.2 + i / 7, engUnit: 'mm', ts: 1_732_350_000_000 + n, quality: 'good' });
  }
  return out;
}

export async function runOutboxThroughput(scenario: string, totalReadings: number, readingsPerAppend: number, callers: number): Promise<OutboxThroughputResult> {
  const dir = await mkdtemp(join(tmpdir(), 'fm-bench-outbox-'));
  const outbox = await DiskOutbox.open({ dir, maxBytes: 1024 * 1024 * 1024, whenFull: 'reject-new', consumers: ['store'] });
  const appends = Math.ceil(totalReadings / readingsPerAppend);
  let delivered = 0;
  let deliveredAt = 0;
  const loop = new DeliveryLoop({
    consumer: outbox.consumer('store'),
    maxRecordsPerDelivery: 5000,
    deliver: async (records) => {
      for (const r of records) delivered += decodeBatch(r.payload).readings.length;
      if (delivered >= appends * readingsPerAppend) deliveredAt = performance.now();
    },
  });
  loop.start();
  let next = 0;
  let bytes = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < appends) {
        const payload = encodeBatch({ readings: message(next++, readingsPerAppend), events: [] });
        bytes += payload.length + 16;
        await outbox.append(payload);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await waitFor(() => deliveredAt, 120_000, 'the delivery loop to decode every reading', 5);
  await loop.stop();
  await outbox.close();
  await rm(dir, { recursive: true, force: true });
  const readings = appends * readingsPerAppend;
  return {
    scenario,
    readings,
    appends,
    seconds,
    readingsPerSecond: readings / seconds,
    appendsPerSecond: appends / seconds,
    mbPerSecond: bytes / 1e6 / seconds,
    deliveredReadingsPerSecond: readings / ((deliveredAt - t0) / 1000),
  };
}

if (isMainModule(import.meta.url)) {
  const total = Number(process.argv[2] ?? 200_000);
  const rows: OutboxThroughputResult[] = [];
  rows.push(await runOutboxThroughput('1 MQTT message (4 readings) per append, 64 callers', total, 4, 64));
  rows.push(await runOutboxThroughput('1 MQTT message (4 readings) per append, 512 callers', total, 4, 512));
  rows.push(await runOutboxThroughput('batches of 100 readings, 8 callers', total, 100, 8));
  console.table(
    rows.map((r) => ({
      scenario: r.scenario,
      'readings/s': Math.round(r.readingsPerSecond),
      'appends/s': Math.round(r.appendsPerSecond),
      'MB/s': r.mbPerSecond.toFixed(2),
      'delivered readings/s': Math.round(r.deliveredReadingsPerSecond),
    })),
  );
}
