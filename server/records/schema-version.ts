import type { Migration } from './migrations.ts';

/** The records database was written by a newer Facility Monitor: refusing beats corrupting it. */
export class SchemaVersionError extends Error {
  override name = 'SchemaVersionError';
  /**
   * @param database the file, or the PostgreSQL database without its password
   * @param elsewhere how to point the server at another database (`point DATA_DIR at another directory`)
   */
  constructor(
    readonly database: string,
    readonly databaseVersion: number,
    readonly codeVersion: number,
    elsewhere: string,
  ) {
    super(
      `${database}: database schema is at version ${databaseVersion}, this Facility Monitor knows versions up to ${codeVersion}; ` +
        `run a release that knows it, or ${elsewhere}`,
    );
  }
}

/** A migration failed; it was rolled back, so the database is at the version before it. */
export class MigrationError extends Error {
  override name = 'MigrationError';
  constructor(
    readonly database: string,
    readonly migration: Pick<Migration, 'version' | 'name'>,
    cause: unknown,
  ) {
    super(`${database}: migration ${migration.version} (${migration.name}) failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: Array<Pick<Migration, 'version' | 'name'>>;
}

/** Rejects a list that is not 1, 2, 3, … so a misplaced migration fails in tests, not on a site. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list: entry ${i} (${m.name}) has version ${m.version}, expected ${i + 1}`);
  });
}
