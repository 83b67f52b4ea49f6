// Scenarios `store` and `outbox`: the component benchmarks of bench/store-throughput.ts and
// bench/outbox-throughput.ts, in process, as rows of the table.
import { requireBinary } from '../test/harness/services.ts';
import { runOutboxThroughput } from './outbox-throughput.ts';
import { fmt, skipped, type BenchOptions, type ScenarioResult } from './scenario.ts';
import { measureStoreThroughput } from './store-throughput.ts';

export async function runStoreScenario(bench: BenchOptions): Promise<ScenarioResult> {
  try {
    if (!requireBinary('influxd')) return skipped('store', 'influxd is not on PATH');
    const r = await measureStoreThroughput(bench.quick ? 50_000 : 200_000);
    return {
      scenario: 'store',
      status: 'ok',
      rows: [
        { measure: `InfluxReadingStore.write, batches of ${fmt.int(r.batchSize)}, one at a time (points/s)`, value: fmt.int(r.sequentialPointsPerSec) },
        { measure: `InfluxReadingStore.write, ${r.inFlight} batches in flight (points/s)`, value: fmt.int(r.concurrentPointsPerSec) },
        { measure: 'line protocol serialisation, CPU only (points/s)', value: fmt.int(r.serialiseLineProtocolPointsPerSec) },
        { measure: 'influx package writePoints, for comparison (points/s)', value: fmt.int(r.packageWritePointsPerSec) },
        { measure: 'SqliteReadingStore.write (points/s)', value: fmt.int(r.sqlitePointsPerSec) },
      ],
      details: r,
    };
  } catch (err) {
    return { scenario: 'store', status: 'failed', reason: (err as Error).stack ?? String(err), rows: [] };
  }
}

export async function runOutboxScenario(bench: BenchOptions): Promise<ScenarioResult> {
  try {
    const total = bench.quick ? 50_000 : 200_000;
    const runs = [
      await runOutboxThroughput('one MQTT message (4 readings) per append, 64 callers', total, 4, 64),
      await runOutboxThroughput('one MQTT message (4 readings) per append, 512 callers', total, 4, 512),
      await runOutboxThroughput('one connector batch (2,000 readings) per append, 4 callers', total * 5, 2000, 4),
    ];
    return {
      scenario: 'outbox',
      status: 'ok',
      rows: runs.map((r) => ({
        measure: `${r.scenario}: durable readings/s (appends/s, MB/s)`,
        value: `${fmt.int(r.readingsPerSecond)} (${fmt.int(r.appendsPerSecond)}, ${r.mbPerSecond.toFixed(1)})`,
      })),
      details: runs,
    };
  } catch (err) {
    return { scenario: 'outbox', status: 'failed', reason: (err as Error).stack ?? String(err), rows: [] };
  }
}
