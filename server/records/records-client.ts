/** The SQL dialects a records client speaks; migrations may carry SQL per dialect. */
export const DIALECTS = ['sqlite', 'postgres'] as const;
export type Dialect = (typeof DIALECTS)[number];

/**
 * A parameter value. Times are integers (UTC epoch ms), JSON is TEXT, and a boolean is bound as
 * 1 or 0 by the driver (columns holding flags are integers in every dialect).
 */
export type SqlValue = string | number | boolean | null;
export type SqlParams = readonly SqlValue[];

export interface QueryOptions {
  /**
   * The transaction will change the rows it reads: PostgreSQL locks them (`SELECT … FOR UPDATE`);
   * SQLite needs nothing, its transactions hold the database's write lock from their start.
   */
  forUpdate?: boolean;
}

/** What a repository runs its SQL on: the client, or one transaction of it. */
export interface SqlRunner {
  /** The rows of a SELECT, or of an INSERT, UPDATE or DELETE with RETURNING. Parameters are positional `?`. */
  query<R extends object>(sql: string, params?: SqlParams, options?: QueryOptions): Promise<R[]>;
  /** A statement without rows; resolves to the number of rows it changed. */
  run(sql: string, params?: SqlParams): Promise<number>;
}

/**
 * The records database as the repositories see it (docs/design.md#records). One implementation
 * per database: `server/records/sqlite/` and `server/records/postgres/`.
 */
export interface RecordsClient extends SqlRunner {
  readonly dialect: Dialect;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. The
   * work awaits only the queries of `tx`; transactions do not nest. A driver may run `work` again
   * when the database ends the transaction to settle a conflict (PostgreSQL: a deadlock or a
   * serialization failure), so `work` reads and writes through `tx` and computes, nothing else:
   * what follows a change (an announcement, a metric) belongs after the transaction resolves.
   */
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Answers when the database does (health checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A UNIQUE or PRIMARY KEY constraint refused a write; drivers map their own error to this one. */
export class UniqueViolationError extends Error {
  override name = 'UniqueViolationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The first row, or undefined. */
export function first<R>(rows: readonly R[]): R | undefined {
  return rows[0];
}

/** `?, ?, ?` for a list of values (an empty list matches nothing: `IN (NULL)`). */
export function placeholders(values: readonly unknown[]): string {
  return values.length === 0 ? 'NULL' : values.map(() => '?').join(', ');
}
