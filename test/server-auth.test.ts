import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { buildApp } from '../server/app.ts';
import { authPlugin, DEMO_PASSWORD, DEMO_USERS } from '../server/plugins/app/auth.ts';
import { configPlugin } from '../server/plugins/app/config.ts';
import { DEFAULT_LOGIN_LIMITS } from '../server/routes/api/auth.ts';
import { recordsPlugin } from '../server/plugins/app/records.ts';
import { describeRecords } from './harness/records.ts';
import { registeredRoutes } from './harness/routes.ts';
import { smallSite, startTestServer, testEnvironment, type TestServer } from './harness/server-app.ts';

// The label catalogue is public: the login page is labelled before anyone logs in.
const PUBLIC_API = ['POST /api/auth/login', 'GET /api/health', 'HEAD /api/health', 'GET /api/labels', 'HEAD /api/labels'];
const HOUR = 3_600_000;

const START = Date.parse('2025-03-01T08:00:00Z');
let server: TestServer;
let now = START;

const sample = (url: string): string => url.replace(/:id\b/g, '1');

describeRecords('auth', (backend) => {
  beforeAll(async () => {
    now = START;
    server = await startTestServer({ site: smallSite(true), clock: () => now, ...(await backend.serverOptions()) });
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('every /api route but login, health and the labels needs a login', () => {
    it('answers 401 without a token and with an unknown token, on every registered route', async () => {
      const routes = registeredRoutes(server.app).filter((r) => r.url.startsWith('/api/'));
      expect(routes.length).toBeGreaterThan(20);
      const open: string[] = [];
      for (const r of routes) {
        const id = `${r.method} ${r.url}`;
        if (PUBLIC_API.includes(id)) continue;
        for (const headers of [{}, { authorization: 'Bearer not-a-token' }, { authorization: 'Basic ZGVtbzpkZW1vLXBhc3N3b3Jk' }]) {
          const res = await server.app.inject({ method: r.method as 'GET', url: sample(r.url), headers, payload: r.method === 'POST' || r.method === 'PATCH' ? {} : undefined });
          if (res.statusCode !== 401) open.push(`${id} ${JSON.stringify(headers)} -> ${res.statusCode}`);
          else if (r.method !== 'HEAD') {
            expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
            expect(res.json()).toMatchObject({ error: 'Unauthorized', message: expect.stringMatching(/log in|token/) });
          }
        }
      }
      expect(open).toEqual([]);
    });

    it('the only public API routes are login, health and the labels', async () => {
      const routes = registeredRoutes(server.app).filter((r) => r.url.startsWith('/api/'));
      const reachable: string[] = [];
      for (const r of routes) {
        const res = await server.app.inject({ method: r.method as 'GET', url: sample(r.url), payload: r.method === 'POST' || r.method === 'PATCH' ? {} : undefined });
        if (res.statusCode !== 401) reachable.push(`${r.method} ${r.url}`);
      }
      expect(reachable.sort()).toEqual([...PUBLIC_API].sort());
    });

    it('refuses to start when an /api route declares neither roles nor public', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'fm-server-'));
      const app = Fastify();
      try {
        await app.register(configPlugin, { site: smallSite(true), env: testEnvironment(dir, await backend.serverOptions()) });
        await app.register(recordsPlugin);
        await app.register(authPlugin);
        const outcome = await (async () => {
          await app.register(
            async (api) => {
              api.get('/forgotten', async () => ({}));
            },
            { prefix: '/api' },
          );
          await app.ready();
          return 'started';
        })().catch((err: Error) => err.message);
        expect(outcome).toMatch(/GET \/api\/forgotten must declare config.roles/);
      } finally {
        await app.close().catch(() => {});
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('roles', () => {
    let ticketId: number;
    beforeAll(async () => {
      const res = await server.as('demo-desk', { method: 'POST', url: '/api/tickets', payload: { title: 'Lobby light out', building: 'B1', category: 'electrical' } });
      expect(res.statusCode).toBe(201);
      ticketId = res.json().id;
    });

  const EVERYONE = DEMO_USERS.map((u) => u.username);
  const STAFF = EVERYONE.filter((u) => u !== 'demo-viewer');
  const ENGINEERING = ['demo', 'demo-engineer', 'demo-eng-supervisor', 'demo-manager', 'demo-property-manager'];
  const CUSTOMER_SERVICE = ['demo', 'demo-desk', 'demo-cs-supervisor', 'demo-manager', 'demo-property-manager'];
    // [what, method, url, body, roles allowed]
    const matrix: Array<[string, 'GET' | 'POST' | 'PATCH', string, unknown, string[]]> = [
    ['read tickets', 'GET', '/api/tickets', undefined, EVERYONE],
    ['read buildings', 'GET', '/api/buildings', undefined, EVERYONE],
    ['read the monthly statistics', 'GET', '/api/reports/monthly', undefined, EVERYONE],
    ['create a ticket', 'POST', '/api/tickets', { title: 'Door sticks', building: 'B1', category: 'general' }, STAFF],
    ['acknowledge a ticket', 'POST', '/api/tickets/{t}/acknowledge', {}, ENGINEERING],
    ['start a ticket', 'POST', '/api/tickets/{t}/start', {}, ENGINEERING],
    ['check a repair', 'POST', '/api/tickets/{t}/quality-check', { result: 'pass' }, ENGINEERING],
    ['verify a repair', 'POST', '/api/tickets/{t}/verify', { result: 'ok' }, ENGINEERING],
    ['reply to a complaint', 'POST', '/api/tickets/{t}/reply', { comment: 'we are on it' }, CUSTOMER_SERVICE],
    ['record a callback', 'POST', '/api/tickets/{t}/callback', { outcome: 'satisfied', satisfaction: 'satisfied' }, CUSTOMER_SERVICE],
    ['escalate a ticket', 'POST', '/api/tickets/{t}/escalate', { comment: 'needs the manager' }, STAFF],
    ['acknowledge an alarm', 'POST', '/api/alarms/no-such-alarm/acknowledge', {}, ENGINEERING],
    ['shelve an alarm', 'POST', '/api/alarms/no-such-alarm/shelve', { reason: 'maintenance', minutes: 30 }, ENGINEERING],
      ['create a user', 'POST', '/api/users', { username: 'x-{u}', displayName: 'X', role: 'viewer', password: 'long-enough-1' }, ['demo']],
      ['change a user', 'PATCH', '/api/users/4', { displayName: 'Viewer' }, ['demo']],
    ];

    it.each(matrix)('%s: allowed roles pass, the others get 403', async (_what, method, url, body, allowed) => {
      for (const user of DEMO_USERS) {
        const res = await server.as(user.username, {
          method,
          url: url.replace('{t}', String(ticketId)),
          ...(body === undefined ? {} : { payload: JSON.parse(JSON.stringify(body).replace('{u}', user.username)) }),
        });
        if (allowed.includes(user.username)) {
          expect([401, 403], `${user.username} ${method} ${url}: ${res.body}`).not.toContain(res.statusCode);
        } else {
          expect(res.statusCode, `${user.username} ${method} ${url}: ${res.body}`).toBe(403);
          expect(res.json().message).toContain(user.role);
        }
      }
    });
  });

  describe('login', () => {
    it('gives a token and the user, never a password hash', async () => {
      const res = await server.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'demo-engineer', password: DEMO_PASSWORD } });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ tokenType: 'Bearer', expiresAt: now + 12 * HOUR, user: { username: 'demo-engineer', role: 'engineer' } });
      expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const me = await server.app.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${body.token}` } });
      expect(me.json()).toMatchObject({ user: { username: 'demo-engineer' } });
    });

    it('never answers with a password or its hash', async () => {
      const created = await server.as('demo', { method: 'POST', url: '/api/users', payload: { username: 'li.ming', displayName: 'Li Ming', role: 'engineer', password: 'correct horse battery' } });
      expect(created.statusCode).toBe(201);
      const answers = [
        created,
        await server.as('demo', { method: 'PATCH', url: `/api/users/${created.json().id}`, payload: { password: 'another long secret' } }),
        await server.as('demo', { url: '/api/users' }),
        await server.as('demo', { url: '/api/auth/me' }),
        await server.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'li.ming', password: 'another long secret' } }),
      ];
      for (const res of answers) {
        expect(res.statusCode, res.body).toBeLessThan(300);
        expect(res.body).not.toMatch(/scrypt|password|hash|another long secret/i);
      }
    });

    it('stores salted scrypt hashes with their parameters', async () => {
      const db = server.app.records.client;
      const hashes = (await db.query<{ h: string }>("SELECT password_hash AS h FROM users WHERE username LIKE 'demo%'")).map((r) => r.h);
      expect(hashes).toHaveLength(DEMO_USERS.length);
      for (const h of hashes) expect(h).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
      // Same password, different salts.
      expect(new Set(hashes).size).toBe(DEMO_USERS.length);
      expect((await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM sessions'))[0]!.n).toBeGreaterThan(0);
      expect(JSON.stringify(await db.query('SELECT token_hash FROM sessions'))).not.toContain('Bearer');
    });

    it('refuses a wrong password and an unknown user alike', async () => {
      for (const payload of [{ username: 'demo', password: 'wrong-password' }, { username: 'nobody', password: 'whatever' }]) {
        const res = await server.app.inject({ method: 'POST', url: '/api/auth/login', payload, remoteAddress: '10.9.9.9' });
        expect(res.statusCode).toBe(401);
        expect(res.json().message).toBe('wrong username or password');
      }
    });

    it('names the missing field of a malformed login', async () => {
      const res = await server.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'demo' } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ field: 'password' });
    });

    it('logout ends the session; a token expires after 12 hours', async () => {
      const token = await server.login('demo-viewer');
      const auth = { authorization: `Bearer ${token}` };
      expect((await server.app.inject({ url: '/api/auth/me', headers: auth })).statusCode).toBe(200);
      expect((await server.app.inject({ method: 'POST', url: '/api/auth/logout', headers: auth })).statusCode).toBe(204);
      expect((await server.app.inject({ url: '/api/auth/me', headers: auth })).statusCode).toBe(401);

      const later = await server.login('demo-viewer');
      const laterAuth = { authorization: `Bearer ${later}` };
      now += 12 * HOUR - 1;
      expect((await server.app.inject({ url: '/api/auth/me', headers: laterAuth })).statusCode).toBe(200);
      now += 1;
      const expired = await server.app.inject({ url: '/api/auth/me', headers: laterAuth });
      expect(expired.statusCode).toBe(401);
      expect(expired.json().message).toMatch(/expired/);
    });

    it('a new password or role ends the sessions of that user', async () => {
      const created = await server.as('demo', { method: 'POST', url: '/api/users', payload: { username: 'wang.fang', displayName: 'Wang Fang', role: 'viewer', password: 'first password 1' } });
      const token = await server.login('wang.fang', 'first password 1');
      await server.as('demo', { method: 'PATCH', url: `/api/users/${created.json().id}`, payload: { role: 'engineer' } });
      expect((await server.app.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
      const again = await server.login('wang.fang', 'first password 1');
      expect((await server.app.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${again}` } })).json().user.role).toBe('engineer');
    });
  });

  describe('login rate limits', () => {
    let limited: TestServer;
    let now = Date.now();
    beforeAll(async () => {
      limited = await startTestServer({ site: smallSite(true), loginLimits: DEFAULT_LOGIN_LIMITS, clock: () => now, ...(await backend.serverOptions()) });
    });
    afterAll(async () => {
      await limited?.close();
    });
    const login = (username: string, password: string, remoteAddress: string) =>
      limited.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, remoteAddress });

  it('backs off a username at the address that keeps failing, doubling the wait, and only there', async () => {
    for (let i = 0; i < 5; i++) expect((await login('demo-desk', `guess-${i}`, '10.1.0.1')).statusCode).toBe(401);
    const blocked = await login('demo-desk', DEMO_PASSWORD, '10.1.0.1');
      expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ error: 'Too Many Requests', message: expect.stringContaining('for this user from this address') });
    expect(blocked.headers['retry-after']).toBe('1');
      // Usernames compare without case.
    expect((await login('DEMO-DESK', DEMO_PASSWORD, '10.1.0.1')).statusCode).toBe(429);
    // Nobody locks the account out from elsewhere: its owner logs in from another address.
    expect((await login('demo-desk', DEMO_PASSWORD, '10.1.0.2')).statusCode).toBe(200);
    now += 1000;
    expect((await login('demo-desk', 'guess-5', '10.1.0.1')).statusCode).toBe(401);
    expect((await login('demo-desk', DEMO_PASSWORD, '10.1.0.1')).headers['retry-after']).toBe('2');
    now += 2000;
    expect((await login('demo-desk', DEMO_PASSWORD, '10.1.0.1')).statusCode).toBe(200);
    // A success forgets the failures.
    expect((await login('demo-desk', 'guess-6', '10.1.0.1')).statusCode).toBe(401);
    expect((await login('demo-desk', DEMO_PASSWORD, '10.1.0.1')).statusCode).toBe(200);
    });

    it('allows 20 attempts per address per minute, whatever the usernames', async () => {
      const ip = '10.2.0.1';
      for (let i = 0; i < 20; i++) expect((await login(`user-${i}`, 'x', ip)).statusCode).toBe(401);
      const blocked = await login('demo', DEMO_PASSWORD, ip);
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json().message).toContain('from this address');
      expect((await login('demo', DEMO_PASSWORD, '10.2.0.2')).statusCode).toBe(200);
    });
  });

  describe('demo users exist only in the demo estate', () => {
    it('creates one demo user per role in the demo estate', async () => {
      const users = (await server.as('demo', { url: '/api/users' })).json() as Array<{ username: string; role: string }>;
      for (const u of DEMO_USERS) expect(users).toContainEqual(expect.objectContaining({ username: u.username, role: u.role }));
    });

    it('an estate that is not the demo refuses to start without ADMIN_USERNAME and ADMIN_PASSWORD', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'fm-server-'));
      try {
        const records = await backend.serverOptions();
        await expect(buildApp({ site: smallSite(false), env: testEnvironment(dir, records) })).rejects.toThrow(/ADMIN_USERNAME and ADMIN_PASSWORD/);
        await expect(buildApp({ site: smallSite(false), env: testEnvironment(dir, { ...records, admin: { username: 'root', password: 'short' } }) })).rejects.toThrow(
          /ADMIN_USERNAME\/ADMIN_PASSWORD: password: must have at least 10 characters/,
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('has only the administrator from the environment, and no demo login', async () => {
      const site = smallSite(false);
      const dir = await mkdtemp(join(tmpdir(), 'fm-server-'));
      const admin = { username: 'chief.engineer', password: 'a long admin secret' };
      try {
        const estate = await startTestServer({ site, dataDir: dir, env: testEnvironment(dir, { ...(await backend.serverOptions()), admin }) });
        try {
          const demo = await estate.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'demo', password: DEMO_PASSWORD } });
          expect(demo.statusCode).toBe(401);
          const token = await estate.login(admin.username, admin.password);
          const users = (await estate.app.inject({ url: '/api/users', headers: { authorization: `Bearer ${token}` } })).json() as Array<{ username: string; role: string }>;
          expect(users.map((u) => [u.username, u.role])).toEqual([[admin.username, 'administrator']]);
        } finally {
          await estate.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('disables the demo accounts when a demo DATA_DIR is reused for a real estate', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'fm-server-'));
      try {
        const records = await backend.serverOptions();
        const demo = await startTestServer({ site: smallSite(true), dataDir: dir, ...records });
        const token = await demo.login('demo');
        await demo.close();
        const real = await startTestServer({ site: smallSite(false), dataDir: dir, env: testEnvironment(dir, { ...records, admin: { username: 'owner', password: 'owner password 1' } }) });
        try {
          for (const u of DEMO_USERS) {
            const res = await real.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: u.username, password: DEMO_PASSWORD } });
            expect(res.statusCode, u.username).toBe(401);
          }
          expect((await real.app.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
          expect(await real.login('owner', 'owner password 1')).toBeTruthy();
        } finally {
          await real.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
