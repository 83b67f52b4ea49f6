import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../common/reading.ts';
import { loadSiteFile } from '../common/site/load.ts';
import type { SiteConfig } from '../common/site/types.ts';
import { SqliteReadingStore } from '../gateway/store/sqlite-store.ts';
import { errorBody } from '../server/plugins/external/error-handler.ts';
import { registeredRoutes } from './harness/routes.ts';
import { startTestServer, type TestServer } from './harness/server-app.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// Aligned to the hour, so 30-minute windows start at T0 - 2 h.
const T0 = Math.floor(Date.now() / HOUR) * HOUR;

let site: SiteConfig;
let dir: string;
let server: TestServer;
const now = T0;

/** Two hours of a roof tank at one reading a minute: level_mm = 1000 + 10 i, the pump on for the second hour. */
function tankReadings(): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < 120; i++) {
    const ts = T0 - 2 * HOUR + i * MINUTE;
    out.push({ building: 'T1', device: 'T1-tank', kind: 'tank', metric: 'level_mm', engUnit: 'mm', value: 1000 + 10 * i, ts, quality: 'good' });
    out.push({ building: 'T1', device: 'T1-tank', kind: 'tank', metric: 'pump_running', value: i >= 60 ? 1 : 0, ts, quality: 'good' });
  }
  // A failed poll: stored with its quality, left out of aggregates.
  out.push({ building: 'T1', device: 'T1-tank', kind: 'tank', metric: 'level_mm', engUnit: 'mm', value: null, ts: T0 - 90 * MINUTE + 30_000, quality: 'bad' });
  return out;
}

beforeAll(async () => {
  site = loadSiteFile();
  dir = await mkdtemp(join(tmpdir(), 'fm-server-api-'));
  // What the gateway would have written into DATA_DIR/readings.db.
  const gateway = new SqliteReadingStore({ file: join(dir, 'readings.db') });
  await gateway.init();
  await gateway.write(tankReadings());
  await gateway.close();
  server = await startTestServer({ site, dataDir: dir, clock: () => now });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const get = async (url: string, user = 'demo-viewer') => server.as(user, { url });

describe('GET /api/buildings', () => {
  it('lists every building of the site file with its devices and no alarms', async () => {
    const res = await get('/api/buildings');
    expect(res.statusCode).toBe(200);
    const buildings = res.json() as Array<{ id: string; units: number; devices: { total: number; unknown: number }; condition: string; alarms: { active: number } }>;
    expect(buildings.map((b) => b.id)).toEqual(site.buildings.map((b) => b.id));
    for (const b of buildings) {
      const config = site.buildings.find((x) => x.id === b.id)!;
      expect(b).toMatchObject({ units: config.units.length, devices: { total: config.devices.length, unknown: config.devices.length }, condition: 'normal', alarms: { active: 0 } });
    }
  });

  it('counts an active alarm by severity, and the alarm opens a work order by itself', async () => {
    server.app.rules.onEvent({ building: 'T1', device: 'T1-fire', kind: 'fire-panel', event: 'alarm', ts: T0 - MINUTE, attrs: { zone: 'T1-3F-east' } });
    await server.app.rules.settled();
    const t1 = ((await get('/api/buildings')).json() as Array<{ id: string }>).find((b) => b.id === 'T1');
    expect(t1).toMatchObject({ condition: 'alarm', worstSeverity: 'critical', alarms: { open: 1, active: 1, unacknowledged: 1, bySeverity: { critical: 1, high: 0, medium: 0, low: 0 } } });

    const alarms = (await get('/api/alarms')).json();
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ device: 'T1-fire', building: 'T1', severity: 'critical', category: 'fire-safety', state: 'active-unacknowledged', instance: 'T1-3F-east' });

    const tickets = (await get('/api/tickets?source=alarm')).json();
    expect(tickets.items).toEqual([expect.objectContaining({ source: 'alarm', deviceId: 'T1-fire', building: 'T1', category: 'fire-safety', priority: 'critical', state: 'open' })]);
    expect((await server.app.inject({ url: '/metrics' })).body).toMatch(/^fm_alarms_active\{severity="critical"\} 1$/m);
  });
});

