import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrationSql } from '../server/records/migrations.ts';
import { openDatabase } from '../server/records/sqlite/open-database.ts';
import { everyStatement } from './fixtures/records/every-statement.ts';
import { hasPostgres, startPostgres, type PostgresInstance } from './harness/postgres.ts';

/** `?` parameters numbered `$1`, `$2`, … outside string literals, as a PostgreSQL driver sends them. */
function numbered(sql: string): string {
  let n = 0;
  let quoted = false;
  let out = '';
  for (const c of sql) {
    if (c === "'") quoted = !quoted;
    out += c === '?' && !quoted ? `$${++n}` : c;
  }
  return out;
}

/** The records schema of the shipped migrations as PostgreSQL builds it, checked against SQLite's. */
describe.skipIf(!hasPostgres())('records in PostgreSQL', () => {
  let pg: PostgresInstance;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it("the migrations build the same tables and columns in PostgreSQL's dialect", async () => {
    for (const m of MIGRATIONS) await pg.psql(migrationSql(m, 'postgres'));
    const inPostgres = (await pg.psql("SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"))
      .trim()
      .split('\n');
    const sqlite = openDatabase(':memory:');
    try {
      const tables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
      const inSqlite = tables.flatMap((t) => (sqlite.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => `${t}.${c.name}`));
      expect(inPostgres).toEqual(inSqlite);
    } finally {
      sqlite.close();
    }
  });

  it('every statement the repositories run is valid there', async () => {
    const problems: string[] = [];
    for (const sql of await everyStatement()) {
      await pg.psql(`BEGIN; PREPARE statement AS ${numbered(sql)}; ROLLBACK;`).catch((err: Error) => problems.push(`${sql.replace(/\s+/g, ' ')}\n  ${err.message}`));
    }
    expect(problems).toEqual([]);
  });
});
