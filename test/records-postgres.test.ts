import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../server/records/migrations.ts';
import { numberParameters } from '../server/records/postgres/numbered-parameters.ts';
import { PostgresClient, openPostgresRecords } from '../server/records/postgres/postgres-client.ts';
import { RecordsUnavailableError, describeDatabase } from '../server/records/postgres/postgres-errors.ts';
import type { RecordsClient } from '../server/records/records-client.ts';
import { openDatabase } from '../server/records/sqlite/open-database.ts';
import { everyStatement } from './fixtures/records/every-statement.ts';
import { freePort } from './harness/ports.ts';
import { describePostgres } from './harness/records.ts';
import { smallSite, startTestServer } from './harness/server-app.ts';

describe('numbering ? parameters for PostgreSQL', () => {
  it.each([
    ['SELECT * FROM t WHERE a = ? AND b IN (?, ?)', 'SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)', 3],
    ["SELECT 'what?' AS q, ? AS p", "SELECT 'what?' AS q, $1 AS p", 1],
    ["SELECT 'it''s ?' AS q WHERE x = ?", "SELECT 'it''s ?' AS q WHERE x = $1", 1],
    ['SELECT "odd?name" FROM t WHERE y = ?', 'SELECT "odd?name" FROM t WHERE y = $1', 1],
    ['SELECT 1 -- why?\nWHERE z = ?', 'SELECT 1 -- why?\nWHERE z = $1', 1],
    ['SELECT /* who? */ ?', 'SELECT /* who? */ $1', 1],
    ['SELECT 1', 'SELECT 1', 0],
  ])('%j', (sql, text, count) => {
    expect(numberParameters(sql)).toEqual({ text, count });
  });
});

describe('naming a PostgreSQL database in logs and errors', () => {
  it.each([
    ['postgres://facility:hunter2@db.example:5432/facility', 'postgres://***@db.example:5432/facility'],
    ['postgres://db.example/facility?sslmode=require&password=hunter2', 'postgres://db.example/facility?sslmode=require'],
    ['postgres://db.example/facility?password=hunter2&sslmode=require', 'postgres://db.example/facility?sslmode=require'],
    ['postgresql:///facility?host=/var/run/postgresql', 'postgresql:///facility?host=/var/run/postgresql'],
  ])('%s', (url, shown) => {
    expect(describeDatabase(url)).toBe(shown);
  });
});

/** A URL of the test server with a password in it, which no message may show (the server trusts every login). */
const withPassword = (url: string) => url.replace('postgres://postgres@', 'postgres://postgres:hunter2-secret@');

