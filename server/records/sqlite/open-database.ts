import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS, type Migration } from '../migrations.ts';
import { migrate } from './migrate.ts';

export type Database = BetterSqlite3.Database;

export interface OpenDatabaseOptions {
  /** The schema to bring the file up to; the shipped migrations unless a test passes its own. */
  migrations?: readonly Migration[];
  /** How long a writer waits for another connection's write lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the SQLite records file and migrates it to the code's schema: the
 * better-sqlite3 handle the SQLite client wraps, and what SQLite-specific tools and tests use.
 * Throws SchemaVersionError when the file was written by newer code, MigrationError when a
 * migration fails (that migration is rolled back; earlier ones stay applied).
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Database {
  const inMemory = file === ':memory:' || file === '';
  if (!inMemory) mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000))}`);
    // WAL: readers never block the writer; synchronous stays FULL so a committed record survives power loss.
    if (!inMemory) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    migrate(db, options.migrations ?? MIGRATIONS, inMemory ? ':memory:' : file);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
