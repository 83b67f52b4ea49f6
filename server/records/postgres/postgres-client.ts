import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { Migration } from '../migrations.ts';
import type { QueryOptions, RecordsClient, SqlParams, SqlRunner } from '../records-client.ts';
import { AdvisoryLock, advisoryKey } from './advisory-lock.ts';
import { migratePostgres } from './migrate.ts';
import { numberParameters } from './numbered-parameters.ts';
import { RecordsUnavailableError, describeDatabase, driverError, isRetryable } from './postgres-errors.ts';

export interface PostgresClientOptions {
  /** Connections of the pool (default 10). */
  poolSize?: number;
  /** How long to wait for a connection, new or from the pool, before failing (default 10 s). */
  connectTimeoutMs?: number;
  /** Runs of a transaction that loses a deadlock or serialization conflict, the first included (default 5). */
  transactionAttempts?: number;
}

export interface PostgresClientEvents {
  /** An idle connection of the pool failed (the server restarted, the network dropped); the pool replaces it. */
  error: [RecordsUnavailableError];
}

/** Translated statements kept per client; a filter that builds its SQL makes a bounded number of variants. */
const STATEMENT_CACHE = 500;

// OIDs of pg_type: int8 (COUNT(*), BIGINT epoch-ms columns and ids) and numeric (SUM, AVG).
const INT8 = 20;
const NUMERIC = 1700;

function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`records: integer ${text} is beyond the range a JavaScript number holds exactly`);
  return n;
}

/** Integers come back as JavaScript numbers, as SQLite returns them; everything else as pg parses it. */
const TYPES = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8) return parseInt8;
    if (oid === NUMERIC) return Number;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

function bind(params: SqlParams): unknown[] {
  return params.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
}

/**
 * RecordsClient over a `pg` pool (docs/design.md#records). Statements outside a transaction take
 * any free connection; a transaction holds one from `BEGIN` to `COMMIT` (READ COMMITTED, rows it
 * will change locked with `FOR UPDATE`), and is run again, up to `transactionAttempts` times in
 * all, when PostgreSQL ends it with a deadlock or serialization failure: its work must touch
 * nothing but `tx` (see RecordsClient.transaction).
 */
export class PostgresClient extends EventEmitter<PostgresClientEvents> implements RecordsClient {
  readonly dialect = 'postgres' as const;
  /** The database as logs and errors name it: its URL without user and password. */
  readonly database: string;
  private readonly config: pg.PoolConfig;
  private readonly pool: pg.Pool;
  private readonly attempts: number;
  private readonly statements = new Map<string, { text: string; count: number }>();
  private closing: Promise<void> | undefined;

