// Scenario `fanout` (docs/design.md#targets, docs/dashboard.md): 1,000 logged-in dashboard sockets,
// spread over several client processes, watch the demo estate while every device reports once a
// second and a fire alarm comes in every two seconds. Measures how late each change reaches
// each socket (p50, p99), whether every socket got every change, the server's RSS and the size of
// the snapshot a dashboard gets on connect. Standalone: `npx tsx bench/fanout/fanout-scenario.ts [--quick]`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { readEnvironment } from '../../common/env.ts';
import { createLogger } from '../../common/logger.ts';
import type { DeviceEvent, Reading } from '../../common/reading.ts';
import { isMainModule } from '../../common/run-process.ts';
import { DEMO_SITE_FILE, loadSiteFile } from '../../common/site/load.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { UpstreamPublisher } from '../../gateway/upstream/upstream-publisher.ts';
import { buildApp } from '../../server/app.ts';
import { forkTs, serveParent, type BenchChild } from '../child-process.ts';
import { ProcessSampler } from '../proc-sampler.ts';
import { fmt, percentile, sleep, type BenchOptions, type ScenarioResult } from '../scenario.ts';

const SOCKETS = 1000;
const CLIENT_PROCESSES = 4;
const TARGET_P99_MS = 250;
const TARGET_RSS_MB = 300;
// The demo estate's own gateway: only it may publish for the demo buildings.
const GATEWAY = { id: 'gw-sunshine-1', password: 'fanout-gateway-password' };
const SELF = fileURLToPath(import.meta.url);

export interface FanoutDetails {
  sockets: number;
  clientProcesses: number;
  seconds: number;
  changesPublished: number;
  alarmsPublished: number;
  deliveries: number;
  expectedDeliveries: number;
  deviceMs: { p50: number; p99: number; max: number };
  alarmMs: { p50: number; p99: number; max: number };
  serverRssMb: { beforeSockets: number; peak: number };
  serverCpuPct: { mean: number; peak: number };
  /** The server's event-loop delay while measuring (perf_hooks.monitorEventLoopDelay). */
  serverLoopDelayMs: { p50: number; p99: number; max: number };
  /** Mean CPU of each client process: on a shared 2-core machine the clients compete with the server. */
  clientCpuPct: number[];
  snapshotBytes: number;
}

interface ClientReport {
  connected: number;
  snapshotBytes: number;
  deviceMs: number[];
  alarmMs: number[];
  /** Device changes published within the measured window, summed over this process's sockets. */
  changes: number;
  /** Alarms raised within the measured window, summed over this process's sockets. */
  alarms: number;
}

const stats = (v: number[]) => ({ p50: percentile(v, 50), p99: percentile(v, 99), max: v.reduce((m, x) => Math.max(m, x), -Infinity) });

