// Scenario `ingest` (docs/design.md#targets): device MQTT telemetry, QoS 1, 4 metrics per message, through
// Mosquitto and the gateway into InfluxDB; every PUBACKed reading must be stored, none twice.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInfluxd, type InfluxInstance } from '../../test/harness/influxd.ts';
import { startMosquitto, type MosquittoInstance } from '../../test/harness/mosquitto.ts';
import { requireBinary } from '../../test/harness/services.ts';
import { forkTs, type BenchChild } from '../child-process.ts';
import { summariseCpuProfiles, type CpuProfileSummary } from '../cpu-profile.ts';
import { ProcessSampler, type ProcessUsage } from '../proc-sampler.ts';
import { metricSum } from '../prometheus-text.ts';
import { fmt, percentile, skipped, sleep, type BenchOptions, type ScenarioResult } from '../scenario.ts';
import { ingestSite, publisherDevices } from './bench-site.ts';
import type { PublisherResult } from './publisher-process.ts';

export interface IngestOptions {
  devices: number;
  durationMs: number;
  publishers: number;
  connectionsPerPublisher: number;
  window: number;
  /** Messages the publishers may be ahead of what the gateway has made durable (the rest waits in their windows). */
  maxLeadMessages: number;
  drainTimeoutMs: number;
}

export interface IngestDetails {
  options: IngestOptions;
  messagesSent: number;
  messagesAcked: number;
  readingsSent: number;
  readingsAcked: number;
  readingsAcceptedByGateway: number;
  readingsStored: number;
  lossReadings: number;
  duplicateReadings: number;
  redeliveredReadings: number;
  seconds: number;
  readingsPerSecond: number;
  steadyReadingsPerSecond: number;
  drained: boolean;
  usage: Record<string, ProcessUsage>;
  profile?: CpuProfileSummary;
  profileDir?: string;
}

const TARGET_RATE = 100_000;
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

