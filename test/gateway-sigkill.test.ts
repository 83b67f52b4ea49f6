import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadingStore } from '../gateway/store/create-reading-store.ts';
import type { ReadingStore } from '../gateway/store/reading-store.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { METRICS, metricValue, mqttSiteRaw, publishTelemetry, writeSiteFile } from './fixtures/gateway/telemetry.ts';
import { startInfluxd, type InfluxInstance } from './harness/influxd.ts';
import { waitFor } from './harness/ports.ts';
import { requireBinary } from './harness/services.ts';

const DEVICES = 4;
/** Upper bound of the first stream, which stops once the gateway is back. */
const MESSAGES = 60_000;
const PER_SECOND = 1_500;
const T0 = Date.now() - 3_600_000;

interface GatewayProcess {
  child: ChildProcess;
  httpPort: number;
  output(): string;
  exited: Promise<void>;
}

const children = new Set<ChildProcess>();

/** Starts test/fixtures/gateway/run-gateway.ts and waits for its `ready PORT` line (bounded). */
async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/gateway/run-gateway.ts'], {
    env: { ...process.env, GATEWAY_HTTP_PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-20_000)));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-20_000)));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  const port = await waitFor(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gateway exited: ${out}`);
      return /^ready (\d+)$/m.exec(out)?.[1];
    },
    30_000,
    'the gateway process to be ready',
    50,
  );
  return { child, httpPort: Number(port), output: () => out, exited };
}

async function metricsOf(g: GatewayProcess): Promise<string> {
  return (await fetch(`http://127.0.0.1:${g.httpPort}/metrics`)).text();
}

const backends = [
  { backend: 'influxdb', skip: !requireBinary('influxd') },
  { backend: 'sqlite', skip: false },
] as const;

describe('gateway process killed with SIGKILL while devices publish', () => {
  let broker: EmbeddedBroker;
  let influxd: InfluxInstance | undefined;
  const dirs: string[] = [];

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0 });
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await broker?.close();
    await influxd?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  describe.each(backends)('reading store: $backend', ({ backend, skip }) => {
    it.skipIf(skip)('stores every message the broker acknowledged exactly once, after a restart on the same DATA_DIR', async () => {
      const dir = await mkdtemp(join(tmpdir(), `fm-gateway-sigkill-${backend}-`));
      dirs.push(dir);
      const siteFile = join(dir, 'site.yaml');
      const gatewayId = `gw-sigkill-${backend}`;
      await writeSiteFile(siteFile, mqttSiteRaw(DEVICES, gatewayId));
      const env: Record<string, string> = { DATA_DIR: join(dir, 'data'), MQTT_URL: broker.url, SITE_CONFIG: siteFile };
      if (backend === 'influxdb') {
        influxd ??= await startInfluxd();
        env.INFLUX_URL = `${influxd.url}/${gatewayId.replace(/-/g, '_')}`;
      }

      let gateway = await startGatewayProcess(env);
      const publisher: MqttClient = await mqtt.connectAsync(broker.url, { clientId: `${gatewayId}-publisher`, reconnectPeriod: 0 });
      let store: ReadingStore | undefined;
      try {
        const before = publishTelemetry(publisher, { count: MESSAGES, devices: DEVICES, t0: T0, perSecond: PER_SECOND });
        // Mid-stream: the gateway is busy taking messages into its outbox and acknowledging them.
        await waitFor(async () => before.sent >= MESSAGES / 10 && metricValue(await metricsOf(gateway), 'fm_gateway_readings_total') > 0, 30_000, 'the gateway taking readings');
        gateway.child.kill('SIGKILL');
        await gateway.exited;
        const sentWhileRunning = before.sent;
        const ackedWhileRunning = before.acked.size;
        // The broker takes messages for the gateway's session while it is down.
        await waitFor(() => before.acked.size >= ackedWhileRunning + PER_SECOND / 4, 30_000, 'messages published while the gateway is down');
        gateway = await startGatewayProcess(env);
        await before.stop();
        expect(before.sent).toBeGreaterThan(sentWhileRunning);
        // And a little more once it is back.
        const after = publishTelemetry(publisher, { from: before.sent, count: PER_SECOND * 2, devices: DEVICES, t0: T0, perSecond: PER_SECOND });
        await after.done;
        const total = before.sent + after.sent;
        const acked = new Set([...before.acked, ...after.acked]);
        expect(before.failed + after.failed).toBe(0);
        expect(acked.size).toBe(total);

        store = createReadingStore({ influxUrl: env.INFLUX_URL, dataDir: env.DATA_DIR!, retention: '365d' });
        await store.init();
        const expected = acked.size * METRICS.length;
        await waitFor(async () => (await store!.count({ building: 'B1' })) >= expected, 40_000, `${expected} readings in the store`, 250);
        await waitFor(
          async () => ((await (await fetch(`http://127.0.0.1:${gateway.httpPort}/health`)).json()) as { outbox: { pending: { store: number } } }).outbox.pending.store === 0,
          10_000,
          'the store consumer to catch up',
        );
        expect(await store.count({ building: 'B1' })).toBe(expected);

        // Per series: every acknowledged timestamp once, with its value, and nothing else.
        for (let d = 0; d < DEVICES; d++) {
          const wanted = [...acked].filter((i) => i % DEVICES === d).sort((a, b) => a - b);
          for (const metric of METRICS) {
            const points = await store.range({ device: `tank-${d}`, metric, from: T0, to: T0 + total + 1 });
            const ts = points.map((p) => p.ts).sort((a, b) => a - b);
            expect(ts, `tank-${d}/${metric}`).toEqual(wanted.map((i) => T0 + i));
            if (metric === 'level_pct') for (const p of points) expect(p.value).toBe((p.ts - T0) % 100);
          }
        }
        // The restarted process took over the outbox lock and got the broker's queued messages.
        expect(metricValue(await metricsOf(gateway), 'fm_gateway_readings_total')).toBeGreaterThan(0);

        gateway.child.kill('SIGTERM');
        await Promise.race([gateway.exited, new Promise((r) => setTimeout(r, 15_000))]);
        expect(gateway.child.exitCode, gateway.output()).toBe(0);
      } finally {
        await publisher.endAsync().catch(() => undefined);
        await store?.close();
        if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
      }
    }, 90_000);
  });
});
