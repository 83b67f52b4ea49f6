import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import type { Migration } from '../../server/records/migrations.ts';
import { openPostgresRecords, type PostgresClientOptions } from '../../server/records/postgres/postgres-client.ts';
import { DIALECTS, type Dialect, type RecordsClient } from '../../server/records/records-client.ts';
import { openSqliteRecords } from '../../server/records/sqlite/sqlite-client.ts';
import { hasPostgres, startPostgres, type PostgresInstance } from './postgres.ts';

/** Every records backend the records, work-order, alarm and auth tests run on. */
export const RECORDS_BACKENDS: readonly Dialect[] = DIALECTS;

export interface OpenOptions {
  migrations?: readonly Migration[];
  /** PostgreSQL only: the pool's options. */
  postgres?: PostgresClientOptions;
}

/**
 * One records database of a test, opened as often as the test needs: each open is another pool
 * (PostgreSQL), as another server would have, or another connection (SQLite; two connections of
 * one file in one process wait for each other's write lock synchronously, so a test that races
 * two SQLite writers runs them in two processes).
 */
export interface TestRecordsDatabase {
  readonly dialect: Dialect;
  /** The SQLite file, or the PostgreSQL URL. */
  readonly location: string;
  /** Opens and migrates it; the client is closed after the test file if the test did not close it. */
  open(options?: OpenOptions): Promise<RecordsClient>;
}

export interface RecordsBackend {
  readonly dialect: Dialect;
  /** A new database, migrated by its first open (PostgreSQL: a copy of a migrated template, unless `empty`). */
  database(options?: { empty?: boolean }): Promise<TestRecordsDatabase>;
  /** A new database at the code's schema, opened once (SQLite: in memory). */
  open(options?: OpenOptions): Promise<RecordsClient>;
  /** What a server under test needs for a database of its own on this backend: a new DATABASE_URL, or nothing. */
  serverOptions(): Promise<{ databaseUrl?: string }>;
}

/** The PostgreSQL server of this test file, started by the first test that needs it and stopped after the file, with a connection to create databases. */
interface TestPostgres {
  instance: PostgresInstance;
  admin: pg.Client;
  /** A database at the code's schema that new ones copy. */
  template?: Promise<string>;
}
let server: Promise<TestPostgres> | undefined;
let databases = 0;
const clients: RecordsClient[] = [];
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  const running = server;
  server = undefined;
  if (running) {
    const { instance, admin } = await running;
    await admin.end().catch(() => {});
    await instance.stop();
  }
});

function postgres(): Promise<TestPostgres> {
  server ??= (async () => {
    const instance = await startPostgres();
    const admin = new pg.Client({ connectionString: instance.url });
    await admin.connect();
    return { instance, admin };
  })();
  return server;
}

async function tracked(open: Promise<RecordsClient>): Promise<RecordsClient> {
  const client = await open;
  clients.push(client);
  return client;
}

/** A new database of the test server: a copy of the migrated template, or an empty one. */
async function newPostgresDatabase(empty = false): Promise<string> {
  const test = await postgres();
  test.template ??= (async () => {
    await test.admin.query('CREATE DATABASE records_template');
    // A template may have no connections while it is copied: migrate, then close.
    await (await openPostgresRecords(test.instance.urlFor('records_template'))).close();
    return 'records_template';
  })();
  const name = `records_${++databases}`;
  await test.admin.query(`CREATE DATABASE ${name} TEMPLATE ${empty ? 'template0' : await test.template}`);
  return test.instance.urlFor(name);
}

function sqliteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fm-records-'));
  dirs.push(dir);
  return join(dir, 'records.db');
}

const BACKENDS: Record<Dialect, RecordsBackend> = {
  sqlite: {
    dialect: 'sqlite',
    async database() {
      const file = sqliteFile();
      return {
        dialect: 'sqlite',
        location: file,
        open: (options = {}) => tracked(Promise.resolve().then(() => openSqliteRecords(file, options))),
      };
    },
    open: (options = {}) => tracked(Promise.resolve().then(() => openSqliteRecords(':memory:', options))),
    serverOptions: async () => ({}),
  },
  postgres: {
    dialect: 'postgres',
    async database(options = {}) {
      const url = await newPostgresDatabase(options.empty);
      return {
        dialect: 'postgres',
        location: url,
        open: (open = {}) => tracked(openPostgresRecords(url, { ...open.postgres, ...(open.migrations && { migrations: open.migrations }) })),
      };
    },
    async open(options = {}) {
      return (await this.database({ empty: options.migrations !== undefined })).open(options);
    },
    serverOptions: async () => ({ databaseUrl: await newPostgresDatabase() }),
  },
};

let backends: Dialect[] | undefined;
/** The backends this run can use: PostgreSQL's leg is skipped, with a reason printed, where it is not installed, except under CI=true where that fails. */
function available(): Dialect[] {
  backends ??= RECORDS_BACKENDS.filter((d) => d !== 'postgres' || hasPostgres());
  return backends;
}

/**
 * `describe.each` over the records backends: `body` declares its tests once and they run on
 * SQLite and on PostgreSQL (one server for the whole test file, a database per `open()`).
 */
export function describeRecords(name: string, body: (backend: RecordsBackend) => void): void {
  describe.each(available())(`${name} [%s]`, (dialect) => body(BACKENDS[dialect]));
}

/** Tests of PostgreSQL alone, on the test file's server; skipped (with a reason) where it is not installed, failing under CI=true. */
export function describePostgres(name: string, body: (backend: RecordsBackend, server: () => Promise<PostgresInstance>) => void): void {
  describe.skipIf(!available().includes('postgres'))(name, () => body(BACKENDS.postgres, async () => (await postgres()).instance));
}
