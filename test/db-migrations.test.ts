import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, type Migration } from '../server/records/migrations.ts';
import { UniqueViolationError, type RecordsClient } from '../server/records/records-client.ts';
import { MigrationError, SchemaVersionError } from '../server/records/schema-version.ts';
import { schemaVersion } from '../server/records/sqlite/migrate.ts';
import { openDatabase } from '../server/records/sqlite/open-database.ts';
import { describeRecords } from './harness/records.ts';

const NOTICES: Migration = { version: MIGRATIONS.length + 1, name: 'notices', sql: 'CREATE TABLE notices (id INTEGER PRIMARY KEY, title TEXT NOT NULL)' };

async function hasTable(client: RecordsClient, table: string): Promise<boolean> {
  return client.query(`SELECT COUNT(*) AS n FROM ${table}`).then(
    () => true,
    () => false,
  );
}

const applied = async (client: RecordsClient) => client.query<{ version: number; name: string; applied_at: number }>('SELECT version, name, applied_at FROM schema_migrations ORDER BY version');

describeRecords('migrations', (backend) => {
  it('bring a new database to the code schema, recording each; opening it again applies nothing and changes nothing', async () => {
    const database = await backend.database({ empty: true });
    const first = await database.open();
    await first.run("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ('li', 'Li Wei', 'engineer', 'x', 1)");
    const recorded = await applied(first);
    expect(recorded.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await first.close();

    const second = await database.open();
    expect(await applied(second)).toEqual(recorded);
    expect(await second.query('SELECT username FROM users')).toEqual([{ username: 'li' }]);
  });

  it('apply only the migrations a database is missing, in order', async () => {
    const database = await backend.database({ empty: true });
    await (await database.open({ migrations: MIGRATIONS.slice(0, 1) })).close();
    const later = [...MIGRATIONS, NOTICES];
    const client = await database.open({ migrations: later });
    expect((await applied(client)).map((r) => r.version)).toEqual(later.map((m) => m.version));
    expect(await hasTable(client, 'notices')).toBe(true);
  });

  it('refuse a database written by newer code, naming it and both versions, and leave it untouched', async () => {
    const database = await backend.database({ empty: true });
    const newer = [...MIGRATIONS, NOTICES];
    await (await database.open({ migrations: newer })).close();
    const error = await database.open().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SchemaVersionError);
    const message = (error as Error).message;
    expect(message).toContain(`version ${newer.length}`);
    expect(message).toContain(`up to ${MIGRATIONS.length}`);
    if (backend.dialect === 'sqlite') expect(message).toContain(`${database.location}:`);
    else expect(message).toMatch(/^postgres:\/\/\*\*\*@127\.0\.0\.1:\d+\/records_\d+: .*point DATABASE_URL at another database$/);
    const client = await database.open({ migrations: newer });
    expect((await applied(client)).length).toBe(newer.length);
    expect(await hasTable(client, 'notices')).toBe(true);
  });

  it('roll a failing migration back whole and keep the ones before it', async () => {
    const database = await backend.database({ empty: true });
    const failing: Migration[] = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'half done', sql: 'CREATE TABLE half (x INTEGER); THIS IS NOT SQL' }];
    const error = await database.open({ migrations: failing }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(new RegExp(`migration ${MIGRATIONS.length + 1} \\(half done\\) failed`));
    const client = await database.open();
    expect((await applied(client)).length).toBe(MIGRATIONS.length);
    expect(await hasTable(client, 'half')).toBe(false);
  });

  it('apply each migration once when several servers start on one new database at the same time', async () => {
    const database = await backend.database({ empty: true });
    const clients = await Promise.all(Array.from({ length: 4 }, () => database.open()));
    expect((await applied(clients[0]!)).map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('refuse a migration list that is not numbered 1, 2, 3 …', async () => {
    const gap: Migration[] = [...MIGRATIONS, { version: MIGRATIONS.length + 2, name: 'skipped one', sql: '' }];
    await expect(backend.open({ migrations: gap })).rejects.toThrow(/has version \d+, expected \d+/);
  });

  it('enforce the domain value lists and usernames unique without case', async () => {
    const client = await backend.open();
    await expect(client.run("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ('a', 'A', 'janitor', 'x', 1)")).rejects.toThrow(/check constraint/i);
    await client.run("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ('Zhang', 'Zhang', 'viewer', 'x', 1)");
    await expect(client.run("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ('zhang', 'Z', 'viewer', 'x', 1)")).rejects.toBeInstanceOf(
      UniqueViolationError,
    );
    await expect(client.run("INSERT INTO work_order_events (work_order_id, at, action, to_state) VALUES (999, 0, 'create', 'open')")).rejects.toThrow(/foreign key/i);
  });
});

describe('SQLite records file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fm-db-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is created (with its directory) in WAL mode with foreign keys and a busy timeout', () => {
    const file = join(dir, 'nested', 'records.db');
    const db = openDatabase(file, { busyTimeoutMs: 1234 });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('migration 5 rebuilds users and work orders in place: ids, timelines, sessions and teams stay, old work orders get their follow-up and reply deadline', () => {
    const file = join(dir, 'v4.db');
    const v4 = openDatabase(file, { migrations: MIGRATIONS.slice(0, 4) });
    const insertUser = v4.prepare("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES (?, ?, 'engineer', 'x', 1)");
    insertUser.run('wang', 'Wang');
    insertUser.run('li', 'Li');
    v4.prepare("INSERT INTO teams (id, name, created_at) VALUES (1, 'Plumbing', 1)").run();
    v4.prepare('INSERT INTO team_members (team_id, user_id) VALUES (1, 2)').run();
    v4.prepare("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ('h', 2, 1, 2)").run();
    const insertWorkOrder = v4.prepare(
      `INSERT INTO work_orders (source, category, priority, state, title, building, device_id, rule_id, created_by, created_at, updated_at, response_due_at, callback_due_at, resolved_at, callback_at, last_occurrence_at)
       VALUES (?, ?, 'low', ?, 't', 'B1', ?, ?, 1, 1000, 1000, 2000, ?, ?, ?, 1000)`,
    );
    insertWorkOrder.run('complaint', 'complaint', 'callback_done', null, null, 1000 + 72 * 3_600_000, 5000, 6000);
    insertWorkOrder.run('alarm', 'general', 'callback_done', 'meter-1', 'device-offline', 3000 + 2 * 86_400_000, 3000, 4000);
    insertWorkOrder.run('manual', 'water-leak', 'open', null, null, null, null, null);
    v4.prepare("INSERT INTO work_order_events (work_order_id, at, by_user_id, action, to_state) VALUES (1, 1000, 1, 'create', 'open')").run();
    v4.prepare('DELETE FROM work_orders WHERE id = 3').run();
    v4.close();

    const db = openDatabase(file);
    try {
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.prepare('SELECT id, source, state, follow_up, reply_due_at, replied_at, callback_due_at FROM work_orders ORDER BY id').all()).toEqual([
        { id: 1, source: 'complaint', state: 'callback_done', follow_up: 'callback', reply_due_at: 1000 + 72 * 3_600_000, replied_at: 6000, callback_due_at: 5000 + 2 * 86_400_000 },
        { id: 2, source: 'alarm', state: 'verified', follow_up: 'verification', reply_due_at: null, replied_at: null, callback_due_at: 3000 + 2 * 86_400_000 },
      ]);
      expect(db.prepare('SELECT COUNT(*) AS n FROM work_order_events').get()).toEqual({ n: 1 });
      expect(db.prepare('SELECT * FROM sessions').all()).toHaveLength(1);
      expect(db.prepare('SELECT * FROM team_members').all()).toEqual([{ team_id: 1, user_id: 2 }]);
      // Ids go on from the highest ever given, the deleted one included.
      const next = db
        .prepare("INSERT INTO work_orders (source, category, priority, state, title, building, created_at, updated_at, response_due_at, last_occurrence_at) VALUES ('manual', 'lift', 'critical', 'open', 't', 'B1', 1, 1, 1, 1) RETURNING id")
        .get() as { id: number };
      expect(next.id).toBe(4);
      db.prepare("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ('zhao', 'Zhao', 'engineering-supervisor', 'x', 1)").run();
      expect(() => db.prepare('DELETE FROM users WHERE id = 1').run()).toThrow(/FOREIGN KEY/);
      expect(() => db.prepare("UPDATE work_orders SET state = 'done' WHERE id = 1").run()).toThrow(/CHECK constraint/);
    } finally {
      db.close();
    }
  });
});