describe('alarms', () => {
  let id: string;
  beforeAll(async () => {
    id = (await get('/api/alarms?building=T1')).json()[0].id;
  });

  it('acknowledges as the logged-in engineer', async () => {
    const res = await server.as('demo-engineer', { method: 'POST', url: `/api/alarms/${id}/acknowledge`, payload: { comment: 'panel checked, smoke in 3F' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ state: 'active-acknowledged', acknowledgedBy: 'demo-engineer', acknowledgeComment: 'panel checked, smoke in 3F', acknowledgedAt: now });
    const again = await server.as('demo-engineer', { method: 'POST', url: `/api/alarms/${id}/acknowledge` });
    expect(again.statusCode).toBe(409);
    expect((await server.as('demo-engineer', { method: 'POST', url: '/api/alarms/no-such-alarm/acknowledge' })).statusCode).toBe(404);
  });

  it('shelves for minutes or until a time, with a reason, at most 24 hours', async () => {
    const shelve = (payload: Record<string, unknown>) => server.as('demo-engineer', { method: 'POST', url: `/api/alarms/${id}/shelve`, payload });
    const refused: Array<[Record<string, unknown>, string]> = [
      [{ minutes: 30 }, 'reason'],
      [{ reason: 'detector replaced' }, 'until'],
      [{ reason: 'x', minutes: 30, until: now + HOUR }, 'until'],
      [{ reason: 'x', until: now - 1 }, 'until'],
      [{ reason: 'x', until: now + 25 * HOUR }, 'until'],
      [{ reason: 'x', minutes: 1441 }, 'minutes'],
      [{ reason: '   ', minutes: 5 }, 'reason'],
    ];
    for (const [payload, field] of refused) {
      const res = await shelve(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().field, JSON.stringify(payload)).toBe(field);
    }
    const ok = await shelve({ reason: 'detector being replaced', minutes: 30 });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().shelved).toEqual({ by: 'demo-engineer', reason: 'detector being replaced', at: now, until: now + 30 * MINUTE });
  });

  it('lists the history with filters', async () => {
    const res = await get(`/api/alarms?history=1&building=T1&from=${T0 - HOUR}&to=${T0}`);
    expect(res.statusCode, res.body).toBe(200);
    const history = res.json();
    expect(history.map((a: { id: string }) => a.id)).toEqual([id]);
    expect((await get(`/api/alarms?history=true&building=T2`)).json()).toEqual([]);
    const bad = await get(`/api/alarms?history=1&from=${T0}&to=${T0 - 1}`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('from');
    const notHistory = await get(`/api/alarms?from=${T0}`);
    expect(notHistory.statusCode).toBe(400);
    expect(notHistory.json().message).toMatch(/history=1/);
  });
});

describe('GET /api/devices/{id}', () => {
  it('gives the configuration and the latest reading of each metric from the reading store', async () => {
    const res = await get('/api/devices/T1-tank');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      id: 'T1-tank',
      name: expect.stringContaining('roof tank'),
      building: 'T1',
      kind: 'tank',
      unit: null,
      protocol: 'modbus',
      address: 'T1-modbus unit 1',
      params: { heightMm: 4000, lowAlarmMm: 800, highAlarmMm: 3800 },
      metrics: ['level_mm', 'pump_running', 'float_low', 'float_high'],
      latest: [
        { metric: 'level_mm', value: 2190, quality: 'good', ts: T0 - MINUTE, engUnit: 'mm' },
        { metric: 'pump_running', value: 1, quality: 'good', ts: T0 - MINUTE, engUnit: null },
      ],
    });
  });

  it('shows an MQTT device with its topics and no readings yet', async () => {
    const res = await get('/api/devices/T1-fire');
    expect(res.json()).toMatchObject({ protocol: 'mqtt', address: 'site/T1/T1-fire/telemetry, site/T1/T1-fire/event', metrics: null, latest: [] });
  });

  it('shows a DL/T 645 meter through the same protocol-neutral view', async () => {
    const res = await get('/api/devices/OB-101-electric');
    expect(res.json()).toMatchObject({ kind: 'meter-electric', unit: 'OB-101', protocol: 'dlt645', address: 'OB-dlt645 meter 000000000101', metrics: ['energy_kwh', 'voltage_v', 'current_a', 'power_w'] });
    const list = await get('/api/devices?building=OB&kind=meter-electric');
    expect(list.json().map((d: { protocol: string }) => d.protocol)).toEqual(Array(8).fill('dlt645'));
  });

  it('answers 404 for a device the site file does not have', async () => {
    const res = await get('/api/devices/T9-tank');
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toMatch(/no device T9-tank/);
  });
});

