import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readEnvironment } from '../common/env.ts';
import { createLogger } from '../common/logger.ts';
import { SiteConfigError } from '../common/site/load.ts';
import { runServer } from '../server/main.ts';

// The whole site file, `rules:` included, and the environment are checked before any socket opens.
// Both ports the server was given are held by another listener: had the server opened either
// before checking its rules, it would fail with EADDRINUSE instead of naming the rules problem.

const RULES_PROBLEM = { path: '/rules/devices/B1-door/door-forced/clearOn/1', reason: "'restore' is not an event of 'door'" };

function site(rules: Record<string, unknown> | undefined): Record<string, unknown> {
  return {
    site: { id: 'order-estate', name: 'Start-up order estate', demo: true },
    gateway: { id: 'gw-order' },
    buildings: [{ id: 'B1', name: 'Block 1', type: 'residential', devices: [{ id: 'B1-door', kind: 'door', name: 'Lobby door', mqtt: {} }] }],
    ...(rules ? { rules } : {}),
  };
}

const listen = (): Promise<Server> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
const portOf = (s: Server) => (s.address() as { port: number }).port;

let dir: string;
let brokenSite: string;
let validSite: string;
let http: Server;
let broker: Server;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fm-startup-order-'));
  brokenSite = join(dir, 'broken-rules.yaml');
  validSite = join(dir, 'valid.yaml');
  await writeFile(brokenSite, stringify(site({ devices: { 'B1-door': { 'door-forced': { clearOn: ['closed', 'restore'] } } } })));
  await writeFile(validSite, stringify(site(undefined)));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  http = await listen();
  broker = await listen();
});
afterEach(async () => {
  await new Promise((r) => http.close(r));
  await new Promise((r) => broker.close(r));
});

const variables = (siteFile: string, dataDir: string) => ({
  SITE_CONFIG: siteFile,
  DATA_DIR: dataDir,
  HOST: '127.0.0.1',
  PORT: String(portOf(http)),
  MQTT_HOST: '127.0.0.1',
  MQTT_PORT: String(portOf(broker)),
  LOG_LEVEL: 'silent',
});

describe('server start-up with a broken rules section', () => {
  it('rejects with the rules problem, naming file, path and reason, while both its ports are taken', async () => {
    const dataDir = join(dir, 'run-server');
    const err: unknown = await runServer(readEnvironment(variables(brokenSite, dataDir)), createLogger('server')).then(
      (running) => running.stop().then(() => undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SiteConfigError);
    expect((err as SiteConfigError).file).toBe(brokenSite);
    expect((err as SiteConfigError).problems).toContainEqual({ path: RULES_PROBLEM.path, reason: expect.stringContaining(RULES_PROBLEM.reason) });
    // Nothing was started: not even the records database.
    expect(existsSync(dataDir)).toBe(false);
  });

  it('meets the taken ports with a valid site file (the ports really are taken)', async () => {
    await expect(runServer(readEnvironment(variables(validSite, join(dir, 'valid'))), createLogger('server'))).rejects.toThrow(/EADDRINUSE/);
  });

  it('`npm start` exits 78 with the rules problem on stderr', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/start.ts'], {
      env: { ...process.env, ...variables(brokenSite, join(dir, 'npm-start')) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code, stderr).toBe(78);
    expect(stderr).toContain(`facility-monitor: ${brokenSite}: invalid site file`);
    expect(stderr).toContain(`${RULES_PROBLEM.path}: ${RULES_PROBLEM.reason}`);
    expect(existsSync(join(dir, 'npm-start'))).toBe(false);
  });
});
