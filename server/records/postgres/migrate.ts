import { MIGRATIONS, migrationSql, type Migration } from '../migrations.ts';
import type { RecordsClient, SqlRunner } from '../records-client.ts';
import { MigrationError, SchemaVersionError, checkMigrationList, type MigrationResult } from '../schema-version.ts';
import { ADVISORY_LOCKS, advisoryKey } from './advisory-lock.ts';
import { RecordsUnavailableError } from './postgres-errors.ts';

const ELSEWHERE = 'point DATABASE_URL at another database';

/**
 * Takes the migrations' advisory lock for the rest of the transaction, makes sure
 * schema_migrations exists and returns the version the database is at (0 for a new one). Every
 * server that starts waits here for the one migrating, then sees what it committed.
 */
async function lockedVersion(tx: SqlRunner): Promise<number> {
  await tx.query('SELECT pg_advisory_xact_lock(?)', [advisoryKey(ADVISORY_LOCKS.migrations)]);
  await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
  const [row] = await tx.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return row?.v ?? 0;
}

/**
 * Applies the pending migrations in order, each with its schema_migrations row in a transaction
 * of its own that holds the migrations' advisory lock, re-reading the version under the lock:
 * servers starting together against one database apply each migration exactly once. Refuses a
 * database written by newer code. Re-running is a no-op.
 */
export async function migratePostgres(client: RecordsClient & { readonly database: string }, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  checkMigrationList(migrations);
  const codeVersion = migrations.length;
  const refuseNewer = (version: number) => {
    if (version > codeVersion) throw new SchemaVersionError(client.database, version, codeVersion, ELSEWHERE);
  };
  const from = await client.transaction(lockedVersion);
  refuseNewer(from);
  const applied: MigrationResult['applied'] = [];
  for (const m of migrations.slice(from)) {
    let ran: boolean;
    try {
      ran = await client.transaction(async (tx) => {
        const current = await lockedVersion(tx);
        refuseNewer(current);
        if (current >= m.version) return false;
        await tx.run(migrationSql(m, 'postgres'));
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, Date.now()]);
        return true;
      });
    } catch (err) {
      if (err instanceof SchemaVersionError || err instanceof RecordsUnavailableError) throw err;
      throw new MigrationError(client.database, m, err);
    }
    if (ran) applied.push({ version: m.version, name: m.name });
  }
  const to = await client.transaction(lockedVersion);
  return { from, to, applied };
}
