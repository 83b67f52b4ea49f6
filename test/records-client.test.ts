import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UniqueViolationError, type RecordsClient, type SqlRunner } from '../server/records/records-client.ts';
import { openSqliteRecords, type SqliteClient } from '../server/records/sqlite/sqlite-client.ts';
import { everyStatement } from './fixtures/records/every-statement.ts';
import { describeRecords } from './harness/records.ts';

const TABLE = 'CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT NOT NULL)';

describeRecords('records client', (backend) => {
  let client: RecordsClient;
  beforeEach(async () => {
    client = await backend.open();
    await client.run(TABLE);
  });
  afterEach(() => client.close());

  it('rolls a transaction back whole when its work throws, and maps a unique violation', async () => {
    await client.run('INSERT INTO t (k, n) VALUES (?, ?)', ['a', 1]);
    const failed = client.transaction(async (t) => {
      await t.run('UPDATE t SET n = ? WHERE k = ?', [5, 'a']);
      await t.run('INSERT INTO t (k, n) VALUES (?, ?)', ['a', 9]);
    });
    await expect(failed).rejects.toBeInstanceOf(UniqueViolationError);
    expect(await client.query('SELECT k, n FROM t')).toEqual([{ k: 'a', n: 1 }]);
    await expect(client.run('INSERT INTO t (k, n) VALUES (?, ?)', ['a', 2])).rejects.toBeInstanceOf(UniqueViolationError);
    // The connection is free again.
    expect(await client.run('UPDATE t SET n = n + 1')).toBe(1);
  });

  it('binds booleans as 1 and 0, and refuses statements of a transaction that has ended', async () => {
    await client.run('INSERT INTO t (k, n) VALUES (?, ?), (?, ?)', ['yes', true, 'no', false]);
    expect(await client.query('SELECT k, n FROM t ORDER BY k')).toEqual([
      { k: 'no', n: 0 },
      { k: 'yes', n: 1 },
    ]);
    let leaked: SqlRunner | undefined;
    await client.transaction(async (t) => {
      leaked = t;
    });
    await expect(leaked!.query('SELECT 1')).rejects.toThrow(/transaction already ended/);
  });

  it('returns integers as numbers: epoch milliseconds, counts, generated ids', async () => {
    const at = Date.parse('2025-01-06T02:00:00.123Z');
    await client.run('INSERT INTO t (k, n) VALUES (?, ?)', ['at', at]);
    expect(await client.query('SELECT n FROM t WHERE k = ?', ['at'])).toEqual([{ n: at }]);
    expect(await client.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 1 }]);
    const [user] = await client.query<{ id: unknown }>(
      "INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ('li', 'Li', 'viewer', 'x', ?) RETURNING id",
      [at],
    );
    expect(typeof user!.id).toBe('number');
  });

  it('keeps ? inside string literals as text', async () => {
    await client.run("INSERT INTO t (k, n) VALUES ('who?', ?)", [7]);
    expect(await client.query("SELECT k, n FROM t WHERE k = 'who?' AND n = ?", [7])).toEqual([{ k: 'who?', n: 7 }]);
  });

  it('serialises transactions that read with forUpdate what they then change (PostgreSQL: from two pools)', async () => {
    const database = await backend.database();
    // Two SQLite connections in one process would wait for each other's lock synchronously;
    // work-orders-alarms.test.ts races two processes on one file.
    const clients = backend.dialect === 'postgres' ? [await database.open(), await database.open()] : [await database.open()];
    await clients[0]!.run(TABLE);
    await clients[0]!.run("INSERT INTO t (k, n) VALUES ('counter', 0)");
    const increment = (c: RecordsClient) =>
      c.transaction(async (tx) => {
        const [row] = await tx.query<{ n: number }>("SELECT n FROM t WHERE k = 'counter'", [], { forUpdate: true });
        await tx.run("UPDATE t SET n = ? WHERE k = 'counter'", [row!.n + 1]);
      });
    const total = 80;
    await Promise.all(Array.from({ length: total }, (_, i) => increment(clients[i % clients.length]!)));
    // A lost update (two transactions reading the same n) would leave less.
    expect(await clients.at(-1)!.query("SELECT n FROM t WHERE k = 'counter'")).toEqual([{ n: total }]);
    await Promise.all(clients.map((c) => c.close()));
  });
});

describe('SQLite client', () => {
  let client: SqliteClient;
  beforeEach(async () => {
    client = openSqliteRecords(':memory:');
    await client.run(TABLE);
  });
  afterEach(() => client.close());

  it('runs a transaction alone: statements asked for meanwhile wait for its end, in order', async () => {
    const seen: string[] = [];
    const tx = client.transaction(async (t) => {
      await t.run('INSERT INTO t (k, n) VALUES (?, ?)', ['a', 1]);
      seen.push('tx wrote a');
      await t.run('UPDATE t SET n = ? WHERE k = ?', [2, 'a']);
      seen.push('tx updated a');
    });
    // Asked for while the transaction is open: must not see its first write without its second.
    const read = client.query<{ n: number }>('SELECT n FROM t WHERE k = ?', ['a']).then((rows) => seen.push(`read ${rows.map((r) => r.n).join()}`));
    await Promise.all([tx, read]);
    expect(seen).toEqual(['tx wrote a', 'tx updated a', 'read 2']);
  });
});

/** The rules of docs/design.md#records that a statement can be checked against. */
const NOT_PORTABLE: Array<[RegExp, string]> = [
  [/[@:$]\w/, 'named or numbered parameters: use ?'],
  [/\bINSERT\s+OR\b|\bREPLACE\s+INTO\b/i, 'INSERT OR …: use INSERT … ON CONFLICT'],
  [/\bCOLLATE\b/i, 'collations differ: compare lower() of both sides'],
  [/\b(MAX|MIN)\s*\([^()]*,/i, 'two-argument MAX/MIN is SQLite only: use CASE'],
  [/\b(IFNULL|GLOB|datetime|strftime|julianday|last_insert_rowid|randomblob)\b/i, 'SQLite function'],
  [/\browid\b|\bsqlite_|\bPRAGMA\b/i, 'SQLite internals'],
  [/\bLIKE\b/i, 'LIKE folds case in SQLite only: compare lower() with ='],
  [/"|`/, 'double quotes and backticks: identifiers are plain, strings single-quoted'],
  [/\b(BEGIN|COMMIT|ROLLBACK|SAVEPOINT)\b/i, 'transactions belong to the client'],
  [/\bIS\s+(\?|'|\d)/i, 'IS with a value: use = (IS NULL is fine)'],
];

describe('repositories', () => {
  it('run only portable SQL (docs/design.md#records), every method checked', async () => {
    const { statements, uncalled } = await everyStatement();
    // A repository method missing from test/fixtures/records/every-statement.ts is checked nowhere, on no database.
    expect(uncalled).toEqual([]);
    expect(statements.size).toBeGreaterThan(30);
    const problems = [...statements].flatMap((sql) => NOT_PORTABLE.filter(([pattern]) => pattern.test(sql)).map(([, why]) => `${why}: ${sql.replace(/\s+/g, ' ')}`));
    expect(problems).toEqual([]);
  });
});
