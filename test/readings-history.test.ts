import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../common/reading.ts';
import { openReadingHistory } from '../common/readings/open-reading-history.ts';
import type { ReadingHistory } from '../common/readings/reading-history.ts';
import { SqliteReadingStore } from '../gateway/store/sqlite-store.ts';
import { startInfluxd, type InfluxInstance } from './harness/influxd.ts';
import { freePort } from './harness/ports.ts';
import { requireBinary } from './harness/services.ts';

const T0 = 1_732_350_000_000;
const DAY = 86_400_000;
const reading = (device: string, ts: number, value: number): Reading => ({ building: 'b1', device, kind: 'tank', metric: 'level_mm', value, ts, quality: 'good' });

async function nothingStored(history: ReadingHistory): Promise<void> {
  expect(await history.latest()).toEqual([]);
  expect(await history.count()).toBe(0);
  expect(await history.range({ device: 't1', from: T0, to: T0 + DAY, every: 3_600_000 })).toEqual([]);
  expect(await history.events({ from: T0, to: T0 + DAY })).toEqual([]);
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('reading history, SQLite', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fm-history-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers empty while the gateway has not created readings.db, and creates nothing', async () => {
    const history = openReadingHistory({ dataDir: join(dir, 'not-yet') });
    expect(history.backend).toBe('sqlite');
    await nothingStored(history);
    await expect(history.range({ device: 't1', from: T0, to: T0 + 1, every: 0 })).rejects.toThrow(/every must be a positive/);
    expect(existsSync(join(dir, 'not-yet'))).toBe(false);
    await history.close();
  });

  it('answers from the file once the gateway has written it, without changing a byte of it', async () => {
    const dataDir = join(dir, 'later');
    const history = openReadingHistory({ dataDir });
    await nothingStored(history);

    const gateway = new SqliteReadingStore({ file: join(dataDir, 'readings.db') });
    await gateway.init();
    await gateway.write([reading('t1', T0 - 40 * DAY, 1), reading('t1', T0, 2)]);
    await gateway.close();
    const before = sha256(join(dataDir, 'readings.db'));

    expect(await history.count()).toBe(2);
    expect((await history.latest()).map((r) => r.value)).toEqual([2]);
    await history.close();
    expect(sha256(join(dataDir, 'readings.db'))).toBe(before);
  });

  it('sees each commit of the gateway while it keeps the file open, and refuses queries once closed', async () => {
    const dataDir = join(dir, 'read-only');
    const gateway = new SqliteReadingStore({ file: join(dataDir, 'readings.db') });
    await gateway.init();
    await gateway.write([reading('t1', T0, 1)]);
    const history = openReadingHistory({ dataDir });
    expect(await history.count()).toBe(1);
    await gateway.write([reading('t1', T0 + 1000, 2)]);
    expect(await history.count()).toBe(2);
    await gateway.close();
    await history.close();
    await expect(history.count()).rejects.toThrow(/closed/);
  });
});

describe.skipIf(!requireBinary('influxd'))('reading history, InfluxDB', () => {
  let influxd: InfluxInstance;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  const databases = async (): Promise<string[]> => {
    const res = await fetch(`${influxd.url}/query?q=${encodeURIComponent('SHOW DATABASES')}`);
    const body = (await res.json()) as { results: Array<{ series?: Array<{ values?: string[][] }> }> };
    return (body.results[0]?.series?.[0]?.values ?? []).map((v) => v[0]!);
  };

  it('answers empty while the database does not exist, and never creates it', async () => {
    const history = openReadingHistory({ influxUrl: `${influxd.url}/facility`, dataDir: '/nonexistent' });
    expect(history.backend).toBe('influxdb');
    await nothingStored(history);
    expect(await databases()).not.toContain('facility');
    await history.close();
  });

  it('answers empty while the database has no fm_retention policy yet', async () => {
    await fetch(`${influxd.url}/query?q=${encodeURIComponent('CREATE DATABASE "bare"')}`, { method: 'POST' });
    const history = openReadingHistory({ influxUrl: `${influxd.url}/bare`, dataDir: '/nonexistent' });
    await nothingStored(history);
    await history.close();
  });

  it('names the store and the cause when InfluxDB does not answer', async () => {
    const history = openReadingHistory({ influxUrl: `http://127.0.0.1:${await freePort()}/facility`, dataDir: '/nonexistent' });
    await expect(history.count()).rejects.toThrow(/^InfluxDB count on http:\/\/127\.0\.0\.1:\d+\/facility failed: connection refused/);
    await history.close();
  });
});
