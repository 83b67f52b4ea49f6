import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../common/reading.ts';
import type { SiteConfig } from '../common/site/types.ts';
import { SqliteReadingStore } from '../gateway/store/sqlite-store.ts';
import { startInfluxd, type InfluxInstance } from './harness/influxd.ts';
import { smallSite, startTestServer, testEnvironment } from './harness/server-app.ts';
import { requireBinary } from './harness/services.ts';

// The server only reads the reading store: the gateway creates the InfluxDB database and its
// retention policy, and prunes the SQLite file. A server that did either would race the gateway
// over the retention of the site file it was started with.

const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR;

/** The small test estate with a one-hour retention: a store that pruned would delete everything below. */
function siteWithShortRetention(): SiteConfig {
  const site = smallSite(true);
  return { ...site, gateway: { ...site.gateway, store: { ...site.gateway.store, retention: '1h' } } };
}

describe('server reading history over SQLite', () => {
  let dir: string;
  const file = () => join(dir, 'readings.db');
  const old: Reading[] = Array.from({ length: 48 }, (_, i) => ({
    building: 'B1',
    device: 'B1-door',
    kind: 'door',
    metric: 'open',
    value: i % 2,
    ts: NOW - 3 * 24 * HOUR + i * HOUR,
    quality: 'good',
  }));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fm-server-history-'));
    const gateway = new SqliteReadingStore({ file: file() });
    await gateway.init();
    await gateway.write(old);
    await gateway.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves readings older than the retention and leaves readings.db as the gateway wrote it', async () => {
    const before = createHash('sha256').update(await readFile(file())).digest('hex');
    const server = await startTestServer({ site: siteWithShortRetention(), dataDir: dir, clock: () => NOW });
    try {
      const res = await server.as('demo-viewer', { url: `/api/devices/B1-door/readings?from=${NOW - 4 * 24 * HOUR}&to=${NOW}&every=1d&aggregate=count` });
      expect(res.statusCode).toBe(200);
      expect((res.json() as { points: Array<{ value: number }> }).points.reduce((n, p) => n + p.value, 0)).toBe(old.length);
      const health = await server.app.inject({ url: '/api/health' });
      expect(health.json()).toMatchObject({ checks: { store: { ok: true, backend: 'sqlite' } } });
    } finally {
      await server.close();
    }
    const db = new Database(file(), { readonly: true });
    try {
      expect(db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM readings').get()!.n).toBe(old.length);
    } finally {
      db.close();
    }
    expect(createHash('sha256').update(await readFile(file())).digest('hex')).toBe(before);
  });

  it('answers empty and healthy before the gateway has created readings.db', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'fm-server-history-empty-'));
    const server = await startTestServer({ site: siteWithShortRetention(), clock: () => NOW, env: testEnvironment(empty) });
    try {
      const res = await server.as('demo-viewer', { url: `/api/devices/B1-door/readings?from=${NOW - HOUR}&to=${NOW}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ device: 'B1-door', points: [] });
      expect((await server.as('demo-viewer', { url: '/api/devices/B1-door' })).json()).toMatchObject({ latest: [] });
      expect((await server.app.inject({ url: '/api/health' })).json()).toMatchObject({ checks: { store: { ok: true, backend: 'sqlite' } } });
    } finally {
      await server.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!requireBinary('influxd'))('server reading history over InfluxDB', () => {
  let influxd: InfluxInstance;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  it('answers history, device, health and /metrics without creating the database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fm-server-influx-'));
    const server = await startTestServer({
      site: siteWithShortRetention(),
      dataDir: dir,
      clock: () => NOW,
      env: testEnvironment(dir, { influxUrl: `${influxd.url}/facility` }),
    });
    try {
      const history = await server.as('demo-viewer', { url: `/api/devices/B1-door/readings?from=${NOW - HOUR}&to=${NOW}` });
      expect(history.statusCode).toBe(200);
      expect(history.json()).toMatchObject({ points: [] });
      expect((await server.as('demo-viewer', { url: '/api/devices/B1-door' })).json()).toMatchObject({ latest: [] });
      expect((await server.app.inject({ url: '/api/health' })).json()).toMatchObject({ checks: { store: { ok: true, backend: 'influxdb' } } });
      expect((await server.app.inject({ url: '/metrics' })).body).toMatch(/^fm_reading_store_up\{backend="influxdb"\} 1$/m);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
    const res = await fetch(`${influxd.url}/query?q=${encodeURIComponent('SHOW DATABASES')}`);
    const body = (await res.json()) as { results: Array<{ series?: Array<{ values?: string[][] }> }> };
    expect((body.results[0]?.series?.[0]?.values ?? []).flat()).not.toContain('facility');
  });
});