describePostgres('records in PostgreSQL', (backend, server) => {
  it('every migration has a PostgreSQL text', () => {
    const missing = MIGRATIONS.filter((m) => typeof m.sql !== 'string' && m.sql.postgres === undefined).map((m) => `${m.version} (${m.name})`);
    expect(missing).toEqual([]);
  });

  it("the migrations build the same tables and columns as in SQLite's dialect", async () => {
    const client = await (await backend.database({ empty: true })).open();
    const inPostgres = (
      await client.query<{ c: string }>(
        "SELECT table_name || '.' || column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY table_name, ordinal_position",
      )
    ).map((r) => r.c);
    const sqlite = openDatabase(':memory:');
    try {
      const tables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
      const inSqlite = tables.flatMap((t) => (sqlite.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => `${t}.${c.name}`));
      expect(inPostgres).toEqual(inSqlite);
    } finally {
      sqlite.close();
    }
  });

  it('every repository method runs there, through the services', async () => {
    const { statements, uncalled } = await everyStatement(await backend.open());
    expect(uncalled).toEqual([]);
    expect(statements.size).toBeGreaterThan(30);
  });

  it('a statement outside a transaction sees nothing of a transaction until it commits, then all of it', async () => {
    const client = await backend.open();
    await client.run('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const outside: string[][] = [];
    const look = async () => outside.push((await client.query<{ k: string }>('SELECT k FROM t ORDER BY k')).map((r) => r.k));
    await client.transaction(async (tx) => {
      await tx.run("INSERT INTO t (k) VALUES ('a')");
      await look();
      await tx.run("INSERT INTO t (k) VALUES ('b')");
      await look();
    });
    await look();
    expect(outside).toEqual([[], [], ['a', 'b']]);
  });

  it('runs a transaction again when PostgreSQL ends it to break a deadlock, and gives up after transactionAttempts', async () => {
    const database = await backend.database();
    // deadlock_timeout: how long a waiting transaction waits before it looks for a deadlock; the
    // one that looks first finds it and is ended, so the victim is the pool with the short one.
    const waiting = (timeout: string) => `${database.location}?options=${encodeURIComponent(`-c deadlock_timeout=${timeout}`)}`;
    const survivor = new PostgresClient(waiting('10s'));
    const victims = [new PostgresClient(waiting('20ms')), new PostgresClient(waiting('20ms'), { transactionAttempts: 1 })];
    try {
      await survivor.run('CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER NOT NULL)');
      await survivor.run("INSERT INTO t (k, n) VALUES ('x', 0), ('y', 0)");
      const deadlock = async (victim: PostgresClient) => {
        let runs = 0;
        let xLocked!: () => void;
        let yLocked!: () => void;
        const xHeld = new Promise<void>((r) => (xLocked = r));
        const yHeld = new Promise<void>((r) => (yLocked = r));
        // Each locks one row, waits until the other holds the other row, then wants it: a deadlock on the first run.
        const first = survivor.transaction(async (tx) => {
          runs++;
          await tx.run("UPDATE t SET n = n + 1 WHERE k = 'x'");
          xLocked();
          await yHeld;
          await tx.run("UPDATE t SET n = n + 1 WHERE k = 'y'");
        });
        const second = victim.transaction(async (tx) => {
          runs++;
          await tx.run("UPDATE t SET n = n + 1 WHERE k = 'y'");
          yLocked();
          await xHeld;
          await tx.run("UPDATE t SET n = n + 1 WHERE k = 'x'");
        });
        return { outcomes: await Promise.allSettled([first, second]), runs };
      };
      const retried = await deadlock(victims[0]!);
      expect(retried.outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(retried.runs).toBe(3);
      expect(await survivor.query('SELECT k, n FROM t ORDER BY k')).toEqual([
        { k: 'x', n: 2 },
        { k: 'y', n: 2 },
      ]);
      const once_ = await deadlock(victims[1]!);
      expect(once_.outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
      expect((once_.outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: '40P01' });
      expect(once_.runs).toBe(2);
    } finally {
      await Promise.all([survivor.close(), ...victims.map((v) => v.close())]);
    }
  });

  it('returns an integer beyond what a JavaScript number holds exactly as an error, not a wrong number', async () => {
    const client = await backend.open();
    expect(await client.query('SELECT CAST(9007199254740991 AS BIGINT) AS n')).toEqual([{ n: 9007199254740991 }]);
    await expect(client.query('SELECT CAST(9007199254740993 AS BIGINT) AS n')).rejects.toThrow(/9007199254740993 is beyond the range/);
    // The connection is still good.
    await client.ping();
  });

  it('names an unreachable database by host, port and name, never by its password', async () => {
    const port = await freePort();
    const url = `postgres://facility:hunter2-secret@127.0.0.1:${port}/facility`;
    const error = await openPostgresRecords(url, { connectTimeoutMs: 2_000 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RecordsUnavailableError);
    expect((error as Error).message).toMatch(new RegExp(`^records database postgres://\\*\\*\\*@127\\.0\\.0\\.1:${port}/facility is not reachable: .*ECONNREFUSED`));
    expect((error as Error).message).not.toContain('hunter2');
    const missing = withPassword((await server()).urlFor('no_such_database'));
    const noDatabase = await openPostgresRecords(missing).catch((err: unknown) => err);
    expect(noDatabase).toBeInstanceOf(RecordsUnavailableError);
    expect((noDatabase as Error).message).toMatch(/no_such_database.*does not exist/);
    expect((noDatabase as Error).message).not.toContain('hunter2');
  });

  it('survives losing its connections: in a transaction the caller gets the error, an idle one is reported, the pool opens new ones', async () => {
    const database = await backend.database();
    const client = new PostgresClient(database.location);
    const other = await database.open();
    try {
      const killed = client.transaction((tx) => tx.query('SELECT pg_terminate_backend(pg_backend_pid())'));
      await expect(killed).rejects.toBeInstanceOf(RecordsUnavailableError);
      await client.ping();
      // The pool's idle connection is ended by the server: an error event, then a new connection.
      const reported = once(client, 'error');
      await other.query('SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      const [err] = (await reported) as [Error];
      expect(err).toBeInstanceOf(RecordsUnavailableError);
      await client.ping();
    } finally {
      await client.close();
    }
  });

  it('gives a named advisory lock to one connection at a time, and frees it when that connection is lost', async () => {
    const database = await backend.database();
    const [a, b] = [new PostgresClient(database.location), new PostgresClient(database.location)];
    try {
      const held = await a.tryAdvisoryLock('facility-monitor/test/leader');
      expect(held).toBeDefined();
      expect(await b.tryAdvisoryLock('facility-monitor/test/leader')).toBeUndefined();
      await held!.release();
      expect(await held!.lost).toBeUndefined();
      const taken = await b.tryAdvisoryLock('facility-monitor/test/leader');
      expect(taken).toBeDefined();
      const admin = await database.open();
      await admin.query("SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%pg_try_advisory_lock%'");
      expect(await taken!.lost).toBeInstanceOf(Error);
      const again = await a.tryAdvisoryLock('facility-monitor/test/leader');
      expect(again).toBeDefined();
      await again!.release();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a server with DATABASE_URL keeps its records there and says so in /api/health; while the database refuses connections it is degraded and requests get 503', async () => {
    const { databaseUrl } = await backend.serverOptions();
    const test = await startTestServer({ site: smallSite(true), databaseUrl: withPassword(databaseUrl!) });
    let admin: RecordsClient | undefined;
    try {
      const health = await test.app.inject({ url: '/api/health' });
      expect(health.json()).toMatchObject({ checks: { database: { ok: true, backend: 'postgres' } } });
      const created = await test.as('demo-desk', {
        method: 'POST',
        url: '/api/tickets',
        payload: { category: 'general', priority: 'low', title: 'Lobby light', building: 'B1' },
      });
      expect(created.statusCode, created.body).toBe(201);
      admin = await openPostgresRecords(databaseUrl!);
      expect(await admin.query('SELECT id, title FROM work_orders')).toEqual([{ id: created.json().id, title: 'Lobby light' }]);

      const token = await test.login('demo-desk');
      const name = new URL(databaseUrl!).pathname.slice(1);
      await (await backend.open()).run(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
      await admin.query("SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
      await admin.close();
      admin = undefined;
      const degraded = await test.app.inject({ url: '/api/health' });
      expect(degraded.statusCode).toBe(503);
      expect(degraded.json().checks.database).toMatchObject({ ok: false, backend: 'postgres', detail: expect.stringMatching(new RegExp(`^records database postgres://\\*\\*\\*@127\\.0\\.0\\.1:\\d+/${name} is not reachable`)) });
      expect(degraded.body).not.toContain('hunter2');
      const refused = await test.app.inject({ url: '/api/tickets', headers: { authorization: `Bearer ${token}` } });
      expect(refused.statusCode, refused.body).toBe(503);
      expect(refused.json()).toMatchObject({ error: 'Service Unavailable' });
      await (await backend.open()).run(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
      expect((await test.app.inject({ url: '/api/health' })).json().checks.database.ok).toBe(true);
    } finally {
      await admin?.close();
      await test.close();
    }
  });
});