  constructor(url: string, options: PostgresClientOptions = {}) {
    super();
    this.database = describeDatabase(url);
    this.attempts = Math.max(1, Math.trunc(options.transactionAttempts ?? 5));
    this.config = {
      connectionString: url,
      fallback_application_name: 'facility-monitor',
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      keepAlive: true,
      types: TYPES,
    };
    this.pool = new pg.Pool({ ...this.config, max: Math.max(1, Math.trunc(options.poolSize ?? 10)) });
    this.pool.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', new RecordsUnavailableError(this.database, err));
    });
  }

  async query<R extends object>(sql: string, params: SqlParams = [], options?: QueryOptions): Promise<R[]> {
    return (await this.withConnection((c) => this.execute(c, sql, params, options?.forUpdate))).rows as R[];
  }

  async run(sql: string, params: SqlParams = []): Promise<number> {
    return (await this.withConnection((c) => this.execute(c, sql, params))).rowCount ?? 0;
  }

  async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactionOnce(work);
      } catch (err) {
        if (attempt >= this.attempts || !isRetryable(err)) throw err;
        // The conflicting transaction has just ended or is about to: a short, spread-out wait.
        await delay(Math.random() * 5 * 2 ** attempt);
      }
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1 AS ok');
  }

  /** Waits for the statements running, then closes every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  /**
   * Takes the session-level advisory lock `name` when no other connection holds it, on a
   * connection of its own (not one of the pool's) that keeps it until `release()` or until the
   * connection ends. Undefined when another holds it.
   */
  async tryAdvisoryLock(name: string): Promise<AdvisoryLock | undefined> {
    const connection = new pg.Client(this.config);
    try {
      await connection.connect().catch((err: unknown) => {
        throw new RecordsUnavailableError(this.database, err);
      });
      const { rows } = await connection.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [advisoryKey(name)]);
      if (rows[0]?.locked) return new AdvisoryLock(name, connection);
    } catch (err) {
      await connection.end().catch(() => {});
      throw driverError(err, this.database);
    }
    await connection.end();
    return undefined;
  }

  private transactionOnce<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.withConnection(async (connection) => {
      let open = true;
      const inside = <V>(fn: () => Promise<V>): Promise<V> =>
        open ? fn() : Promise.reject(new Error('records transaction already ended: run its statements before it resolves'));
      const tx: SqlRunner = {
        query: <R extends object>(sql: string, params: SqlParams = [], options?: QueryOptions) =>
          inside(async () => (await this.execute(connection, sql, params, options?.forUpdate)).rows as R[]),
        run: (sql: string, params: SqlParams = []) => inside(async () => (await this.execute(connection, sql, params)).rowCount ?? 0),
      };
      try {
        await connection.query('BEGIN');
        const result = await work(tx);
        open = false;
        await connection.query('COMMIT');
        return result;
      } catch (err) {
        open = false;
        // A failed ROLLBACK means a broken connection, which withConnection drops.
        await connection.query('ROLLBACK').catch(() => {});
        throw driverError(err, this.database);
      }
    });
  }

  /**
   * Runs `use` on a connection of the pool and gives it back, or drops it when it failed (the
   * server ended it, the network broke). A failure to connect names the database.
   */
  private async withConnection<T>(use: (connection: pg.PoolClient) => Promise<T>): Promise<T> {
    let connection: pg.PoolClient;
    try {
      connection = await this.pool.connect();
    } catch (err) {
      throw new RecordsUnavailableError(this.database, err);
    }
    let broken: Error | undefined;
    // A connection that fails between two statements reports it here, not to a query.
    const onError = (err: Error) => (broken = err);
    connection.on('error', onError);
    try {
      return await use(connection);
    } catch (err) {
      if (err instanceof RecordsUnavailableError) broken ??= err;
      throw err;
    } finally {
      connection.off('error', onError);
      connection.release(broken);
    }
  }

  private async execute(on: pg.PoolClient, sql: string, params: SqlParams, forUpdate = false): Promise<pg.QueryResult> {
    const statement = this.statement(sql, forUpdate);
    if (statement.count !== params.length) {
      throw new Error(`records statement takes ${statement.count} parameters, ${params.length} given: ${sql.replace(/\s+/g, ' ').slice(0, 200)}`);
    }
    try {
      return await on.query(statement.text, bind(params));
    } catch (err) {
      throw driverError(err, this.database);
    }
  }

  private statement(sql: string, forUpdate: boolean): { text: string; count: number } {
    const key = forUpdate ? `${sql}\u0000FOR UPDATE` : sql;
    let s = this.statements.get(key);
    if (!s) {
      if (this.statements.size >= STATEMENT_CACHE) this.statements.clear();
      const numbered = numberParameters(sql);
      s = forUpdate ? { text: `${numbered.text} FOR UPDATE`, count: numbered.count } : numbered;
      this.statements.set(key, s);
    }
    return s;
  }
}

export interface OpenPostgresOptions extends PostgresClientOptions {
  /** The schema to bring the database up to; the shipped migrations unless a test passes its own. */
  migrations?: readonly Migration[];
}

/**
 * Connects to the PostgreSQL records database at `url` (DATABASE_URL) and migrates it to the
 * code's schema. Throws RecordsUnavailableError when it cannot be reached, SchemaVersionError
 * when newer code wrote it, MigrationError when a migration fails (rolled back; earlier ones stay).
 */
export async function openPostgresRecords(url: string, options: OpenPostgresOptions = {}): Promise<PostgresClient> {
  const { migrations, ...clientOptions } = options;
  const client = new PostgresClient(url, clientOptions);
  try {
    await migratePostgres(client, migrations);
    return client;
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
}