describe('GET /api/devices/{id}/readings', () => {
  const readings = async (query: string) => get(`/api/devices/T1-tank/readings?${query}`);

  it('returns raw points of a range, one metric', async () => {
    const res = await readings(`metric=level_mm&from=${T0 - 10 * MINUTE}&to=${T0}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ device: 'T1-tank', from: T0 - 10 * MINUTE, to: T0, every: null, aggregate: null });
    expect(body.points).toEqual(Array.from({ length: 10 }, (_, k) => ({ metric: 'level_mm', ts: T0 - 10 * MINUTE + k * MINUTE, value: 1000 + 10 * (110 + k) })));
  });

  it('defaults to the last hour up to now, every metric', async () => {
    const body = (await readings('')).json();
    expect(body).toMatchObject({ from: T0 - HOUR, to: T0 });
    expect(body.points).toHaveLength(120);
    expect(new Set(body.points.map((p: { metric: string }) => p.metric))).toEqual(new Set(['level_mm', 'pump_running']));
  });

  it('aggregates in windows aligned to the epoch; every in ms or with a unit', async () => {
    // Window k holds i = 30k .. 30k+29: mean level 1000 + 10 (30k + 14.5).
    const expected = [0, 1, 2, 3].map((k) => ({ metric: 'level_mm', ts: T0 - 2 * HOUR + k * 30 * MINUTE, value: 1000 + 10 * (30 * k + 14.5) }));
    for (const every of ['30m', '1800000', '0.5h']) {
      const res = await readings(`metric=level_mm&from=${T0 - 2 * HOUR}&to=${T0}&every=${every}`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ every: 30 * MINUTE, aggregate: 'mean', points: expected });
    }
    const max = (await readings(`metric=pump_running&from=${T0 - 2 * HOUR}&to=${T0}&every=1h&aggregate=max`)).json();
    expect(max.points).toEqual([
      { metric: 'pump_running', ts: T0 - 2 * HOUR, value: 0 },
      { metric: 'pump_running', ts: T0 - HOUR, value: 1 },
    ]);
    const count = (await readings(`metric=level_mm&from=${T0 - 2 * HOUR}&to=${T0 - HOUR}&every=1h&aggregate=count`)).json();
    expect(count.points).toEqual([{ metric: 'level_mm', ts: T0 - 2 * HOUR, value: 60 }]);
  });

  it('takes ISO 8601 times with a zone', async () => {
    const from = new Date(T0 - 3 * MINUTE).toISOString();
    const to = new Date(T0 - MINUTE).toISOString().replace('Z', '+00:00');
    const body = (await readings(`metric=level_mm&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)).json();
    expect(body.points.map((p: { ts: number }) => p.ts)).toEqual([T0 - 3 * MINUTE, T0 - 2 * MINUTE]);
  });

  const refused: Array<[string, string, string]> = [
    ['from after to', `from=${T0}&to=${T0 - 1}`, 'from'],
    ['from equal to to', `from=${T0}&to=${T0}`, 'from'],
    ['from in local time without a zone', `from=2025-03-01T08:00:00&to=${T0}`, 'from'],
    ['to not a time', `to=tomorrow`, 'to'],
    ['every not a duration', `every=5x`, 'every'],
    ['every zero', `every=0`, 'every'],
    ['a day of raw readings', `from=${T0 - 24 * HOUR}&to=${T0}&resolution=raw`, 'every'],
    ['a rollup in windows it does not divide', `from=${T0 - 24 * HOUR}&to=${T0}&every=90s&resolution=1m`, 'every'],
    ['an unknown resolution', `resolution=5m`, 'resolution'],
    ['too many windows', `from=${T0 - 24 * HOUR}&to=${T0}&every=1s`, 'every'],
    ['aggregate without every', `aggregate=max`, 'aggregate'],
    ['unknown aggregate', `every=5m&aggregate=median`, 'aggregate'],
  ];
  it.each(refused)('400 naming the field: %s', async (_name, query, field) => {
    const res = await readings(query);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error: 'Bad Request', field });
  });

  it('answers 404 for an unknown device', async () => {
    expect((await get('/api/devices/nope/readings')).statusCode).toBe(404);
  });
});

