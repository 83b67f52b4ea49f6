import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../common/env.ts';
import { UserStore } from '../server/auth/users.ts';
import { buildApp } from '../server/app.ts';
import { DEMO_PASSWORD } from '../server/plugins/app/auth.ts';
import { DEFAULT_LOGIN_LIMITS } from '../server/routes/api/auth.ts';
import { dashboard } from './fixtures/server-live/stack.ts';
import { freePort, waitFor } from './harness/ports.ts';
import { registeredRoutes } from './harness/routes.ts';
import { smallSite, startTestServer, testEnvironment, type TestServer } from './harness/server-app.ts';

describe('HTTP rate limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ site: smallSite(true) });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('counts requests with a bad token: 1,300 from one address hit 429, another address is served', async () => {
    const codes = new Map<number, number>();
    for (let i = 0; i < 1300; i++) {
      const res = await server.app.inject({ url: '/api/buildings', headers: { authorization: 'Bearer not-a-token' }, remoteAddress: '10.9.0.1' });
      codes.set(res.statusCode, (codes.get(res.statusCode) ?? 0) + 1);
    }
    expect(codes.get(401)).toBe(1200);
    expect(codes.get(429)).toBe(100);
    const other = await server.app.inject({ url: '/api/buildings', headers: { authorization: 'Bearer not-a-token' }, remoteAddress: '10.9.0.2' });
    expect(other.statusCode).toBe(401);
  });
});

