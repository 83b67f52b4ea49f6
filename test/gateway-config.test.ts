import { spawn } from 'node:child_process';
import { existsSync, unwatchFile, watchFile } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../common/env.ts';
import { SiteConfigError } from '../common/site/load.ts';
import { deviceTopic } from '../common/topics.ts';
import { runGateway, type RunningGateway } from '../gateway/main.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { watchSiteFile } from '../gateway/site-watcher.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { metricValue, mqttSiteRaw, writeSiteFile } from './fixtures/gateway/telemetry.ts';
import { freePort, waitFor } from './harness/ports.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'fm-gateway-config-'));
  dirs.push(d);
  return d;
}

/** A TCP listener that only counts the connections made to it (a stand-in broker or InfluxDB). */
async function connectionCounter(): Promise<{
  url: (scheme: string) => string;
  count: () => number;
  /** Connects once more; resolves with how many connections were accepted before that one (connections are accepted in the order they were made). */
  acceptedBefore(): Promise<number>;
  close(): Promise<void>;
}> {
  const accepted: (number | undefined)[] = [];
  const server: Server = createServer((s) => {
    accepted.push(s.remotePort);
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const acceptedBefore = async (): Promise<number> => {
    const marker = connect(port, '127.0.0.1');
    marker.on('error', () => undefined);
    await new Promise<void>((resolve) => marker.once('connect', () => resolve()));
    const at = await waitFor(() => accepted.indexOf(marker.localPort) + 1, 10_000, 'the marker connection');
    marker.destroy();
    return at - 1;
  };
  return { url: (scheme) => `${scheme}://127.0.0.1:${port}`, count: () => accepted.length, acceptedBefore, close: () => new Promise((r) => server.close(() => r())) };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const BROKEN_KIND = { ...mqttSiteRaw(1), buildings: [{ id: 'B1', name: 'Block 1', devices: [{ id: 'tank-0', kind: 'boiler', mqtt: {} }] }] };

describe('gateway start-up with a broken site file', () => {
  it('rejects with SiteConfigError naming file, path and reason before opening any socket', async () => {
    const dir = await tempDir();
    const file = join(dir, 'broken-site.yaml');
    await writeSiteFile(file, BROKEN_KIND);
    const broker = await connectionCounter();
    const influx = await connectionCounter();
    const httpPort = await freePort();
    try {
      const env = readEnvironment({ SITE_CONFIG: file, MQTT_URL: broker.url('mqtt'), INFLUX_URL: `${influx.url('http')}/facility`, DATA_DIR: join(dir, 'data'), GATEWAY_HTTP_PORT: String(httpPort) });
      const err: unknown = await runGateway(env, pino({ level: 'silent' })).then(
        (running) => running.stop().then(() => undefined),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SiteConfigError);
      const e = err as SiteConfigError;
      expect(e.file).toBe(file);
      expect(e.problems).toContainEqual({ path: '/buildings/0/devices/0/kind', reason: expect.stringMatching(/^must be one of .*"tank"/) });
      expect(e.message).toContain(file);
      expect(e.message).toContain('/buildings/0/devices/0/kind');
      expect(await broker.acceptedBefore()).toBe(0);
      expect(await influx.acceptedBefore()).toBe(0);
      expect(await listening(httpPort)).toBe(false);
      expect(existsSync(join(dir, 'data'))).toBe(false);
    } finally {
      await broker.close();
      await influx.close();
    }
  });

  it('`npm run gateway` exits 78 with the message on stderr', async () => {
    const dir = await tempDir();
    const file = join(dir, 'broken-site.yaml');
    await writeSiteFile(file, 'site: { id: s1, name: Test }\nbuildings:\n  - id: B1\n   name: B1\n');
    const broker = await connectionCounter();
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
        env: { ...process.env, SITE_CONFIG: file, MQTT_URL: broker.url('mqtt'), DATA_DIR: join(dir, 'data'), GATEWAY_HTTP_PORT: '0' },
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
      expect(stderr).toContain(`gateway: ${file}: invalid site file`);
      expect(stderr).toMatch(/line 4: YAML: /);
      expect(broker.count()).toBe(0);
    } finally {
      await broker.close();
    }
  });
});

describe('running gateway: site file changes, /health and /metrics', () => {
  let broker: EmbeddedBroker;
  let running: RunningGateway;
  let publisher: MqttClient;
  let siteFile: string;
  let timer: NodeJS.Timeout | undefined;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const dir = await tempDir();
    siteFile = join(dir, 'site.yaml');
    await writeSiteFile(siteFile, mqttSiteRaw(2, 'gw-config'));
    broker = await startEmbeddedBroker({ port: 0 });
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    running = await runGateway(readEnvironment({ SITE_CONFIG: siteFile, MQTT_URL: broker.url, DATA_DIR: join(dir, 'data'), GATEWAY_HTTP_PORT: '0' }), logger);
    publisher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    // Three devices publish every 100 ms; tank-2 is not in the site file yet.
    let i = 0;
    timer = setInterval(() => {
      const ts = Date.now() - 60_000 + i++;
      for (const d of ['tank-0', 'tank-1', 'tank-2']) void publisher.publishAsync(deviceTopic('B1', d, 'telemetry'), JSON.stringify({ ts, level_pct: i % 100 }), { qos: 1 }).catch(() => undefined);
    }, 100);
  });

  afterAll(async () => {
    clearInterval(timer);
    await publisher?.endAsync().catch(() => undefined);
    await running?.stop();
    await broker?.close();
  });

  const get = (path: string, init?: RequestInit): Promise<Response> => fetch(`http://127.0.0.1:${running.httpPort}${path}`, init);
  const metrics = async (): Promise<string> => (await get('/metrics')).text();
  const count = (device: string): Promise<number> => running.gateway.readingStore.count({ device });

  it('serves /health and /metrics on the port it really listens on (GATEWAY_HTTP_PORT=0)', async () => {
    expect(running.httpPort).toBeGreaterThan(0);
    await waitFor(async () => (await get('/health')).status === 200, 10_000, '/health 200');
    const res = await get('/health');
    expect(res.headers.get('content-type')).toBe('application/json');
    const health = (await res.json()) as { ok: boolean; store: { backend: string }; connectors: { connector: string; state: string }[] };
    expect(health).toMatchObject({ ok: true, store: { backend: 'sqlite', healthy: true }, upstream: { enabled: true, connected: true } });
    expect(health.connectors).toEqual([{ connector: 'mqtt', state: 'running' }]);

    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await m.text();
    expect(text).toContain('# TYPE fm_config_reload_errors_total counter');
    expect(text).toContain('# TYPE fm_gateway_readings_total counter');
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/metrics', { method: 'POST' })).status).toBe(405);
    await waitFor(async () => (await count('tank-0')) > 0, 10_000, 'readings of tank-0');
  });

  it('refuses a broken change, logs and counts it, and keeps running with the previous site', async () => {
    const before = await count('tank-0');
    await writeSiteFile(siteFile, BROKEN_KIND);
    await waitFor(async () => metricValue(await metrics(), 'fm_config_reload_errors_total') === 1, 10_000, 'fm_config_reload_errors_total 1');
    const logged = logs.find((l) => l.msg === 'site file change refused; still running with the previous one');
    expect(logged?.level).toBe(50);
    expect(String(logged?.err)).toContain(siteFile);
    expect(String(logged?.err)).toMatch(/\/buildings\/0\/devices\/0\/kind: must be one of/);
    expect(metricValue(await metrics(), 'fm_config_reloads_total')).toBe(0);

    // Readings keep arriving, from the devices of the previous site.
    await waitFor(async () => (await count('tank-0')) > before + 10, 10_000, 'more readings of tank-0 after the refused change');
    expect(await count('tank-1')).toBeGreaterThan(0);
    expect(await count('tank-2')).toBe(0);
    expect((await get('/health')).status).toBe(200);
  });

  it('applies a valid change: a device added to the site file is read from then on', async () => {
    expect(metricValue(await metrics(), 'fm_mqtt_unknown_device_total')).toBeGreaterThan(0);
    await writeSiteFile(siteFile, mqttSiteRaw(3, 'gw-config'));
    await waitFor(async () => metricValue(await metrics(), 'fm_config_reloads_total') === 1, 10_000, 'fm_config_reloads_total 1');
    expect(running.gateway.siteConfig.devices.map((d) => d.id)).toEqual(['tank-0', 'tank-1', 'tank-2']);
    await waitFor(async () => (await count('tank-2')) > 0, 10_000, 'readings of the added device tank-2');
    const before = await count('tank-0');
    await waitFor(async () => (await count('tank-0')) > before, 10_000, 'readings of tank-0 after the change');
    expect(metricValue(await metrics(), 'fm_config_reload_errors_total')).toBe(1);
    await waitFor(async () => (await get('/health')).status === 200, 10_000, '/health 200 after the change');
  });
});

