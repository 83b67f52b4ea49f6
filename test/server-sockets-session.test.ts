import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_TTL_MS } from '../server/auth/sessions.ts';
import { dashboard, type Recorder } from './fixtures/server-live/stack.ts';
import { waitFor } from './harness/ports.ts';
import { smallSite, startTestServer, type TestServer } from './harness/server-app.ts';

/** A dashboard socket that also records why it was disconnected. */
type Watched = Recorder & { disconnects: string[] };

describe('a dashboard socket ends with its session', () => {
  let server: TestServer;
  let url: string;
  let now = Date.parse('2025-03-01T08:00:00Z');
  const opened: Watched[] = [];

  beforeAll(async () => {
    // A short check interval for the expiry case; logout and revocation must not depend on it.
    server = await startTestServer({ site: smallSite(true), clock: () => now, sessionCheckMs: 100 });
    url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const d of opened) d.socket.disconnect();
    await server?.close();
  });

  async function open(token: string): Promise<Watched> {
    const r = await dashboard(url, token);
    const watched = Object.assign(r, { disconnects: [] as string[] });
    r.socket.on('disconnect', (reason) => watched.disconnects.push(reason));
    opened.push(watched);
    return watched;
  }

  const ended = (d: Watched) => waitFor(() => (d.disconnects.length > 0 ? d.disconnects : undefined), 10_000, 'socket disconnected by the server');

  it('logout: the sockets of that token get session:expired and are disconnected; other sessions stay', async () => {
    const token = await server.login('demo-viewer');
    const other = await open(await server.login('demo-viewer'));
    const tabs = [await open(token), await open(token)];

    const res = await fetch(`${url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(204);
    for (const d of tabs) {
      expect(await ended(d)).toEqual(['io server disconnect']);
      expect(d.of('session:expired')).toEqual([{ reason: 'logout', at: now }]);
      expect(d.received.at(-1)?.event).toBe('session:expired');
      expect(d.socket.connected).toBe(false);
    }
    await expect(dashboard(url, token)).rejects.toThrow(/unknown or has expired/);
    // A round trip on the other socket: anything sent to it before would have arrived first.
    expect(await other.socket.emitWithAck('subscribe', {})).toMatchObject({ ok: true });
    expect(other.of('session:expired')).toEqual([]);
  });

  it('a new password ends every session of the user, sockets included', async () => {
    const engineer = await open(await server.login('demo-engineer'));
    const desk = await open(await server.login('demo-desk'));
    const id = (await server.app.users.credentials('demo-engineer'))!.user.id;
    const res = await server.as('demo', { method: 'PATCH', url: `/api/users/${id}`, payload: { password: 'a-new-password-1' } });
    expect(res.statusCode).toBe(200);
    expect(await ended(engineer)).toEqual(['io server disconnect']);
    expect(engineer.of('session:expired')).toEqual([{ reason: 'revoked', at: now }]);
    expect(await desk.socket.emitWithAck('subscribe', {})).toMatchObject({ ok: true });
    expect(desk.of('session:expired')).toEqual([]);
  });

  it('expiry: the periodic check disconnects the sockets whose session has run out, and no other', async () => {
    const loggedInAt = now;
    const early = await open(await server.login('demo-desk'));
    now += 60_000;
    const late = await open(await server.login('demo-desk'));
    const stillOpen = opened.filter((d) => d.socket.connected && d !== late);
    expect(stillOpen.length).toBe(3);

    now = loggedInAt + SESSION_TTL_MS - 1;
    // A check while the sessions are still valid ends none: a round trip after it shows the socket still served.
    server.app.sockets.endExpiredSessions();
    expect(await early.socket.emitWithAck('subscribe', {})).toMatchObject({ ok: true });
    expect(early.socket.connected).toBe(true);
    expect(early.of('session:expired')).toEqual([]);

    // Expired now: the periodic check (every 100 ms here) ends them.
    now = loggedInAt + SESSION_TTL_MS;
    for (const d of stillOpen) {
      expect(await ended(d)).toEqual(['io server disconnect']);
      expect(d.of('session:expired')).toEqual([{ reason: 'expired', at: now }]);
    }
    expect(await late.socket.emitWithAck('subscribe', {})).toMatchObject({ ok: true });
    expect(late.of('session:expired')).toEqual([]);
    expect(server.app.sockets.counters.sessionsEnded).toBe(6);
  });
});
