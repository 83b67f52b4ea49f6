import type BetterSqlite3 from 'better-sqlite3';
import { UniqueViolationError, type QueryOptions, type RecordsClient, type SqlParams, type SqlRunner } from '../records-client.ts';
import { openDatabase, type Database, type OpenDatabaseOptions } from './open-database.ts';

/** Prepared statements kept per client; a filter that builds its SQL makes a bounded number of variants. */
const STATEMENT_CACHE = 500;

/**
 * RecordsClient over one better-sqlite3 connection. Statements run synchronously; a transaction
 * is `BEGIN IMMEDIATE` … `COMMIT` and holds the connection: whatever else asks for it meanwhile
 * waits its turn, in order, so a transaction's awaits never let another caller's statements into it.
 */
export class SqliteClient implements RecordsClient {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private busy = false;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly db: Database) {}

  query<R extends object>(sql: string, params: SqlParams = [], _options?: QueryOptions): Promise<R[]> {
    return this.whenFree(() => this.all<R>(sql, params));
  }

  run(sql: string, params: SqlParams = []): Promise<number> {
    return this.whenFree(() => this.exec(sql, params));
  }

  async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    await this.acquire();
    let open = true;
    const inside = <V>(fn: () => V): Promise<V> => {
      if (!open) return Promise.reject(new Error('records transaction already ended: run its statements before it resolves'));
      return settle(fn);
    };
    const tx: SqlRunner = {
      query: <R extends object>(sql: string, params: SqlParams = []) => inside(() => this.all<R>(sql, params)),
      run: (sql: string, params: SqlParams = []) => inside(() => this.exec(sql, params)),
    };
    try {
      this.db.exec('BEGIN IMMEDIATE');
      const result = await work(tx);
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw driverError(err);
    } finally {
      open = false;
      this.release();
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    await this.acquire();
    try {
      this.statements.clear();
      this.db.close();
    } finally {
      this.release();
    }
  }

  private all<R>(sql: string, params: SqlParams): R[] {
    return this.statement(sql).all(...bind(params)) as R[];
  }

  private exec(sql: string, params: SqlParams): number {
    return this.statement(sql).run(...bind(params)).changes;
  }

  private statement(sql: string): BetterSqlite3.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= STATEMENT_CACHE) this.statements.clear();
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` now when no transaction holds the connection, else after it (and any waiting before). */
  private whenFree<V>(fn: () => V): Promise<V> {
    if (!this.busy) return settle(fn);
    return this.acquire().then(() => {
      try {
        return settle(fn);
      } finally {
        this.release();
      }
    });
  }

  private acquire(): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy = false;
  }
}

/** Opens (creating and migrating) the SQLite records file and returns its client. */
export function openSqliteRecords(file: string, options: OpenDatabaseOptions = {}): SqliteClient {
  return new SqliteClient(openDatabase(file, options));
}

function settle<V>(fn: () => V): Promise<V> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(driverError(err));
  }
}

function bind(params: SqlParams): unknown[] {
  return params.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
}

const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

function driverError(err: unknown): unknown {
  if (err instanceof UniqueViolationError) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNIQUE_CODES.has(code)) return new UniqueViolationError((err as Error).message, { cause: err });
  return err;
}
