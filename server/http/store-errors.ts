import type { FastifyBaseLogger } from 'fastify';
import { HttpError } from './http-error.ts';

/** Runs a reading-store query; a store failure becomes 503 (logged with its cause) rather than a 500. */
export async function fromStore<T>(log: FastifyBaseLogger, what: string, query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (err) {
    log.error({ err, what }, 'reading store query failed');
    throw new HttpError(503, `the reading store did not answer (${what}); try again shortly, /api/health shows its state`);
  }
}
