import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../common/reading.ts';
import { InfluxReadingStore } from '../gateway/store/influx-store.ts';
import { StoreWriteError } from '../gateway/store/store-write-error.ts';
import { startInfluxd, type InfluxInstance } from './harness/influxd.ts';
import { waitFor } from './harness/ports.ts';
import { requireBinary } from './harness/services.ts';

// Inside the 365d retention policy: InfluxDB drops older points.
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000;

function batch(building: string, n: number, start = T0): Reading[] {
  return Array.from({ length: n }, (_, i) => ({
    building,
    device: `tank-${i % 10}`,
    kind: 'tank',
    metric: 'level_mm',
    engUnit: 'mm',
    value: i,
    ts: start + i * 1000,
    quality: 'good',
  }));
}

describe.skipIf(!requireBinary('influxd'))('InfluxReadingStore through an InfluxDB outage', () => {
  let influxd: InfluxInstance;
  let store: InfluxReadingStore;

  beforeAll(async () => {
    influxd = await startInfluxd();
    store = new InfluxReadingStore({ url: `${influxd.url}/facility`, retention: '365d', requestTimeoutMs: 5_000 });
    await store.init();
  });

  afterAll(async () => {
    await store?.close();
    await influxd?.stop();
  });

  it('rejects writes and queries while InfluxDB is down, then writes again once it is back, data intact', async () => {
    const before = batch('outage-a', 2_000);
    await store.write(before);
    expect(await store.count({ building: 'outage-a' })).toBe(2_000);

    await influxd.pause();
    const during = batch('outage-b', 500);
    const refused: unknown = await store.write(during).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(StoreWriteError);
    expect((refused as StoreWriteError).retryable).toBe(true);
    expect((refused as Error).message).toMatch(/^InfluxDB write of 500 points on http:\/\/127\.0\.0\.1:\d+\/facility failed: (connection refused|connection lost|unreachable)/);
    await expect(store.count()).rejects.toThrow(/^InfluxDB count on .* failed/);

    await influxd.resume();
    // The caller retries what failed; the client backs off for up to 2 s after connection errors.
    await waitFor(() => store.write(during).then(() => true), 20_000, 'a write after InfluxDB restarted', 200);

    expect(await store.count({ building: 'outage-a' })).toBe(2_000);
    expect(await store.count({ building: 'outage-b' })).toBe(500);
    const points = await store.range({ device: 'tank-3', metric: 'level_mm', from: T0, to: T0 + 2_000_000 });
    expect(points.filter((p) => p.value !== null && p.value % 10 === 3)).toHaveLength(200 + 50);
  });

  it('keeps acknowledged writes when influxd is killed with SIGKILL', async () => {
    await influxd.resume();
    await waitFor(() => store.count().then(() => true), 20_000, 'InfluxDB answering', 200);
    await store.write(batch('sigkill', 1_000));
    await influxd.kill();
    await influxd.resume();
    const n = await waitFor(() => store.count({ building: 'sigkill' }), 20_000, 'a count after InfluxDB restarted', 200);
    expect(n).toBe(1_000);
  });

  it('drops readings older than the retention policy without failing the write', async () => {
    const old = batch('ancient', 10, T0 - 400 * 86_400_000);
    await store.write([...old, ...batch('recent', 10)]);
    expect(await store.count({ building: 'ancient' })).toBe(0);
    expect(await store.count({ building: 'recent' })).toBe(10);
  });

  it('marks a batch InfluxDB refuses as not retryable', async () => {
    // A field type conflict: `quality` stored as an integer first. Its own database: a conflict
    // would also hide the string values of other shards from queries.
    const refusing = new InfluxReadingStore({ url: `${influxd.url}/refusals`, retention: '365d' });
    await refusing.init();
    const res = await fetch(`${influxd.url}/write?db=refusals&rp=fm_retention&precision=ms`, {
      method: 'POST',
      body: `readings,building=conflict,device=x,kind=tank,metric=m quality=1i ${T0}`,
    });
    expect(res.status).toBe(204);
    const err: unknown = await refusing.write(batch('conflict', 5)).then(
      () => undefined,
      (e: unknown) => e,
    );
    await refusing.close();
    expect(err).toBeInstanceOf(StoreWriteError);
    expect((err as StoreWriteError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/^InfluxDB write of 5 points on .*\/refusals failed: 400 Bad Request: partial write: field type conflict/);
  });
});
