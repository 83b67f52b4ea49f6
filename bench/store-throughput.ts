import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB, type IPoint } from 'influx';
import type { Reading } from '../common/reading.ts';
import { isMainModule } from '../common/run-process.ts';
import { InfluxReadingStore } from '../gateway/store/influx-store.ts';
import { readingLine } from '../gateway/store/line-protocol.ts';
import { SqliteReadingStore } from '../gateway/store/sqlite-store.ts';
import { startInfluxd } from '../test/harness/influxd.ts';

export interface StoreThroughput {
  readings: number;
  batchSize: number;
  /** InfluxReadingStore.write, one batch at a time. */
  sequentialPointsPerSec: number;
  /** InfluxReadingStore.write, `inFlight` batches at a time (how the gateway drains its outbox). */
  concurrentPointsPerSec: number;
  inFlight: number;
  /** CPU cost of building line protocol only. */
  serialiseLineProtocolPointsPerSec: number;
  /** The influx package's Point API (writePoints) end to end, one batch at a time, for comparison. */
  packageWritePointsPerSec: number;
  /** SqliteReadingStore.write, one batch at a time, on a temp file. */
  sqlitePointsPerSec: number;
}

const METRICS = ['level_pct', 'voltage_v', 'current_a', 'power_w'];

/** Readings shaped like the demo estate: 3 buildings, ~180 devices, 4 metrics, 1 s apart. */
function syntheticReadings(n: number, start: number): Reading[] {
  const out: Reading[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const d = (i >> 2) % 180;
    out[i] = {
      building: `B${(d % 3) + 1}`,
      device: `meter-${d}`,
      kind: 'meter-electric',
      unit: `${(d % 3) + 1}-${(d % 5) + 1}-${1000 + d}`,
      metric: METRICS[i & 3]!,
      engUnit: 'kWh',
      value: Math.round(Math.sin(i) * 1e6) / 100,
      ts: start + Math.floor(i / 720) * 1000,
      quality: 'good',
    };
  }
  return out;
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export async function measureStoreThroughput(total = 200_000, batchSize = 5_000, inFlight = 3): Promise<StoreThroughput> {
  const influxd = await startInfluxd();
  try {
    const start = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 6 * 3_600_000;
    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

    const store = new InfluxReadingStore({ url: `${influxd.url}/bench`, retention: '30d' });
    await store.init();
    // Warm-up: shard creation, series index, JIT.
    await store.write(syntheticReadings(batchSize, start - 3_600_000));

    const data = syntheticReadings(total, start);
    const batches = chunks(data, batchSize);

    let t = performance.now();
    for (const b of batches) await store.write(b);
    const sequentialPointsPerSec = rate(total, performance.now() - t);

    const shifted = batches.map((b) => b.map((r) => ({ ...r, ts: r.ts + 3_600_000 })));
    t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < shifted.length) await store.write(shifted[next++]!);
      }),
    );
    const concurrentPointsPerSec = rate(total, performance.now() - t);
    await store.close();

    t = performance.now();
    let bytes = 0;
    for (const b of batches) bytes += b.map(readingLine).join('\n').length;
    const serialiseLineProtocolPointsPerSec = rate(total, performance.now() - t);
    if (bytes === 0) throw new Error('nothing serialised');

    const client = new InfluxDB(`${influxd.url}/bench`);
    const points: IPoint[][] = batches.map((b) =>
      b.map((r) => ({
        measurement: 'readings_pkg',
        tags: { building: r.building, device: r.device, kind: r.kind, metric: r.metric, ...(r.engUnit ? { eng_unit: r.engUnit } : {}), ...(r.unit ? { unit: r.unit } : {}) },
        fields: { value: r.value, quality: r.quality },
        timestamp: r.ts,
      })),
    );
    t = performance.now();
    for (const p of points) await client.writePoints(p, { precision: 'ms', retentionPolicy: 'fm_retention' });
    const packageWritePointsPerSec = rate(total, performance.now() - t);

    const dir = mkdtempSync(join(tmpdir(), 'fm-bench-sqlite-'));
    const sqlite = new SqliteReadingStore({ file: join(dir, 'readings.db') });
    await sqlite.init();
    t = performance.now();
    for (const b of batches) await sqlite.write(b);
    const sqlitePointsPerSec = rate(total, performance.now() - t);
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });

    return {
      readings: total,
      sqlitePointsPerSec,
      batchSize,
      sequentialPointsPerSec,
      concurrentPointsPerSec,
      inFlight,
      serialiseLineProtocolPointsPerSec,
      packageWritePointsPerSec,
    };
  } finally {
    await influxd.stop();
  }
}

if (isMainModule(import.meta.url)) {
  const r = await measureStoreThroughput();
  console.log(`InfluxReadingStore.write, ${r.readings} readings in batches of ${r.batchSize}:`);
  console.log(`  one batch at a time        ${r.sequentialPointsPerSec.toLocaleString('en')} points/s`);
  console.log(`  ${r.inFlight} batches in flight        ${r.concurrentPointsPerSec.toLocaleString('en')} points/s`);
  console.log(`  line protocol, CPU only    ${r.serialiseLineProtocolPointsPerSec.toLocaleString('en')} points/s`);
  console.log(`  influx writePoints (Point) ${r.packageWritePointsPerSec.toLocaleString('en')} points/s`);
  console.log(`SqliteReadingStore.write       ${r.sqlitePointsPerSec.toLocaleString('en')} points/s`);
}