export async function runFanout(opts: BenchOptions): Promise<ScenarioResult> {
  // FANOUT_SOCKETS=4 measures the path without the fan-out, for comparison.
  const sockets = Number(process.env.FANOUT_SOCKETS) || (opts.quick ? 200 : SOCKETS);
  const seconds = opts.durationS ?? (opts.quick ? 8 : 20);
  const dir = await mkdtemp(join(tmpdir(), 'fm-bench-fanout-'));
  const children: BenchChild[] = [];
  let publisher: UpstreamPublisher | undefined;
  try {
    const server = forkTs(SELF, { args: ['--server', dir, String(sockets)] });
    children.push(server);
    const { url, brokerUrl, tokens } = await server.next<{ url: string; brokerUrl: string; tokens: string[] }>('ready', 120_000);
    const rssBefore = await server.request<{ rssMb: number }>({ cmd: 'rss' });

    const perProcess = Math.ceil(sockets / CLIENT_PROCESSES);
    const clients: BenchChild[] = [];
    for (let i = 0; i < CLIENT_PROCESSES; i++) {
      const mine = tokens.slice(i * perProcess, (i + 1) * perProcess);
      if (mine.length === 0) continue;
      const c = forkTs(SELF, { args: ['--clients', url], env: { FANOUT_TOKENS: mine.join(',') } });
      children.push(c);
      clients.push(c);
    }
    for (const c of clients) await c.next('ready', 180_000);
    const sampler = new ProcessSampler({ server: server.pid, ...Object.fromEntries(clients.map((c, i) => [`client${i}`, c.pid])) }, 250);
    sampler.start();

    const site = loadSiteFile(DEMO_SITE_FILE);
    publisher = new UpstreamPublisher({ brokerUrl, gatewayId: GATEWAY.id, username: GATEWAY.id, password: GATEWAY.password, metrics: new MetricsRegistry(), reconnectPeriodMs: 500 });
    await publisher.start();
    const devices = site.devices.filter((d) => d.kind === 'tank' || d.kind.startsWith('meter-'));
    const panels = site.devices.filter((d) => d.kind === 'fire-panel');

    // Every device once a second, in ten slices; a fire alarm in a new zone every 2 s (each one a new
    // critical alarm for every dashboard), restored a second later.
    let published = 0;
    let alarms = 0;
    let measuring = false;
    const window = { from: Infinity, to: -Infinity };
    let slice = 0;
    // Values that trip no rule: a tank level that wanders a little, meters that barely advance.
    const METRIC: Record<string, string> = { tank: 'level_mm', 'meter-water': 'volume_m3', 'meter-gas': 'volume_m3', 'meter-electric': 'energy_kwh' };
    const valueOf = (kind: string): number => (kind === 'tank' ? 2000 + (slice % 50) : 500 + slice * 1e-5);
    const publish = async (): Promise<void> => {
      const now = Date.now();
      const part = devices.filter((_, i) => i % 10 === slice % 10);
      slice++;
      const readings: Reading[] = part.map((d) => ({ building: d.building, device: d.id, kind: d.kind, metric: METRIC[d.kind]!, value: valueOf(d.kind), ts: now, quality: 'good' }));
      const events: DeviceEvent[] = [];
      const zone = `bench-${Math.floor(slice / 20)}`;
      const panel = panels[Math.floor(slice / 20) % panels.length]!;
      if (slice % 20 === 0) {
        events.push({ building: panel.building, device: panel.id, kind: panel.kind, event: 'alarm', ts: now, attrs: { zone } });
        if (measuring) alarms++;
      } else if (slice % 20 === 10) {
        events.push({ building: panel.building, device: panel.id, kind: panel.kind, event: 'restore', ts: now, attrs: { zone } });
      }
      if (measuring) {
        published += readings.length;
        window.from = Math.min(window.from, now);
        window.to = Math.max(window.to, now);
      }
      await publisher!.deliver([{ readings, events }]);
    };
    let running = true;
    const loop = (async () => {
      while (running) {
        const t = Date.now();
        await publish();
        await sleep(Math.max(0, 100 - (Date.now() - t)));
      }
    })();

    // Warm-up: every device heard once, first alarms and work orders stored, sockets settled.
    await sleep(opts.quick ? 8000 : 10_000);
    await server.request({ cmd: 'loopStart' });
    measuring = true;
    await sleep(seconds * 1000);
    measuring = false;
    const loopDelay = await server.request<{ p50: number; p99: number; max: number }>({ cmd: 'loopStop' });
    running = false;
    await loop;
    // Let the last changes arrive, then collect.
    await sleep(1000);
    const reports: ClientReport[] = [];
    for (const c of clients) reports.push(await c.request<ClientReport>({ cmd: 'report', ...window }, 120_000));
    const usages = sampler.stop();
    const usage = usages.server;
    const clientCpu = clients.map((_, i) => usages[`client${i}`]?.meanCpuPct ?? NaN);

    const connected = reports.reduce((n, r) => n + r.connected, 0);
    const deviceMs = reports.flatMap((r) => r.deviceMs);
    const alarmMs = reports.flatMap((r) => r.alarmMs);
    const deliveries = reports.reduce((n, r) => n + r.changes, 0);
    const alarmDeliveries = reports.reduce((n, r) => n + r.alarms, 0);
    const details: FanoutDetails = {
      sockets: connected,
      clientProcesses: clients.length,
      seconds,
      changesPublished: published,
      alarmsPublished: alarms,
      deliveries,
      expectedDeliveries: published * connected,
      deviceMs: stats(deviceMs),
      alarmMs: stats(alarmMs),
      serverRssMb: { beforeSockets: rssBefore.rssMb, peak: usage?.peakRssMb ?? NaN },
      serverCpuPct: { mean: usage?.meanCpuPct ?? NaN, peak: usage?.peakCpuPct ?? NaN },
      clientCpuPct: clientCpu,
      serverLoopDelayMs: loopDelay,
      snapshotBytes: Math.max(...reports.map((r) => r.snapshotBytes)),
    };
    const complete = deliveries === details.expectedDeliveries && alarmDeliveries === alarms * connected;
    const p99 = Math.max(details.deviceMs.p99, details.alarmMs.p99);
    return {
      scenario: 'fanout',
      status: 'ok',
      rows: [
        { measure: 'dashboard sockets connected', value: `${fmt.int(connected)} in ${clients.length} processes`, target: `${fmt.int(sockets)}`, pass: connected === sockets },
        { measure: 'device change → socket p50', value: fmt.ms(details.deviceMs.p50) },
        { measure: 'device change → socket p99', value: fmt.ms(details.deviceMs.p99), target: `≤ ${TARGET_P99_MS} ms` , pass: details.deviceMs.p99 <= TARGET_P99_MS },
        { measure: 'fire alarm → alarm on socket p99', value: fmt.ms(details.alarmMs.p99), target: `≤ ${TARGET_P99_MS} ms`, pass: details.alarmMs.p99 <= TARGET_P99_MS },
        { measure: 'changes delivered / expected', value: `${fmt.int(deliveries)} / ${fmt.int(details.expectedDeliveries)}`, target: 'all', pass: complete },
        { measure: 'server RSS peak (before sockets)', value: `${fmt.mb(details.serverRssMb.peak)} (${fmt.mb(details.serverRssMb.beforeSockets)})`, target: `< ${TARGET_RSS_MB} MB`, pass: details.serverRssMb.peak < TARGET_RSS_MB },
        { measure: 'server CPU mean / peak', value: `${fmt.pct(details.serverCpuPct.mean)} / ${fmt.pct(details.serverCpuPct.peak)}` },
        { measure: 'server event-loop delay p99 / max', value: `${fmt.ms(loopDelay.p99)} / ${fmt.ms(loopDelay.max)}` },
        { measure: 'client processes CPU mean', value: clientCpu.map((c) => fmt.pct(c)).join(', ') },
        { measure: 'snapshot on connect', value: `${fmt.int(details.snapshotBytes / 1024)} KiB` },
      ],
      details: { ...details, worstP99Ms: p99 },
    };
  } catch (err) {
    return { scenario: 'fanout', status: 'failed', reason: err instanceof Error ? (err.stack ?? err.message) : String(err), rows: [] };
  } finally {
    await publisher?.stop().catch(() => undefined);
    for (const c of children.reverse()) await c.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The server of the demo estate in its own process (its RSS is what is measured), with `sessions` logged-in dashboard sessions. */
async function serverProcess(dir: string, sessions: number): Promise<void> {
  const site = loadSiteFile(DEMO_SITE_FILE);
  const env = readEnvironment({ DATA_DIR: join(dir, 'server'), MQTT_PORT: '0', MQTT_HOST: '127.0.0.1', GATEWAY_CREDENTIALS: `${GATEWAY.id}:${GATEWAY.password}` });
  const logger = createLogger('server');
  logger.level = process.env.BENCH_LOG_LEVEL ?? 'warn';
  const app = await buildApp({ site, env, logger, rateLimitMax: 1_000_000 });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const viewer = await app.users.credentials('demo-viewer');
  if (!viewer) throw new Error('no demo-viewer account');
  const tokens: string[] = [];
  for (let i = 0; i < sessions; i++) tokens.push((await app.sessions.open(viewer.user.id)).token);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  serveParent({
    rss: () => ({ rssMb: process.memoryUsage().rss / 1024 / 1024 }),
    loopStart: () => {
      loopDelay.reset();
      loopDelay.enable();
      return {};
    },
    loopStop: () => {
      loopDelay.disable();
      return { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
    },
    async stop() {
      await app.close();
      return {};
    },
  });
  process.send?.({ type: 'ready', url, brokerUrl: app.broker.url, tokens });
}

/**
 * Dashboard sockets of one client process: each records how late every change reaches it. The
 * Socket.IO protocol is spoken over plain WebSockets (engine.io v4 framing: `0` open, `2`/`3`
 * ping/pong, `40` connect with the token, `42` an event) and events are read with a scan instead
 * of JSON.parse: 250 socket.io-client instances per process would take as much CPU as the server
 * they measure, on the same two cores.
 */
async function clientsProcess(url: string, tokens: string[]): Promise<void> {
  const sockets: WebSocket[] = [];
  let snapshotBytes = 0;
  const deviceMs: { ts: number; ms: number }[] = [];
  const alarmMs: { ts: number; ms: number }[] = [];
  /** Deliveries by the change's time stamp (each slice of changes has its own). */
  const changes = new Map<number, number>();
  const alarms = new Map<number, number>();
  const count = (m: Map<number, number>, ts: number): void => {
    m.set(ts, (m.get(ts) ?? 0) + 1);
  };
  const METRIC_TS = /"(?:level_mm|volume_m3|energy_kwh)":\{[^}]*?"ts":(\d+)/g;
  const RAISED_AT = /"raisedAt":(\d+)/;
  const onEvent = (index: number, text: string): void => {
    const now = Date.now();
    if (text.startsWith('42["device:state"')) {
      for (const m of text.matchAll(METRIC_TS)) {
        const ts = Number(m[1]);
        count(changes, ts);
        // One socket in ten records latencies: enough samples, less work than the server's.
        if (index % 10 === 0) deviceMs.push({ ts, ms: now - ts });
      }
    } else if (text.startsWith('42["alarm:raised"')) {
      const ts = Number(RAISED_AT.exec(text)?.[1]);
      count(alarms, ts);
      alarmMs.push({ ts, ms: now - ts });
    } else if (text.startsWith('42["snapshot"') && index === 0) {
      snapshotBytes = Buffer.byteLength(text) - '42["snapshot",]'.length;
    }
  };
  const endpoint = `${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const connectOne = (token: string, index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(endpoint);
      sockets.push(ws);
      let snapshot = false;
      ws.on('error', reject);
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        if (text.startsWith('42')) {
          onEvent(index, text);
          if (!snapshot && text.startsWith('42["snapshot"')) {
            snapshot = true;
            resolve();
          }
        } else if (text === '2') ws.send('3');
        else if (text.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`);
        else if (text.startsWith('44')) reject(new Error(`socket refused: ${text.slice(2)}`));
      });
    });
  // Connect in small groups: 250 handshakes at once would measure the handshake, not the feed.
  for (let i = 0; i < tokens.length; i += 25) await Promise.all(tokens.slice(i, i + 25).map((t, j) => connectOne(t, i + j)));
  serveParent({
    report: (msg) => {
      const from = Number(msg.from);
      const to = Number(msg.to);
      const within = (ts: number) => ts >= from && ts <= to;
      const sum = (m: Map<number, number>) => [...m].reduce((n, [ts, c]) => (within(ts) ? n + c : n), 0);
      const connected = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
      return {
        connected,
        snapshotBytes,
        deviceMs: deviceMs.filter((x) => within(x.ts)).map((x) => x.ms),
        alarmMs: alarmMs.filter((x) => within(x.ts)).map((x) => x.ms),
        changes: sum(changes),
        alarms: sum(alarms),
      } satisfies ClientReport;
    },
    async stop() {
      for (const s of sockets) s.close();
      return {};
    },
  });
  process.send?.({ type: 'ready' });
}

if (isMainModule(import.meta.url)) {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === '--server') await serverProcess(a!, Number(b));
  else if (mode === '--clients') await clientsProcess(a!, (process.env.FANOUT_TOKENS ?? '').split(',').filter(Boolean));
  else {
    const r = await runFanout({ quick: process.argv.includes('--quick'), profile: false });
    if (r.status !== 'ok') {
      console.error(`fanout ${r.status}: ${r.reason}`);
      process.exitCode = 1;
    } else {
      for (const row of r.rows) console.log(`${row.measure.padEnd(40)} ${row.value.padStart(24)}  ${row.target ?? ''} ${row.pass === undefined ? '' : row.pass ? 'ok' : 'MISS'}`);
    }
  }
}
