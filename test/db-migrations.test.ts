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
});
