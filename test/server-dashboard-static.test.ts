import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '../common/i18n/labels.ts';
import { DASHBOARD_DIST, dashboardStaleReason } from '../server/dashboard/dashboard-build.ts';
import { dashboardPlugin } from '../server/plugins/app/dashboard.ts';
import { smallSite, startTestServer, type TestServer } from './harness/server-app.ts';

describe('the server serves the dashboard and what it needs', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ site: smallSite(true) });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('has an up-to-date build (vitest builds it once before the tests)', () => {
    expect(dashboardStaleReason()).toBeUndefined();
  });

  it('serves the page at / (revalidated) and its hashed assets (cached for good)', async () => {
    const page = await server.app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const asset = await server.app.inject({ method: 'GET', url: script! });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await server.app.inject({ method: 'GET', url: '/api/nothing-here' })).statusCode).toBe(404);
  });

  it('serves the label catalogue without a login, one language or both', async () => {
    const en = await server.app.inject({ method: 'GET', url: '/api/labels?lang=en' });
    expect(en.statusCode).toBe(200);
    expect(en.json()).toEqual({ languages: ['en'], labels: { en: LABELS.en } });
    const both = (await server.app.inject({ method: 'GET', url: '/api/labels' })).json();
    expect(both.labels['zh-CN']['ticketAction.acknowledge']).toBe('签领');
    const bad = await server.app.inject({ method: 'GET', url: '/api/labels?lang=fr' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/zh-CN, en/);
  });

  it('names the estate, its time zone and its buildings to a logged-in user', async () => {
    expect((await server.app.inject({ method: 'GET', url: '/api/site' })).statusCode).toBe(401);
    const res = await server.as('demo-viewer', { method: 'GET', url: '/api/site' });
    expect(res.json()).toEqual({
      id: 'test-estate',
      name: 'Test estate 测试小区',
      timezone: 'Asia/Shanghai',
      demo: true,
      buildings: [
        { id: 'B1', name: 'Block 1', type: 'residential', units: 2, devices: 2 },
        { id: 'B2', name: 'Block 2', type: 'office', units: 0, devices: 1 },
      ],
    });
  });
});

describe('a server without a built dashboard', () => {
  let empty: string;
  beforeAll(async () => {
    empty = await mkdtemp(join(tmpdir(), 'fm-no-dashboard-'));
  });
  afterAll(async () => {
    await rm(empty, { recursive: true, force: true });
  });

  it('says at / how to build it, instead of a bare 404', async () => {
    const app = Fastify();
    await app.register(dashboardPlugin, { root: empty });
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:dashboard');
    await app.close();
    expect(DASHBOARD_DIST).toMatch(/dashboard[/\\]dist$/);
  });
});