describe('GET /api/health and /metrics', () => {
  it('reports database, store and broker without a login', async () => {
    const res = await server.app.inject({ url: '/api/health' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ok',
      checks: { database: { ok: true, backend: 'sqlite' }, store: { ok: true, backend: 'sqlite' }, broker: { ok: true, embedded: true, url: expect.stringMatching(/^mqtt:\/\/127\.0\.0\.1:\d+$/) } },
    });
  });

  it('serves Prometheus text with work orders, alarms, store health and readings in', async () => {
    const res = await server.app.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    for (const line of [
      /^# TYPE fm_work_orders_open gauge$/m,
      /^fm_work_orders_open\{category="fire-safety"\} 1$/m,
      /^fm_work_orders_overdue\{kind="response"\} \d+$/m,
      /^fm_work_orders_overdue\{kind="callback"\} 0$/m,
      /^fm_reading_store_up\{backend="sqlite"\} 1$/m,
      /^fm_readings_received_total 0$/m,
      /^fm_alarms_active\{severity="high"\} 0$/m,
    ]) {
      expect(res.body).toMatch(line);
    }
  });
});

describe('OpenAPI at /docs', () => {
  it('serves the UI and an OpenAPI document listing every route with its schemas', async () => {
    expect((await server.app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
    const res = await server.app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, { content?: Record<string, { schema?: unknown }> }>; requestBody?: unknown; parameters?: unknown[] }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    // The dashboard's files (/, /index.html, /assets/…) are pages, not API.
    const dashboardFile = (url: string) => url === '/' || url === '/index.html' || url.startsWith('/assets/');
    const routes = registeredRoutes(server.app).filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs') && !dashboardFile(r.url));
    expect(routes.length).toBeGreaterThan(25);
    for (const r of routes) {
      const path = r.url.replace(/:(\w+)/g, '{$1}');
      const op = doc.paths[path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${path} missing from /docs/json`).toBeDefined();
      const success = Object.entries(op!.responses).find(([code]) => code.startsWith('2'));
      expect(success, `${r.method} ${path} documents no success response`).toBeDefined();
      if (success![0] !== '204') expect(Object.values(success![1].content ?? {})[0]?.schema, `${r.method} ${path} success schema`).toBeDefined();
      if (r.url.startsWith('/api/') && r.url !== '/api/auth/login' && r.url !== '/api/health' && r.url !== '/api/labels') {
        expect(op!.security, `${r.method} ${path} security`).toEqual([{ bearerAuth: [] }]);
        expect(op!.responses['401'], `${r.method} ${path} 401`).toBeDefined();
      }
      if (r.method === 'POST' && r.url !== '/api/auth/logout' && !r.url.endsWith('/unshelve')) {
        expect(op!.requestBody, `${r.method} ${path} request body`).toBeDefined();
      }
    }
  });
});

describe('failures', () => {
  it('a 5xx body hides the cause and gives the request id; a 4xx body keeps its message', () => {
    const request = { id: 'req-42' } as FastifyRequest;
    const internal = errorBody(new Error('SQLITE_CORRUPT: /var/lib/fm/records.db page 7'), request);
    expect(internal.statusCode).toBe(500);
    expect(JSON.stringify(internal.body)).not.toMatch(/SQLITE|records\.db/);
    expect(internal.body).toEqual({ error: 'Internal Server Error', message: expect.stringContaining('req-42') });
    const refused = errorBody(Object.assign(new Error('work order 9 does not exist'), { statusCode: 404 }), request);
    expect(refused).toMatchObject({ statusCode: 404, body: { error: 'Not Found', message: 'work order 9 does not exist' } });
  });

  // Last: it closes the reading store of the shared server.
  it('a reading store that stops answering gives 503 on history, in health and in /metrics', async () => {
    await server.app.readings.close();
    const device = await get('/api/devices/T1-tank');
    expect(device.statusCode).toBe(503);
    expect(device.json().message).toMatch(/reading store did not answer/);
    const health = await server.app.inject({ url: '/api/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ status: 'degraded', checks: { store: { ok: false }, database: { ok: true } } });
    expect((await server.app.inject({ url: '/metrics' })).body).toMatch(/^fm_reading_store_up\{backend="sqlite"\} 0$/m);
    // Records do not depend on the store.
    expect((await get('/api/tickets')).statusCode).toBe(200);
  });
});
