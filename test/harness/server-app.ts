import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { readEnvironment, type Environment } from '../../common/env.ts';
import { parseSiteConfig } from '../../common/site/load.ts';
import type { SiteConfig } from '../../common/site/types.ts';
import { buildApp, type BuildAppOptions } from '../../server/app.ts';
import { DEMO_PASSWORD } from '../../server/plugins/app/auth.ts';
import type { LoginLimits } from '../../server/routes/api/auth.ts';

/** A small estate without polled devices: nothing goes offline while a test moves the clock by days. `sections` are added to the file (`workOrders`, …). */
export function smallSite(demo: boolean, sections: Record<string, unknown> = {}): SiteConfig {
  return parseSiteConfig(
    {
      ...sections,
      site: { id: 'test-estate', name: 'Test estate 测试小区', demo },
      gateway: { id: 'gw-test' },
      buildings: [
        {
          id: 'B1',
          name: 'Block 1',
          type: 'residential',
          units: [{ id: 'B1-0101', floor: 1 }, { id: 'B1-0102', floor: 1 }],
          devices: [
            { id: 'B1-fire', kind: 'fire-panel', name: 'Fire panel', mqtt: {} },
            { id: 'B1-door', kind: 'door', name: 'Lobby door', mqtt: {} },
          ],
        },
        { id: 'B2', name: 'Block 2', type: 'office', units: [], devices: [{ id: 'B2-sos', kind: 'emergency-button', name: 'Lobby SOS', mqtt: {} }] },
      ],
    },
    'test-estate.yaml',
  );
}

/** The environment of a server under test: ports 0 (any free one), DATA_DIR `dataDir`, silent. */
export function testEnvironment(dataDir: string, over: Partial<Environment> = {}): Environment {
  return { ...readEnvironment({ DATA_DIR: dataDir, PORT: '0', MQTT_PORT: '0', LOG_LEVEL: 'silent' }), ...over };
}

export interface TestServer {
  app: FastifyInstance;
  dataDir: string;
  /** Logs in through the API and returns the bearer token. */
  login(username: string, password?: string): Promise<string>;
  /** inject() with the token of `username` (logged in once, again after the clock expired it). */
  as(username: string, options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** Login limits out of the way of tests that log in again and again as the clock moves; rate-limit tests pass the shipped ones. */
export const UNLIMITED_LOGINS: LoginLimits = { perAddress: 100_000, windowMs: 60_000, backoff: { freeFailures: 100_000, baseDelayMs: 1, maxDelayMs: 1, forgetAfterMs: 60_000 } };

/**
 * buildApp over a temp DATA_DIR (removed on close unless the caller gave it) with an embedded
 * broker on a free port: records in DATA_DIR (SQLite) unless `databaseUrl` names a PostgreSQL
 * database (test/harness/records.ts), readings in DATA_DIR.
 */
export async function startTestServer(options: Partial<BuildAppOptions> & { site: SiteConfig; dataDir?: string; databaseUrl?: string | undefined }): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'fm-server-')));
  const { dataDir: _given, databaseUrl, ...rest } = options;
  const app = await buildApp({ env: testEnvironment(dataDir, { databaseUrl }), loginLimits: UNLIMITED_LOGINS, ...rest });
  const tokens = new Map<string, string>();
  const login = async (username: string, password = DEMO_PASSWORD): Promise<string> => {
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
    if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
    return (res.json() as { token: string }).token;
  };
  const as = async (username: string, opts: InjectOptions) => {
    let token = tokens.get(username);
    if (token === undefined) tokens.set(username, (token = await login(username)));
    const send = (t: string) => app.inject({ ...opts, headers: { ...opts.headers, authorization: `Bearer ${t}` } });
    const res = await send(token);
    if (res.statusCode !== 401) return res;
    tokens.set(username, (token = await login(username)));
    return send(token);
  };
  return {
    app,
    dataDir,
    login,
    as,
    close: async () => {
      await app.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
