import type { FastifyInstance } from 'fastify';
import { redactUrl } from '../broker/redact-url.ts';
import type { Dialect } from '../records/records-client.ts';

export interface Check {
  ok: boolean;
  detail: string;
}

export interface Health {
  status: 'ok' | 'degraded';
  time: number;
  checks: {
    database: Check & { backend: Dialect };
    store: Check & { backend: 'influxdb' | 'sqlite' };
    broker: Check & { url: string; embedded: boolean };
  };
}

const STORE_TIMEOUT_MS = 2_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Whether the records database, the reading store and the upstream broker answer now. */
export async function checkHealth(app: FastifyInstance): Promise<Health> {
  let database: Check;
  try {
    await withTimeout(app.records.client.ping(), STORE_TIMEOUT_MS);
    database = { ok: true, detail: 'records database answers' };
  } catch (err) {
    database = { ok: false, detail: (err as Error).message };
  }

  let store: Check;
  try {
    // A series that cannot exist: exercises the query path without scanning anything.
    await withTimeout(app.readings.count({ device: '\u0000health' }), STORE_TIMEOUT_MS);
    store = { ok: true, detail: 'reading store answers' };
  } catch (err) {
    store = { ok: false, detail: (err as Error).message };
  }

  const bus = app.hasDecorator('bus') ? app.bus.status() : undefined;
  const broker = {
    ok: bus?.connected ?? false,
    url: redactUrl(app.hasDecorator('broker') ? app.broker.url : (bus?.broker ?? '')),
    embedded: app.hasDecorator('broker') ? app.broker.embedded !== undefined : false,
    detail: bus === undefined ? 'no upstream consumer in this server' : bus.connected ? 'subscribed to the upstream topics' : `not connected${bus.lastError ? `: ${bus.lastError}` : ''}`,
  };

  const ok = database.ok && store.ok && broker.ok;
  return {
    status: ok ? 'ok' : 'degraded',
    time: app.clock(),
    checks: { database: { ...database, backend: app.records.client.dialect }, store: { ...store, backend: app.readings.backend }, broker },
  };
}
