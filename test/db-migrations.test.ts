import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, type Migration } from '../server/records/migrations.ts';
import { MigrationError, SchemaVersionError, migrate, schemaVersion } from '../server/records/sqlite/migrate.ts';
import { openDatabase } from '../server/records/sqlite/open-database.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fm-db-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tables = (db: ReturnType<typeof openDatabase>) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map(
    (r) => r.name,
  );

describe('openDatabase', () => {
  it('creates the file (and its directory) in WAL mode with foreign keys and a busy timeout', () => {
    const file = join(dir, 'nested', 'records.db');
    const db = openDatabase(file, { busyTimeoutMs: 1234 });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      expect(tables(db)).toEqual(expect.arrayContaining(['users', 'teams', 'team_members', 'work_orders', 'work_order_events', 'schema_migrations']));
      expect(() => db.prepare('INSERT INTO work_order_events (work_order_id, at, action, to_state) VALUES (999, 0, ?, ?)').run('create', 'open')).toThrow(
        /FOREIGN KEY/,
      );
    } finally {
      db.close();
    }
  });

  it('re-opening a migrated file applies nothing and changes nothing', () => {
    const file = join(dir, 'again.db');
    const first = openDatabase(file);
    first.prepare("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ('li', 'Li Wei', 'engineer', 'x', 1)").run();
    const schemaBefore = tables(first);
    const recorded = first.prepare('SELECT * FROM schema_migrations ORDER BY version').all();
    expect(migrate(first, MIGRATIONS, file)).toEqual({ from: MIGRATIONS.length, to: MIGRATIONS.length, applied: [] });
    first.close();

    const second = openDatabase(file);
    try {
      expect(tables(second)).toEqual(schemaBefore);
      expect(second.prepare('SELECT * FROM schema_migrations ORDER BY version').all()).toEqual(recorded);
      expect(second.prepare('SELECT username FROM users').all()).toEqual([{ username: 'li' }]);
    } finally {
      second.close();
    }
  });

  it('applies only the migrations a file is missing, in order, and records each', () => {
    const file = join(dir, 'upgrade.db');
    const v1 = MIGRATIONS.slice(0, 1);
    openDatabase(file, { migrations: v1 }).close();
    const later: Migration[] = [
      ...MIGRATIONS,
      { version: MIGRATIONS.length + 1, name: 'notices', sql: 'CREATE TABLE notices (id INTEGER PRIMARY KEY, title TEXT NOT NULL)' },
    ];
    const db = openDatabase(file, { migrations: later });
    try {
      expect(schemaVersion(db)).toBe(later.length);
      expect((db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as Array<{ version: number; name: string }>).map((r) => r.version)).toEqual(
        later.map((m) => m.version),
      );
      expect(tables(db)).toContain('notices');
    } finally {
      db.close();
    }
  });

  it('refuses a database written by newer code, naming the file and both versions, and leaves it untouched', () => {
    const file = join(dir, 'newer.db');
    const newer: Migration[] = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'from the future', sql: 'CREATE TABLE future (x)' }];
    openDatabase(file, { migrations: newer }).close();
    let error: unknown;
    try {
      openDatabase(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect((error as SchemaVersionError).message).toContain(file);
    expect((error as SchemaVersionError).message).toContain(`version ${newer.length}`);
    expect((error as SchemaVersionError).message).toContain(`up to ${MIGRATIONS.length}`);
    const db = openDatabase(file, { migrations: newer });
    try {
      expect(schemaVersion(db)).toBe(newer.length);
      expect(tables(db)).toContain('future');
    } finally {
      db.close();
    }
  });

  it('rolls a failing migration back whole and keeps the ones before it', () => {
    const failing: Migration[] = [
      ...MIGRATIONS,
      {
        version: MIGRATIONS.length + 1,
        name: 'half done',
        sql: { sqlite: 'CREATE TABLE half (x); THIS IS NOT SQL' },
      },
    ];
    const file = join(dir, 'failing.db');
    expect(() => openDatabase(file, { migrations: failing })).toThrow(MigrationError);
    expect(() => openDatabase(file, { migrations: failing })).toThrow(new RegExp(`migration ${MIGRATIONS.length + 1} \\(half done\\) failed`));
    const db = openDatabase(file);
    try {
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      expect(tables(db)).not.toContain('half');
    } finally {
      db.close();
    }
  });

  it('rejects a migration list that is not numbered 1, 2, 3 …', () => {
    const gap: Migration[] = [...MIGRATIONS, { version: MIGRATIONS.length + 2, name: 'skipped one', sql: '' }];
    expect(() => openDatabase(':memory:', { migrations: gap })).toThrow(/has version \d+, expected \d+/);
  });

  it('enforces the domain value lists in the schema', () => {
    const db = openDatabase(':memory:');
    try {
      expect(() => db.prepare("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ('a', 'A', 'janitor', 'x', 1)").run()).toThrow(
        /CHECK constraint/,
      );
      db.prepare("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ('Zhang', 'Zhang', 'viewer', 'x', 1)").run();
      expect(() => db.prepare("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ('zhang', 'Z', 'viewer', 'x', 1)").run()).toThrow(
        /UNIQUE/,
      );
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
