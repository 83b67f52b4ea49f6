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
});
