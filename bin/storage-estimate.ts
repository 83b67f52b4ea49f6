import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { readEnvironment } from '../common/env.ts';
import type { DeviceEvent, DeviceKind } from '../common/reading.ts';
import { retentionsOf } from '../common/readings/resolution.ts';
import { isMainModule } from '../common/run-process.ts';
import { DEMO_SITE_FILE, loadSiteFile, SiteConfigError } from '../common/site/load.ts';
import type { SiteConfig } from '../common/site/types.ts';
import { ReadingStream } from '../devices/reading-stream.ts';
import { ReportFilter, type SeriesState } from '../gateway/reporting/report-filter.ts';
import { SqliteReadingStore } from '../gateway/store/sqlite-store.ts';
import type { StoredReading } from '../gateway/store/store-selection.ts';

const DAY = 86_400_000;

/**
 * InfluxDB 1.x bytes on disk per stored reading and per rollup point, shards fully compacted, with
 * the demo estate's readings after report by exception: `npm run bench -- --only storage`
 * measures them (docs/benchmarks.md#storage).
 */
export const INFLUX_BYTES = { raw: 10, rollup: 41 } as const;

/** Readings and events of one device kind over the simulated time. */
export interface KindCount {
  devices: number;
  /** What the gateway reads: every poll of every point, every telemetry message. */
  readings: number;
  /** What report by exception keeps. */
  stored: number;
  events: number;
}

export interface EstateSimulation {
  hours: number;
  kinds: Map<DeviceKind, KindCount>;
}

/**
 * Drives the demo device models over `hours` of simulated time from `from` (devices/reading-stream.ts),
 * as the gateway would poll them, and hands each minute what report by exception keeps (with the
 * counters' deltas) to `store`. `unfiltered`, when given, gets every reading.
 */
export async function simulateEstate(opts: {
  site: SiteConfig;
  from: number;
  hours: number;
  store?: (readings: StoredReading[], events: DeviceEvent[]) => Promise<void>;
  unfiltered?: (readings: StoredReading[], events: DeviceEvent[]) => Promise<void>;
  onHour?: (hour: number) => void;
  /** Starts scenarios on the stream, at the simulated time it says. */
  timeline?: { atMs: number; scenario: string; target?: string }[];
}): Promise<EstateSimulation> {
  const { site } = opts;
  const stream = new ReadingStream({ site, from: opts.from });
  const filter = new ReportFilter(site);
  const kinds = new Map<DeviceKind, KindCount>();
  for (const d of site.devices) {
    const k = kinds.get(d.kind) ?? { devices: 0, readings: 0, stored: 0, events: 0 };
    k.devices++;
    kinds.set(d.kind, k);
  }
  const poll = site.gateway.pollIntervalMs;
  const steps = Math.round((opts.hours * 3_600_000) / poll);
  const timeline = [...(opts.timeline ?? [])].sort((a, b) => a.atMs - b.atMs);
  let kept: StoredReading[] = [];
  let all: StoredReading[] = [];
  let events: DeviceEvent[] = [];
  let flushedAt = opts.from;
  const series = new Map<string, Map<string, SeriesState>>();
  const seriesOf = (r: StoredReading): SeriesState => {
    let byMetric = series.get(r.device);
    if (!byMetric) series.set(r.device, (byMetric = new Map()));
    let s = byMetric.get(r.metric);
    if (!s) byMetric.set(r.metric, (s = filter.seriesOf(r.building, r.device, r.kind, r.metric)));
    return s;
  };
  for (let i = 1; i <= steps; i++) {
    while (timeline.length > 0 && timeline[0]!.atMs <= i * poll) {
      const t = timeline.shift()!;
      await stream.scenario(t.scenario, t.target !== undefined ? { target: t.target } : {});
    }
    const step = await stream.step(poll);
    for (const r of step.readings) {
      const k = kinds.get(r.kind)!;
      k.readings++;
      if (opts.unfiltered) all.push(r);
      if (!filter.admitTo(seriesOf(r), r.value, r.ts, r.quality)) continue;
      k.stored++;
      kept.push(filter.delta === undefined ? r : { ...r, delta: filter.delta });
    }
    for (const e of step.events) kinds.get(e.kind)!.events++;
    events.push(...step.events);
    if (step.ts - flushedAt >= 60_000 || i === steps) {
      await opts.store?.(kept, events);
      await opts.unfiltered?.(all, events);
      kept = [];
      all = [];
      events = [];
      flushedAt = step.ts;
    }
    if ((i * poll) % 3_600_000 === 0) opts.onHour?.((i * poll) / 3_600_000);
  }
  return { hours: opts.hours, kinds };
}

