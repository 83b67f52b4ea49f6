import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * The 64-bit key of a named advisory lock (the first 8 bytes of the name's SHA-256, signed), as
 * the decimal text PostgreSQL reads as a bigint: JavaScript numbers cannot hold every such key.
 */
export function advisoryKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

/** Names of the advisory locks Facility Monitor takes; one list so two uses never share a key by accident. */
export const ADVISORY_LOCKS = {
  /** Held for the transaction of each migration (server/records/postgres/migrate.ts). */
  migrations: 'facility-monitor/records/migrations',
} as const;

/**
 * A session-level advisory lock (`pg_try_advisory_lock`), held by a connection of its own for as
 * long as that connection lives: PostgreSQL releases it when the connection ends, so a process
 * that dies or loses the network loses the lock with it.
 */
export class AdvisoryLock {
  private released = false;
  /** Resolves when the lock is no longer held: released, or its connection lost (with the error). */
  readonly lost: Promise<Error | undefined>;

  constructor(
    readonly name: string,
    private readonly connection: pg.Client,
  ) {
    this.lost = new Promise((resolve) => {
      connection.once('error', (err) => resolve(err));
      connection.once('end', () => resolve(this.released ? undefined : new Error(`connection holding advisory lock ${name} ended`)));
    });
    // A later error on a connection already counted as lost has no one left to tell.
    connection.on('error', () => {});
  }

  /** Unlocks and closes the connection. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      await this.connection.query('SELECT pg_advisory_unlock($1::bigint)', [advisoryKey(this.name)]);
    } catch {
      // The connection is gone, and the lock with it.
    }
    await this.connection.end().catch(() => {});
  }
}
