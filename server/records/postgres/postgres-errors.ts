import { redactUrl } from '../../broker/redact-url.ts';
import { UniqueViolationError } from '../records-client.ts';

/** DATABASE_URL as logs, errors and /api/health show it: no user or password, and no `password=` option. */
export function describeDatabase(url: string): string {
  return redactUrl(url).replace(/([?&])password=[^&]*&?/i, '$1').replace(/[?&]$/, '');
}

/** The records database cannot be reached or refused the connection; the message names it without the password. */
export class RecordsUnavailableError extends Error {
  override name = 'RecordsUnavailableError';
  /** An API request that needs the records answers 503 Service Unavailable: worth trying again. */
  readonly statusCode = 503;
  constructor(
    readonly database: string,
    cause: unknown,
  ) {
    super(`records database ${database} is not reachable: ${reason(cause)}`, { cause });
  }
}

function reason(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown };
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(e.code ?? err);
  // An AggregateError (every address of a host refused) carries no message of its own.
  const inner = (err as { errors?: unknown[] }).errors?.[0] as { message?: string } | undefined;
  return message === '' || message === 'undefined' ? (inner?.message ?? 'connection failed') : message;
}

/** SQLSTATE of a PostgreSQL error, or undefined for anything else (a socket error, a bug). */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

// Class 08 connection exception, 28 invalid authorization, 3D000 no such database,
// 57P01-57P03 the server is shutting down, crashed or starting (PostgreSQL appendix A).
const UNAVAILABLE = /^(08...|28...|3D000|57P0[123])$/;

/** The connection failed, as opposed to a statement: a socket error, a lost connection, a login refused. */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof RecordsUnavailableError) return true;
  const state = sqlState(err);
  if (state !== undefined) return UNAVAILABLE.test(state);
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ENOTFOUND, ETIMEDOUT, …
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(message) || err instanceof AggregateError;
}

// 40001 serialization_failure, 40P01 deadlock_detected: the transaction lost a conflict and may be run again.
const RETRYABLE = new Set(['40001', '40P01']);

export function isRetryable(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && RETRYABLE.has(state);
}

/** The error a repository sees: unique violations as UniqueViolationError, connection failures naming the database. */
export function driverError(err: unknown, database: string): unknown {
  if (err instanceof UniqueViolationError || err instanceof RecordsUnavailableError) return err;
  if (sqlState(err) === '23505') return new UniqueViolationError((err as Error).message, { cause: err });
  if (isUnavailable(err)) return new RecordsUnavailableError(database, err);
  return err;
}