describe('gateway start-up when its HTTP port is taken', () => {
  it('rejects, and leaves no connection, loop or outbox lock behind', async () => {
    const dir = await tempDir();
    const siteFile = join(dir, 'site.yaml');
    await writeSiteFile(siteFile, mqttSiteRaw(1, 'gw-port-taken'));
    const broker = await startEmbeddedBroker({ port: 0 });
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const env = readEnvironment({ SITE_CONFIG: siteFile, MQTT_URL: broker.url, DATA_DIR: join(dir, 'data'), GATEWAY_HTTP_PORT: String((taken.address() as { port: number }).port) });
    try {
      await expect(runGateway(env, pino({ level: 'silent' }))).rejects.toThrow(/EADDRINUSE/);
      await waitFor(() => broker.aedes.connectedClients === 0, 10_000, 'the gateway to leave the broker');

      // Nothing of the failed start holds the data dir: a second start on it succeeds.
      const second = await runGateway({ ...env, gateway: { ...env.gateway, httpPort: 0 } }, pino({ level: 'silent' }));
      await second.stop();
    } finally {
      await new Promise((r) => taken.close(r));
      await broker.close();
    }
  });
});

describe('site file watcher stopping while a change is applied', () => {
  it('waits for that change before it resolves, and applies none after', async () => {
    const dir = await tempDir();
    const file = join(dir, 'site.yaml');
    await writeSiteFile(file, mqttSiteRaw(1));
    const applied: number[] = [];
    let finish: () => void = () => undefined;
    const unwatch = watchSiteFile({
      file,
      variables: {},
      logger: pino({ level: 'silent' }),
      metrics: new MetricsRegistry(),
      intervalMs: 50,
      apply: (site) => {
        applied.push(site.devices.length);
        return new Promise<void>((resolve) => (finish = resolve));
      },
    });
    // A change made before the watcher's first look at the file is its starting point, not a change: write until one is seen.
    await waitFor(
      async () => {
        await writeSiteFile(file, mqttSiteRaw(2));
        return applied.length === 1;
      },
      10_000,
      'the change to be applied',
    );

    let finished = false;
    const stopping = unwatch().then(() => finished);
    // The change finishes only after every promise callback has run, so an unwatch that did not wait would have resolved first.
    setImmediate(() => {
      finished = true;
      finish();
    });
    expect(await stopping).toBe(true);

    // Another watcher of the file sees the next change; the stopped one, had it still been listening, would have seen it in the same poll.
    let seen = false;
    const witness = (): void => {
      seen = true;
    };
    watchFile(file, { interval: 50, persistent: false }, witness);
    try {
      await waitFor(
        async () => {
          await writeSiteFile(file, mqttSiteRaw(3));
          return seen;
        },
        10_000,
        'the witness to see the change',
      );
    } finally {
      unwatchFile(file, witness);
    }
    expect(applied).toEqual([2]);
  });
});
