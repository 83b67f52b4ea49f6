import type BetterSqlite3 from 'better-sqlite3';
import { migrationSql, type Migration } from '../migrations.ts';
import { MigrationError, SchemaVersionError, checkMigrationList, type MigrationResult } from '../schema-version.ts';

export { MigrationError, SchemaVersionError, checkMigrationList, type MigrationResult };

type Database = BetterSqlite3.Database;

const ELSEWHERE = 'point DATA_DIR at another directory';

/** The highest applied migration, 0 for a new file. */
export function schemaVersion(db: Database): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!table) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Applies the pending migrations in order, each with its schema_migrations row in one
 * IMMEDIATE transaction, re-reading the version inside it so two processes opening the same
 * file at once apply each migration exactly once. Re-running is a no-op.
 */
export function migrate(db: Database, migrations: readonly Migration[], file = 'database'): MigrationResult {
  checkMigrationList(migrations);
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const codeVersion = migrations.length;
  const from = schemaVersion(db);
  if (from > codeVersion) throw new SchemaVersionError(file, from, codeVersion, ELSEWHERE);
  const applied: MigrationResult['applied'] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations.slice(from)) {
    const step = db.transaction(() => {
      const current = schemaVersion(db);
      if (current > codeVersion) throw new SchemaVersionError(file, current, codeVersion, ELSEWHERE);
      if (current >= m.version) return false;
      db.exec(migrationSql(m, 'sqlite'));
      if (m.rebuildsTables) {
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new Error(`${broken.length} rows break a foreign key after the rebuild: ${JSON.stringify(broken.slice(0, 3))}`);
      }
      record.run(m.version, m.name, Date.now());
      return true;
    });
    // https://www.sqlite.org/lang_altertable.html#otheralter: a table is rebuilt with foreign keys
    // off (dropping the old one would otherwise cascade), which can only be switched outside a transaction.
    const foreignKeys = m.rebuildsTables ? (db.pragma('foreign_keys', { simple: true }) as number) : 0;
    if (foreignKeys) db.pragma('foreign_keys = OFF');
    let ran: boolean;
    try {
      ran = step.immediate();
    } catch (err) {
      if (err instanceof SchemaVersionError) throw err;
      throw new MigrationError(file, m, err);
    } finally {
      if (foreignKeys) db.pragma('foreign_keys = ON');
    }
    if (ran) applied.push({ version: m.version, name: m.name });
  }
  return { from, to: schemaVersion(db), applied };
}
