// Scenario `history`: a year of 1-hour values of one metric from the reading history (the server's
// read-only face), on SQLite and on InfluxDB holding a year of the demo estate's hourly rollups.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openReadingHistory } from '../../common/readings/open-reading-history.ts';
import type { ReadingHistory } from '../../common/readings/reading-history.ts';
import { chooseResolution, retentionsOf } from '../../common/readings/resolution.ts';
import { loadSiteFile } from '../../common/site/load.ts';
import type { DeviceConfig, SiteConfig } from '../../common/site/types.ts';
import { InfluxReadingStore } from '../../gateway/store/influx-store.ts';
import { escapeTag } from '../../gateway/store/line-protocol.ts';
import { SqliteReadingStore } from '../../gateway/store/sqlite-store.ts';
import { startInfluxd, type InfluxInstance } from '../../test/harness/influxd.ts';
import { requireBinary } from '../../test/harness/services.ts';
import { fmt, percentile, type BenchOptions, type ScenarioResult } from '../scenario.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TARGET_MS = 200;
const DEVICE = 'T1-0101-electric';
const METRIC = 'energy_kwh';

/** The metrics of a device of the demo estate. */
function metricsOf(d: DeviceConfig): string[] {
  if (d.metrics) return [...d.metrics];
  return { 'fire-panel': ['zones_alarm', 'zones_fault', 'battery_pct', 'mains_ok'], door: ['open'], 'emergency-button': ['battery_pct', 'pressed'] }[d.kind as string] ?? ['value'];
}

/** A plausible hourly rollup of series `i` at hour `h`. */
function rollup(i: number, h: number): { min: number; max: number; first: number; last: number; sum: number; count: number; delta: number } {
  const base = 100 + (i % 50) * 10 + h * 0.01;
  const count = 20 + ((i + h) % 40);
  return { min: base - 1, max: base + 1 + (h % 3), first: base, last: base + 0.5, sum: base * count, count, delta: 0.5 };
}

/** Timings of `runs` queries after 3 to warm up, ms. */
async function time(query: () => Promise<unknown>, runs: number): Promise<number[]> {
  for (let i = 0; i < 3; i++) await query();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await query();
    out.push(performance.now() - t);
  }
  return out;
}

export interface HistoryDetails {
  series: number;
  hours: number;
  points: number;
  resolution: string;
  sqliteMs: number[];
  influxMs?: number[];
}

export async function runHistoryScenario(bench: BenchOptions): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'fm-bench-history-'));
  let influxd: InfluxInstance | undefined;
  const histories: ReadingHistory[] = [];
  try {
    const site: SiteConfig = loadSiteFile();
    const to = Math.floor(Date.now() / HOUR) * HOUR;
    const from = to - 365 * DAY;
    const hours = (to - from) / HOUR;
    const series = site.devices.flatMap((d) => metricsOf(d).map((metric) => ({ d, metric })));
    const chosen = series.filter((_, i) => !bench.quick || i % 8 === 0 || series[i]!.d.id === DEVICE);

    // SQLite: the store's schema, then a year of hourly rollups of every series.
    const store = new SqliteReadingStore({ file: join(dir, 'readings.db') });
    await store.init();
    await store.write(chosen.map(({ d, metric }) => ({ building: d.building, device: d.id, kind: d.kind, metric, value: 0, ts: to - HOUR, quality: 'good' as const })));
    await store.close();
    const db = new Database(join(dir, 'readings.db'));
    const ids = db.prepare<[], { id: number; device: string; metric: string }>('SELECT id, device, metric FROM series').all();
    const insert = db.prepare('INSERT OR REPLACE INTO rollup_1h (series_id, ts, min, max, first, last, sum, count, delta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      ids.forEach(({ id }, i) => {
        for (let h = 0; h < hours; h++) {
          const r = rollup(i, h);
          insert.run(id, from + h * HOUR, r.min, r.max, r.first, r.last, r.sum, r.count, r.delta);
        }
      });
    })();
    db.close();

    const choice = chooseResolution({ from, to }, retentionsOf(site.gateway.store), to);
    const query = { device: DEVICE, metric: METRIC, from, to, every: choice.every!, aggregate: 'mean' as const, resolution: choice.resolution };
    const sqliteHistory = openReadingHistory({ dataDir: dir });
    histories.push(sqliteHistory);
    const points = (await sqliteHistory.range(query)).length;
    const runs = bench.quick ? 10 : 30;
    const details: HistoryDetails = { series: ids.length, hours, points, resolution: choice.resolution, sqliteMs: await time(() => sqliteHistory.range(query), runs) };

    if (requireBinary('influxd')) {
      influxd = await startInfluxd();
      const url = `${influxd.url}/history`;
      const writer = new InfluxReadingStore({ url, retention: '30d', rollupRetention: site.gateway.store.rollups });
      await writer.init();
      await writer.close();
      const lines: string[] = [];
      const flush = async (): Promise<void> => {
        if (lines.length === 0) return;
        const res = await fetch(`${influxd!.url}/write?db=history&rp=fm_1h&precision=ms`, { method: 'POST', body: lines.join('\n') });
        if (res.status !== 204) throw new Error(`InfluxDB write: ${res.status} ${await res.text()}`);
        lines.length = 0;
      };
      for (const [i, { d, metric }] of chosen.entries()) {
        const key = `readings,building=${escapeTag(d.building)},device=${escapeTag(d.id)},kind=${escapeTag(d.kind)},metric=${escapeTag(metric)}${d.unit ? `,unit=${escapeTag(d.unit)}` : ''}`;
        for (let h = 0; h < hours; h++) {
          const r = rollup(i, h);
          lines.push(`${key} min=${r.min},max=${r.max},first=${r.first},last=${r.last},sum=${r.sum},count=${r.count},delta=${r.delta} ${from + h * HOUR}`);
          if (lines.length >= 20_000) await flush();
        }
      }
      await flush();
      const influxHistory = openReadingHistory({ influxUrl: url, dataDir: dir });
      histories.push(influxHistory);
      const got = (await influxHistory.range(query)).length;
      if (got !== points) throw new Error(`InfluxDB answered ${got} points, SQLite ${points}`);
      details.influxMs = await time(() => influxHistory.range(query), runs);
    }

    const row = (name: string, ms: number[]) => ({
      measure: `${name}: a year of 1-hour means of ${DEVICE} ${METRIC} (${fmt.int(points)} points, ${fmt.int(details.series)} series stored), p50 / p95`,
      value: `${fmt.ms(percentile(ms, 50))} / ${fmt.ms(percentile(ms, 95))}`,
      target: `< ${TARGET_MS} ms`,
      pass: percentile(ms, 95) < TARGET_MS,
    });
    const rows = [{ measure: 'resolution chosen for a year without every', value: `${choice.resolution}, every ${choice.every! / HOUR} h` }, row('SQLite', details.sqliteMs)];
    if (details.influxMs) rows.push(row('InfluxDB', details.influxMs));
    return { scenario: 'history', status: 'ok', rows, details };
  } catch (err) {
    return { scenario: 'history', status: 'failed', reason: err instanceof Error ? (err.stack ?? err.message) : String(err), rows: [] };
  } finally {
    for (const h of histories) await h.close().catch(() => undefined);
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