async function influxCount(influx: InfluxInstance, db: string): Promise<number> {
  const q = encodeURIComponent('SELECT count(value) FROM "fm_retention"."readings"');
  const res = await fetch(`${influx.url}/query?db=${db}&q=${q}`, { signal: AbortSignal.timeout(120_000) });
  const body = (await res.json()) as { results: { series?: { values: [string, number][] }[] }[] };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

async function gatewayText(port: number, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
  return res.text();
}

export async function runIngest(bench: BenchOptions, overrides: Partial<IngestOptions> = {}): Promise<ScenarioResult> {
  const opts: IngestOptions = {
    devices: 1000,
    durationMs: bench.durationS ? bench.durationS * 1000 : bench.quick ? 5_000 : 30_000,
    publishers: 1,
    connectionsPerPublisher: 4,
    window: 2000,
    maxLeadMessages: 40_000,
    drainTimeoutMs: 180_000,
    ...overrides,
  };
  for (const bin of ['influxd', 'mosquitto']) {
    let path: string | undefined;
    try {
      path = requireBinary(bin);
    } catch (err) {
      return { scenario: 'ingest', status: 'failed', reason: (err as Error).message, rows: [] };
    }
    if (!path) return skipped('ingest', `${bin} is not on PATH`);
  }

  let influx: InfluxInstance | undefined;
  let broker: MosquittoInstance | undefined;
  let gateway: BenchChild | undefined;
  const publishers: BenchChild[] = [];
  const dataDir = await mkdtemp(join(tmpdir(), 'fm-bench-ingest-'));
  const profileDir = bench.profile ? await mkdtemp(join(tmpdir(), 'fm-bench-profile-')) : undefined;
  try {
    influx = await startInfluxd();
    broker = await startMosquitto();

    const db = 'bench';
    gateway = forkTs(here('./gateway-process.ts'), {
      args: [String(opts.devices), broker.url, `${influx.url}/${db}`, dataDir],
      ...(profileDir ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
    });
    const { httpPort } = await gateway.next<{ httpPort: number }>('ready', 60_000);

    const devices = publisherDevices(ingestSite(opts.devices));
    const shares = Array.from({ length: opts.publishers }, (_, p) => devices.filter((_, i) => i % opts.publishers === p));
    for (let p = 0; p < opts.publishers; p++) publishers.push(forkTs(here('./publisher-process.ts')));

    const sampler = new ProcessSampler({ gateway: gateway.pid, influxd: influx.pid, mosquitto: broker.pid, ...Object.fromEntries(publishers.map((p, i) => [`publisher${opts.publishers > 1 ? i + 1 : ''}`, p.pid])) });
    // Every run writes the same timestamps into a fresh database: an hour ago, 1 ms apart per device.
    const tsBase = Date.now() - 3_600_000;
    const perPublisherLead = Math.ceil(opts.maxLeadMessages / opts.publishers);
    sampler.start();
    await Promise.all(
      publishers.map((p, i) =>
        p.request({ cmd: 'start', port: broker!.port, devices: shares[i], connections: opts.connectionsPerPublisher, window: opts.window, durationMs: opts.durationMs, tsBase, credit: perPublisherLead }),
      ),
    );
    const t0 = Date.now();
    const timeline: { at: number; readings: number }[] = [];
    // Credit: the publishers may run ahead of what the gateway has made durable by at most the lead.
    while (Date.now() - t0 < opts.durationMs) {
      const metrics = await gatewayText(httpPort, '/metrics');
      const durable = metricSum(metrics, 'fm_gateway_readings_total');
      timeline.push({ at: Date.now(), readings: durable });
      const credit = Math.ceil(durable / 4 / opts.publishers) + perPublisherLead;
      await Promise.all(publishers.map((p) => p.request({ cmd: 'credit', credit })));
      await sleep(100);
    }
    const results = await Promise.all(publishers.map((p) => p.request<PublisherResult>({ cmd: 'finish', timeoutMs: 60_000 }, 90_000)));
    const acked = results.reduce((s, r) => s + r.acked, 0);
    const sent = results.reduce((s, r) => s + r.sent, 0);
    const readingsSent = results.reduce((s, r) => s + r.readingsSent, 0);
    const firstPublishAt = Math.min(...results.map((r) => r.firstPublishAt));

    // Drained: the gateway has every acknowledged reading and its outbox has nothing left for the store.
    let drained = false;
    let lastStoredAt = Date.now();
    let accepted = 0;
    const deadline = Date.now() + opts.drainTimeoutMs;
    while (Date.now() < deadline) {
      const [metrics, health] = await Promise.all([gatewayText(httpPort, '/metrics'), gatewayText(httpPort, '/health')]);
      accepted = metricSum(metrics, 'fm_gateway_readings_total');
      const pending = (JSON.parse(health) as { outbox: { pending: Record<string, number> } }).outbox.pending.store ?? 0;
      timeline.push({ at: Date.now(), readings: accepted });
      if (accepted >= acked * 4 && pending === 0) {
        drained = true;
        lastStoredAt = Date.now();
        break;
      }
      await sleep(50);
    }
    const usage = sampler.stop();
    const stored = await influxCount(influx, db);

    await Promise.all(publishers.map((p) => p.stop()));
    await gateway.stop(60_000);
    const profile = profileDir ? summariseCpuProfiles(profileDir) : undefined;

    const seconds = (lastStoredAt - firstPublishAt) / 1000;
    const readingsAcked = acked * 4;
    // Per-second intake of the gateway while the publishers ran, first and last second left out.
    const rates: number[] = [];
    for (let i = 1; i < timeline.length; i++) {
      const a = timeline[i - 1]!;
      const b = timeline[i]!;
      if (b.at - t0 > 1000 && b.at - t0 < opts.durationMs - 500 && b.at > a.at) rates.push(((b.readings - a.readings) / (b.at - a.at)) * 1000);
    }
    const details: IngestDetails = {
      options: opts,
      messagesSent: sent,
      messagesAcked: acked,
      readingsSent,
      readingsAcked,
      readingsAcceptedByGateway: accepted,
      readingsStored: stored,
      lossReadings: readingsAcked - stored,
      duplicateReadings: stored - readingsSent,
      redeliveredReadings: accepted - readingsSent,
      seconds,
      readingsPerSecond: stored / seconds,
      steadyReadingsPerSecond: percentile(rates, 50),
      drained,
      usage,
      ...(profile ? { profile, profileDir } : {}),
    };
    const u = (name: string) => usage[name];
    const cpu = (name: string) => (u(name) ? `${fmt.pct(u(name)!.meanCpuPct)} mean, ${fmt.pct(u(name)!.peakCpuPct)} peak` : 'n/a');
    return {
      scenario: 'ingest',
      status: 'ok',
      rows: [
        { measure: `readings/s end to end (${opts.devices} devices, ${fmt.int(readingsAcked)} readings in ${seconds.toFixed(1)} s)`, value: fmt.int(details.readingsPerSecond), target: '≥ 100,000', pass: details.readingsPerSecond >= TARGET_RATE },
        { measure: 'readings/s gateway intake, median of 1 s windows', value: fmt.int(details.steadyReadingsPerSecond) },
        { measure: 'loss (PUBACKed − stored readings)', value: fmt.int(details.lossReadings), target: '0', pass: details.lossReadings === 0 && drained },
        { measure: 'duplicates (stored − distinct sent)', value: fmt.int(details.duplicateReadings), target: '0', pass: details.duplicateReadings <= 0 },
        { measure: 'redelivered into the outbox (accepted − sent)', value: fmt.int(details.redeliveredReadings) },
        { measure: 'gateway CPU (% of one core)', value: cpu('gateway') },
        { measure: 'gateway peak RSS', value: u('gateway') ? fmt.mb(u('gateway')!.peakRssMb) : 'n/a' },
        { measure: 'influxd CPU', value: cpu('influxd') },
        { measure: 'mosquitto CPU', value: cpu('mosquitto') },
        { measure: 'publisher CPU', value: cpu('publisher') },
      ],
      details,
    };
  } catch (err) {
    return { scenario: 'ingest', status: 'failed', reason: (err as Error).stack ?? String(err), rows: [] };
  } finally {
    await Promise.all(publishers.map((p) => p.stop(5_000)));
    await gateway?.stop(30_000);
    await broker?.stop();
    await influx?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