/** What a closed SQLite store file holds: bytes of each part (tables and their indexes) and rollup rows. */
export function sqliteParts(file: string): { raw: number; rollup1m: number; rollup1h: number; other: number; rollupRows: { '1m': number; '1h': number } } {
  const db = new Database(file, { readonly: true });
  try {
    const out = { raw: 0, rollup1m: 0, rollup1h: 0, other: 0 };
    for (const row of db.prepare<[], { name: string; bytes: number }>('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all()) {
      const part = row.name === 'readings' ? 'raw' : row.name === 'rollup_1m' ? 'rollup1m' : row.name === 'rollup_1h' ? 'rollup1h' : 'other';
      out[part] += row.bytes;
    }
    const rows = (table: string) => db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).get()!.n;
    return { ...out, rollupRows: { '1m': rows('rollup_1m'), '1h': rows('rollup_1h') } };
  } finally {
    db.close();
  }
}

/** Bytes a store writes per day, by resolution. */
export interface BytesPerDay {
  raw: number;
  '1m': number;
  '1h': number;
}

export interface StorageEstimate {
  simulation: EstateSimulation;
  /** Measured in a SQLite store on the simulated time. */
  sqlite: BytesPerDay;
  /** From the points stored and INFLUX_BYTES. */
  influxdb: BytesPerDay;
}

