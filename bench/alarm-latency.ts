// Scenario `alarm-latency` (docs/design.md#targets): a device event through the embedded broker, the
// gateway (its own process) and the server's rules engine, until the work order is stored and
// pushed to a dashboard socket; p50 and p99 while 10,000 readings/s flow in the background.
// Standalone: `npx tsx bench/alarm-latency.ts [--quick]`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { io as connectSocket } from 'socket.io-client';
import { readEnvironment } from '../common/env.ts';
import { createLogger } from '../common/logger.ts';
import { isMainModule } from '../common/run-process.ts';
import { parseSiteConfig } from '../common/site/load.ts';
import type { SiteConfig } from '../common/site/types.ts';
import { deviceTopic } from '../common/topics.ts';
import { Gateway } from '../gateway/gateway.ts';
import { buildApp } from '../server/app.ts';
import { forkTs, serveParent } from './child-process.ts';
import { fmt, percentile, sleep, type BenchOptions, type ScenarioResult } from './scenario.ts';

const GATEWAY_ID = 'gw-bench';
const GATEWAY_PASSWORD = 'bench-gateway-password';
const BUILDINGS = 4;
const TANKS_PER_BUILDING = 50;
const BUTTONS_PER_BUILDING = 60;
const TARGET_P99_MS = 50;
const BACKGROUND_READINGS_PER_S = 10_000;
/** Metrics per tank telemetry message (level, pump, two floats): 4, like the ingest target. */
const METRICS_PER_MESSAGE = 4;

export interface AlarmLatencyDetails {
  samples: number;
  workOrderMs: { p50: number; p99: number; max: number };
  alarmMs: { p50: number; p99: number; max: number };
  missed: number;
  background: { targetReadingsPerS: number; publishedReadingsPerS: number; serverReadingsPerS: number };
}

/** Tanks that report over MQTT (the background load) and emergency buttons (the measured events). */
export function latencySite(): SiteConfig {
  const buildings = Array.from({ length: BUILDINGS }, (_, b) => {
    const id = `L${b + 1}`;
    return {
      id,
      name: `Latency block ${b + 1}`,
      type: 'office',
      units: [],
      devices: [
        ...Array.from({ length: TANKS_PER_BUILDING }, (_, i) => ({
          id: `${id}-tank-${i + 1}`,
          kind: 'tank',
          name: `${id} tank ${i + 1}`,
          params: { heightMm: 4000, lowAlarmMm: 800, highAlarmMm: 3800 },
          mqtt: {},
        })),
        ...Array.from({ length: BUTTONS_PER_BUILDING }, (_, i) => ({ id: `${id}-sos-${i + 1}`, kind: 'emergency-button', name: `${id} SOS ${i + 1}`, mqtt: {} })),
      ],
    };
  });
  return parseSiteConfig(
    { site: { id: 'alarm-latency', name: 'Alarm latency bench', demo: false }, gateway: { id: GATEWAY_ID, store: { flushIntervalMs: 1000 } }, modbus: { connections: [] }, buildings },
    'alarm-latency.yaml',
  );
}

const stats = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99), max: values.length ? Math.max(...values) : NaN });