describe('bad input', () => {
  let server: TestServer;
  let ticketId: number;
  beforeAll(async () => {
    server = await startTestServer({ site: smallSite(true), rateLimitMax: 1_000_000 });
    const created = await server.as('demo', { method: 'POST', url: '/api/tickets', payload: { category: 'general', title: 'Lobby light out', building: 'B1' } });
    ticketId = created.json().id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each<[string, unknown, string]>([
    ['{"userId": 0}', { userId: 0 }, 'userId'],
    ['{"userId": ""}', { userId: '' }, 'userId'],
    ['{"userId": false}', { userId: false }, 'userId'],
    ['{"userId": "7"}', { userId: '7' }, 'userId'],
    ['{"teamId": true}', { teamId: true }, 'teamId'],
  ])('refuses %s on assign, naming the field, and leaves the assignee', async (_name, payload, field) => {
    const res = await server.as('demo', { method: 'POST', url: `/api/tickets/${ticketId}/assign`, payload: payload as InjectOptions['payload'] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field, message: expect.stringContaining(`${field}:`) });
    expect((await server.as('demo', { url: `/api/tickets/${ticketId}` })).json().assigneeUserId).toBeNull();
  });

  it('takes no number for a title, and no text for a number', async () => {
    const title = await server.as('demo', { method: 'POST', url: '/api/tickets', payload: { category: 'general', title: 12345, building: 'B1' } });
    expect(title.statusCode).toBe(400);
    expect(title.json()).toMatchObject({ field: 'title' });
    const cost = await server.as('demo', { method: 'POST', url: `/api/tickets/${ticketId}/resolve`, payload: { cost: '12.5' } });
    expect(cost.statusCode).toBe(400);
    expect(cost.json()).toMatchObject({ field: 'cost' });
  });

  it('still converts query strings and paths', async () => {
    const res = await server.as('demo', { url: '/api/tickets?limit=5&page=1' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ limit: 5, page: 1 });
  });

  it.each([
    ['/api/devices/B1-fire/readings?from=8640000000000001', 'from'],
    ['/api/devices/B1-fire/readings?to=9999999999999999', 'to'],
    ['/api/devices/B1-fire/readings?from=275760-09-14T00:00:00Z', 'from'],
    ['/api/alarms?from=8640000000000001', 'from'],
    ['/api/alarms?to=1', 'to'],
  ])('bounds every time to 2000-2100: %s is a 400 naming %s', async (url, field) => {
    const res = await server.as('demo', { url });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field });
  });

  /** Bad values for each part of each route: none may give a 5xx, and each 400 names what to fix. */
  it('answers every route with bad input without a 5xx, and every 400 names its field', async () => {
    const BAD_IDS = ['abc', '-1', '0', '99999999999999999999', '1.5', '%00', 'x'.repeat(300)];
    const BAD_QUERY = [
      'from=8640000000000001&to=x',
      'limit=-1&page=abc',
      'limit=100000',
      'every=zz',
      'state=bogus&category=bogus',
      'assignee=someone&team=0',
      'lang=xx',
      'overdue=maybe',
      'building=&unit=',
    ];
    const BAD_BODIES: InjectOptions[] = [
      { payload: '{not json', headers: { 'content-type': 'application/json' } },
      { payload: '', headers: { 'content-type': 'application/json' } },
      { payload: '[]', headers: { 'content-type': 'application/json' } },
      { payload: 'null', headers: { 'content-type': 'application/json' } },
      { payload: { unknownField: 1 } },
      { payload: { userId: 0, teamId: '', title: 12345, building: 7, leakTestAt: 8640000000000001, cost: -1, outcome: 'maybe', until: 'x', minutes: 0 } },
      { payload: { username: 'x', password: 5, role: 'root', displayName: '' } },
      { payload: { comment: 'x'.repeat(10_000) } },
    ];
    const offenders: string[] = [];
    const check = async (method: string, url: string, extra: InjectOptions = {}): Promise<void> => {
      const res = await server.as('demo', { method: method as InjectOptions['method'], url, ...extra });
      const what = `${method} ${url} ${typeof extra.payload === 'string' ? extra.payload.slice(0, 30) : JSON.stringify(extra.payload ?? '').slice(0, 60)}`;
      if (res.statusCode >= 500) offenders.push(`${what}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      if (res.statusCode === 400) {
        const body = res.json() as { field?: string; message?: string };
        if (!body.field || !body.message?.includes(body.field)) offenders.push(`${what}: 400 without its field: ${res.body.slice(0, 200)}`);
      }
    };
    const routes = registeredRoutes(server.app).filter((r) => (r.url.startsWith('/api/') || r.url === '/metrics') && r.method !== 'HEAD' && r.method !== 'OPTIONS');
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const urls = route.url.includes(':') ? BAD_IDS.map((id) => route.url.replace(/:[A-Za-z]+/g, id)) : [route.url];
      urls.push(route.url.replace(/:id\b/g, String(ticketId)).replace(/:[A-Za-z]+/g, 'B1-fire'));
      for (const url of urls) {
        if (route.method === 'GET') for (const q of BAD_QUERY) await check('GET', `${url}?${q}`);
        else for (const body of BAD_BODIES) await check(route.method, url, body);
      }
    }
    expect(offenders).toEqual([]);
  }, 120_000);
});

describe('demo credentials outside the demo estate', () => {
  let dir: string;
  let server: TestServer;
  const admin = { username: 'chief.engineer', password: 'a long admin secret' };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fm-security-'));
    server = await startTestServer({ site: smallSite(false), dataDir: dir, env: testEnvironment(dir, { admin }) });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses the demo password for the first administrator', async () => {
    const other = await mkdtemp(join(tmpdir(), 'fm-security-'));
    try {
      const start = buildApp({ site: smallSite(false), env: testEnvironment(other, { admin: { username: 'root.admin', password: DEMO_PASSWORD } }) });
      await expect(start).rejects.toThrow(EnvironmentError);
      await expect(buildApp({ site: smallSite(false), env: testEnvironment(other, { admin: { username: 'root.admin', password: DEMO_PASSWORD } }) })).rejects.toThrow(/password: is the published demo password/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('refuses the demo password and the demo account names for new users and new passwords', async () => {
    const token = await server.login(admin.username, admin.password);
    const as = (opts: InjectOptions) => server.app.inject({ ...opts, headers: { authorization: `Bearer ${token}` } });
    const weak = await as({ method: 'POST', url: '/api/users', payload: { username: 'li.wei', displayName: 'Li Wei', role: 'administrator', password: DEMO_PASSWORD } });
    expect(weak.statusCode).toBe(400);
    expect(weak.json()).toMatchObject({ field: 'password', message: expect.stringContaining('demo password') });
    const named = await as({ method: 'POST', url: '/api/users', payload: { username: 'demo', displayName: 'Demo', role: 'viewer', password: 'another long secret' } });
    expect(named.statusCode).toBe(400);
    expect(named.json()).toMatchObject({ field: 'username' });
    const me = (await as({ url: '/api/auth/me' })).json().user.id;
    expect((await as({ method: 'PATCH', url: `/api/users/${me}`, payload: { password: DEMO_PASSWORD } })).json()).toMatchObject({ field: 'password' });
  });

  it('refuses a login with the demo password even where an account has it', async () => {
    // As if set by an older version or by hand: a store that allows it writes the hash.
    const lax = new UserStore(server.app.records.users, Date.now, { demo: true });
    const { id } = await lax.create({ username: 'old.admin', displayName: 'Old admin', role: 'administrator', password: DEMO_PASSWORD });
    expect(id).toBeGreaterThan(0);
    const res = await server.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'old.admin', password: DEMO_PASSWORD } });
    expect(res.statusCode).toBe(401);
  });
});

describe('headers, /metrics and proxies', () => {
  const started: TestServer[] = [];
  const start = async (env: Parameters<typeof testEnvironment>[1]): Promise<TestServer> => {
    const dir = await mkdtemp(join(tmpdir(), 'fm-security-'));
    const s = await startTestServer({ site: smallSite(true), dataDir: dir, env: testEnvironment(dir, env), loginLimits: DEFAULT_LOGIN_LIMITS });
    started.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of started) {
      await s.close();
      await rm(s.dataDir, { recursive: true, force: true });
    }
  });

  it('sends helmet headers with a CSP that keeps everything on the server, and no HTTPS upgrade over HTTP', async () => {
    const s = await start({});
    const res = await s.app.inject({ url: '/api/health' });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN', 'referrer-policy': 'no-referrer' });
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('answers /metrics only with METRICS_TOKEN when it is set', async () => {
    const token = 'metrics-token-0123456789';
    const s = await start({ metrics: { token, port: undefined, host: '127.0.0.1' } });
    expect((await s.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await s.app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode).toBe(401);
    const ok = await s.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('fm_alarms_active');
  });

  it('moves /metrics to METRICS_PORT when it is set', async () => {
    const port = await freePort();
    const s = await start({ metrics: { token: undefined, port, host: '127.0.0.1' } });
    expect((await s.app.inject({ url: '/metrics' })).statusCode).toBe(404);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('fm_alarms_active');
  });

  it('counts logins by the address a trusted proxy forwards, and by the peer otherwise', async () => {
    const failures = async (s: TestServer, forwardedFor: string) => {
      for (let i = 0; i < 5; i++) await s.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'demo', password: `guess-${i}` }, remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': forwardedFor } });
    };
    const login = (s: TestServer, forwardedFor: string) =>
      s.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'demo', password: DEMO_PASSWORD }, remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': forwardedFor } });
    const proxied = await start({ trustProxy: ['127.0.0.1'] });
    await failures(proxied, '203.0.113.7');
    expect((await login(proxied, '203.0.113.7')).statusCode).toBe(429);
    expect((await login(proxied, '198.51.100.4')).statusCode).toBe(200);
    const direct = await start({});
    await failures(direct, '203.0.113.7');
    expect((await login(direct, '198.51.100.4')).statusCode).toBe(429);
  });
});

describe('personal data', () => {
  let server: TestServer;
  let url: string;
  beforeAll(async () => {
    server = await startTestServer({ site: smallSite(true) });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const address = server.app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("hides the reporter's name and phone from viewers, in answers and on the dashboard feed", async () => {
    const viewer = await dashboard(url, await server.login('demo-viewer'));
    const engineer = await dashboard(url, await server.login('demo-engineer'));
    const reporter = 'Ms Li 138-0000-0000';
    const created = await server.as('demo-desk', { method: 'POST', url: '/api/tickets', payload: { category: 'water-leak', title: 'Ceiling drips', building: 'B1', unit: 'B1-0101', reporter } });
    expect(created.json().reporter).toBe(reporter);
    const id = created.json().id as number;

    expect((await server.as('demo-viewer', { url: `/api/tickets/${id}` })).json().reporter).toBeNull();
    expect((await server.as('demo-viewer', { url: '/api/tickets' })).json().items[0].reporter).toBeNull();
    expect((await server.as('demo-engineer', { url: `/api/tickets/${id}` })).json().reporter).toBe(reporter);

    const seen = (r: typeof viewer) => waitFor(() => r.of('ticket:created').find((m) => m.ticket.id === id), 10_000, 'ticket:created');
    expect((await seen(engineer)).ticket.reporter).toBe(reporter);
    expect((await seen(viewer)).ticket.reporter).toBeNull();
    expect(viewer.of('ticket:created')).toHaveLength(1);

    const late = await dashboard(url, await server.login('demo-viewer'));
    expect(late.of('snapshot')[0].tickets.find((t: { id: number }) => t.id === id).reporter).toBeNull();
    for (const r of [viewer, engineer, late]) r.socket.disconnect();
  });
});