/** Simulates the site's devices and measures what their stored readings take in SQLite. */
export async function estimateStorage(site: SiteConfig, from: number, hours: number, onHour?: (hour: number) => void): Promise<StorageEstimate> {
  const dir = mkdtempSync(join(tmpdir(), 'fm-storage-estimate-'));
  try {
    const file = join(dir, 'readings.db');
    const store = new SqliteReadingStore({ file });
    await store.init();
    const simulation = await simulateEstate({ site, from, hours, store: (readings, events) => store.write(readings, events), ...(onHour ? { onHour } : {}) });
    await store.close();
    const parts = sqliteParts(file);
    const perDay = 24 / hours;
    const stored = [...simulation.kinds.values()].reduce((n, k) => n + k.stored, 0);
    return {
      simulation,
      sqlite: { raw: parts.raw * perDay, '1m': parts.rollup1m * perDay, '1h': parts.rollup1h * perDay },
      influxdb: { raw: stored * perDay * INFLUX_BYTES.raw, '1m': parts.rollupRows['1m'] * perDay * INFLUX_BYTES.rollup, '1h': parts.rollupRows['1h'] * perDay * INFLUX_BYTES.rollup },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes held after `days` of operation, each resolution kept its retention (ms; undefined: forever). */
export function heldAfter(days: number, perDay: BytesPerDay, retentions: Record<keyof BytesPerDay, number | undefined>): number {
  const keep = (r: number | undefined) => (r === undefined ? days : Math.min(days, r / DAY));
  return keep(retentions.raw) * perDay.raw + keep(retentions['1m']) * perDay['1m'] + keep(retentions['1h']) * perDay['1h'];
}

/** The first day the bytes held exceed `budget`, within 100 years. */
export function daysUntil(budget: number, perDay: BytesPerDay, retentions: Record<keyof BytesPerDay, number | undefined>): number | undefined {
  let lo = 0;
  let hi = 36_500;
  if (heldAfter(hi, perDay, retentions) <= budget) return undefined;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (heldAfter(mid, perDay, retentions) > budget) hi = mid;
    else lo = mid;
  }
  return hi;
}

const MB = 1e6;
const int = (n: number) => Math.round(n).toLocaleString('en');
const mb = (n: number) => `${(n / MB).toFixed(n < 10 * MB ? 1 : 0)} MB`;
const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;

function report(site: SiteConfig, estimate: StorageEstimate): string {
  const { simulation, sqlite } = estimate;
  const perDay = 24 / simulation.hours;
  const lines: string[] = [];
  const rows = [['kind', 'devices', 'readings/day', 'stored/day', 'stored', 'events/day']];
  let readings = 0;
  let stored = 0;
  let events = 0;
  for (const [kind, k] of [...simulation.kinds].sort(([a], [b]) => a.localeCompare(b))) {
    readings += k.readings;
    stored += k.stored;
    events += k.events;
    rows.push([kind, String(k.devices), int(k.readings * perDay), int(k.stored * perDay), `${((100 * k.stored) / Math.max(1, k.readings)).toFixed(1)} %`, int(k.events * perDay)]);
  }
  rows.push(['total', String(site.devices.length), int(readings * perDay), int(stored * perDay), `${((100 * stored) / Math.max(1, readings)).toFixed(1)} %`, int(events * perDay)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) lines.push(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  const storedPerDay = stored * perDay;
  const store = site.gateway.store;
  const retentions = retentionsOf(store);
  const total = (d: BytesPerDay) => d.raw + d['1m'] + d['1h'];
  lines.push('');
  lines.push(`bytes per stored reading: SQLite ${(estimate.sqlite.raw / Math.max(1, storedPerDay)).toFixed(1)} (measured here), InfluxDB about ${INFLUX_BYTES.raw} (measured by npm run bench -- --only storage)`);
  for (const [name, day] of [['SQLite', estimate.sqlite], ['InfluxDB', estimate.influxdb]] as const) {
    lines.push(`${name} per day: ${mb(total(day))} (raw ${mb(day.raw)}, 1-minute rollups ${mb(day['1m'])}, hourly ${mb(day['1h'])})`);
  }
  lines.push(`every reading stored, as without report by exception: SQLite about ${mb((readings * perDay * estimate.sqlite.raw) / Math.max(1, storedPerDay))} a day`);
  const budget = store.maxBytes;
  for (const [name, day] of [['SQLite', estimate.sqlite], ['InfluxDB', estimate.influxdb]] as const) {
    const full = daysUntil(budget, day, retentions);
    lines.push(
      `${name}: ${gb(heldAfter(365, day, retentions))} after a year, ${gb(heldAfter(730, day, retentions))} after two (raw kept ${store.retention}, 1-minute rollups ${store.rollups['1m']}, hourly ${store.rollups['1h']}); ` +
        `the budget of ${gb(budget)} (gateway.store.maxBytes) is ${full === undefined ? 'not full within 100 years' : `full after about ${full < 730 ? `${int(full)} days` : `${(full / 365).toFixed(0)} years`}`}`,
    );
  }
  return lines.join('\n');
}

const usage = 'usage: npm run storage-estimate -- [--site FILE] [--hours N] [--from ISO-8601]\n';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { site: { type: 'string' }, hours: { type: 'string', default: '24' }, from: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const env = readEnvironment();
  const file = values.site ?? env.siteConfig ?? DEMO_SITE_FILE;
  const site = loadSiteFile(file, env.siteVariables);
  const hours = Number(values.hours);
  if (!(hours > 0 && hours <= 24 * 7)) throw new Error(`--hours takes 1 to 168 hours, got '${values.hours}'`);
  // From the estate's last midnight, so a day's simulation holds every hour of its daily pattern.
  const from = values.from === undefined ? localMidnight(Date.now() - DAY, site.site.timezone) : Date.parse(values.from);
  if (!Number.isFinite(from)) throw new Error(`--from takes an ISO 8601 time with its zone, got '${values.from}'`);
  process.stderr.write(`simulating ${hours} h of ${site.devices.length} devices from ${new Date(from).toISOString()} ...\n`);
  const estimate = await estimateStorage(site, from, hours, (h) => process.stderr.write(`  ${h} h\n`));
  process.stdout.write(`Storage estimate for ${file}: ${site.devices.length} devices polled every ${site.gateway.pollIntervalMs} ms, ${hours} h of the demo device models\n\n`);
  process.stdout.write(`${report(site, estimate)}\n`);
}

/** Midnight in `timeZone` of the day holding `ms`. */
function localMidnight(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(ms);
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const sinceMidnight = ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000 + (ms % 1000);
  return ms - sinceMidnight;
}

if (isMainModule(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`storage-estimate: ${(err as Error).message}\n`);
    process.exit(err instanceof SiteConfigError ? 78 : 1);
  });
}