export async function runAlarmLatency(opts: BenchOptions): Promise<ScenarioResult> {
  const presses = opts.quick ? 60 : BUILDINGS * BUTTONS_PER_BUILDING;
  const dir = await mkdtemp(join(tmpdir(), 'fm-bench-alarm-'));
  const site = latencySite();
  const env = readEnvironment({
    GATEWAY_CREDENTIALS: `${GATEWAY_ID}:${GATEWAY_PASSWORD}`,
    DEVICE_ANONYMOUS: 'true',
    MQTT_HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'server'),
    MQTT_PORT: '0',
    ADMIN_USERNAME: 'bench',
    ADMIN_PASSWORD: 'bench-password-1',
  });
  const logger = createLogger('server', { level: process.env.BENCH_LOG_LEVEL ?? 'warn' });
  const app = await buildApp({ site, env, logger, rateLimitMax: 1_000_000 });
  const children: { stop(): Promise<void> }[] = [];
  try {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const brokerUrl = app.broker.url;
    const gateway = forkTs(fileURLToPath(import.meta.url), { args: ['--gateway', brokerUrl, join(dir, 'gateway')] });
    children.push(gateway);
    await gateway.next('ready', 60_000);
    const load = forkTs(fileURLToPath(import.meta.url), { args: ['--load', brokerUrl, String(BACKGROUND_READINGS_PER_S / METRICS_PER_MESSAGE)] });
    children.push(load);
    await load.next('ready', 60_000);

    const admin = await app.users.credentials('bench');
    const { token } = await app.sessions.open(admin!.user.id);
    const socket = connectSocket(url, { path: '/socket.io', transports: ['websocket'], reconnection: false, auth: { token } });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no dashboard snapshot within 30 s')), 30_000);
      socket.once('snapshot', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('connect_error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const sentAt = new Map<string, number>();
    const workOrderMs: number[] = [];
    const alarmMs: number[] = [];
    socket.on('ticket:created', (m: { ticket: { deviceId: string } }) => {
      const t = sentAt.get(m.ticket.deviceId);
      if (t !== undefined) workOrderMs.push(performance.now() - t);
    });
    socket.on('alarm:raised', (m: { alarm: { device: string } }) => {
      const t = sentAt.get(m.alarm.device);
      if (t !== undefined) alarmMs.push(performance.now() - t);
    });

    // Warm-up: the background load reaches the server before anything is measured.
    await sleep(opts.quick ? 3000 : 5000);
    const readings0 = app.rules.counters.readings;
    const published0 = await load.request<{ messages: number }>({ cmd: 'count' });
    const t0 = performance.now();

    const button = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0, clientId: 'bench-buttons' });
    const buttons = site.devices.filter((d) => d.kind === 'emergency-button').slice(0, presses);
    for (const d of buttons) {
      sentAt.set(d.id, performance.now());
      button.publish(deviceTopic(d.building, d.id, 'event'), JSON.stringify({ ts: Date.now(), event: 'pressed' }), { qos: 1 });
      await sleep(30 + Math.random() * 30);
    }
    const deadline = Date.now() + 10_000;
    while (workOrderMs.length < buttons.length && Date.now() < deadline) await sleep(50);
    const seconds = (performance.now() - t0) / 1000;
    const published1 = await load.request<{ messages: number }>({ cmd: 'count' });
    const readings1 = app.rules.counters.readings;
    socket.disconnect();
    await button.endAsync();

    const details: AlarmLatencyDetails = {
      samples: workOrderMs.length,
      workOrderMs: stats(workOrderMs),
      alarmMs: stats(alarmMs),
      missed: buttons.length - workOrderMs.length,
      background: {
        targetReadingsPerS: BACKGROUND_READINGS_PER_S,
        publishedReadingsPerS: ((published1.messages - published0.messages) * METRICS_PER_MESSAGE) / seconds,
        serverReadingsPerS: (readings1 - readings0) / seconds,
      },
    };
    const background = details.background.publishedReadingsPerS;
    return {
      scenario: 'alarm-latency',
      status: 'ok',
      rows: [
        { measure: 'event → work order on socket p50', value: fmt.ms(details.workOrderMs.p50) },
        {
          measure: 'event → work order on socket p99',
          value: fmt.ms(details.workOrderMs.p99),
          target: `≤ ${TARGET_P99_MS} ms`,
          pass: details.workOrderMs.p99 <= TARGET_P99_MS && details.missed === 0,
        },
        { measure: 'event → alarm on socket p99', value: fmt.ms(details.alarmMs.p99) },
        { measure: 'events measured / missed', value: `${details.samples} / ${details.missed}` },
        {
          measure: 'background readings/s from devices',
          value: fmt.int(background),
          target: `≥ ${fmt.int(BACKGROUND_READINGS_PER_S * 0.95)}`,
          pass: background >= BACKGROUND_READINGS_PER_S * 0.95,
        },
        { measure: 'readings/s evaluated by the server', value: fmt.int(details.background.serverReadingsPerS) },
      ],
      details,
    };
  } catch (err) {
    return { scenario: 'alarm-latency', status: 'failed', reason: err instanceof Error ? (err.stack ?? err.message) : String(err), rows: [] };
  } finally {
    for (const c of children.reverse()) await c.stop().catch(() => undefined);
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The gateway in its own process, as on a real site: device topics in, upstream to the server's broker. */
async function gatewayProcess(brokerUrl: string, dataDir: string): Promise<void> {
  const gateway = new Gateway({
    site: latencySite(),
    dataDir,
    influxUrl: process.env.INFLUX_URL || undefined,
    deviceBrokerUrl: brokerUrl,
    deviceBrokerUsername: GATEWAY_ID,
    deviceBrokerPassword: GATEWAY_PASSWORD,
    upstreamUsername: GATEWAY_ID,
    upstreamPassword: GATEWAY_PASSWORD,
    logger: createLogger('gateway', { level: readEnvironment().logLevel }),
  });
  await gateway.start();
  serveParent({
    async stop() {
      await gateway.stop();
      return {};
    },
  });
  process.send?.({ type: 'ready' });
}

/** Tank telemetry at a fixed rate, QoS 1, spread over every tank of the site. */
async function loadProcess(brokerUrl: string, messagesPerSecond: number): Promise<void> {
  const tanks = latencySite().devices.filter((d) => d.kind === 'tank');
  const client = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 1000, clientId: `bench-load-${process.pid}` });
  let acked = 0;
  let next = 0;
  const tickMs = 10;
  let carry = 0;
  const timer = setInterval(() => {
    carry += (messagesPerSecond * tickMs) / 1000;
    const now = Date.now();
    for (; carry >= 1; carry--) {
      const tank = tanks[next++ % tanks.length]!;
      const level = 2000 + Math.round(Math.random() * 500);
      const body = JSON.stringify({ ts: now, level_mm: level, pump_running: 1, float_low: 0, float_high: 0 });
      client.publish(deviceTopic(tank.building, tank.id, 'telemetry'), body, { qos: 1 }, (err) => {
        if (!err) acked++;
      });
    }
  }, tickMs);
  serveParent({
    count: () => ({ messages: acked }),
    async stop() {
      clearInterval(timer);
      await client.endAsync();
      return {};
    },
  });
  process.send?.({ type: 'ready' });
}

if (isMainModule(import.meta.url)) {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === '--gateway') await gatewayProcess(a!, b!);
  else if (mode === '--load') await loadProcess(a!, Number(b));
  else {
    const r = await runAlarmLatency({ quick: process.argv.includes('--quick'), profile: false });
    if (r.status !== 'ok') {
      console.error(`alarm-latency ${r.status}: ${r.reason}`);
      process.exitCode = 1;
    } else {
      for (const row of r.rows) console.log(`${row.measure.padEnd(40)} ${row.value.padStart(12)}  ${row.target ?? ''} ${row.pass === undefined ? '' : row.pass ? 'ok' : 'MISS'}`);
    }
  }
}
