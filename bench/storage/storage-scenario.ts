// Scenario `storage`: bytes a day of the demo estate in the SQLite and InfluxDB reading stores,
// with report by exception and rollups, against every reading stored; and the alarms the demo
// rules raise on the stored readings against every reading (docs/benchmarks.md#storage).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceEvent } from '../../common/reading.ts';
import { loadSiteFile } from '../../common/site/load.ts';
import type { SiteConfig } from '../../common/site/types.ts';
import { InfluxReadingStore } from '../../gateway/store/influx-store.ts';
import type { ReadingStore } from '../../gateway/store/reading-store.ts';
import { SqliteReadingStore } from '../../gateway/store/sqlite-store.ts';
import type { StoredReading } from '../../gateway/store/store-selection.ts';
import { simulateEstate, sqliteParts, type EstateSimulation } from '../../bin/storage-estimate.ts';
import { startInfluxd, type InfluxInstance } from '../../test/harness/influxd.ts';
import { requireBinary } from '../../test/harness/services.ts';
import { fmt, sleep, type BenchOptions, type ScenarioResult } from '../scenario.ts';
import { compareAlarms, FAULTS, type AlarmComparison } from './alarm-replay.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MB = 1e6;
const TARGET_BYTES_PER_DAY = 100 * MB;

/** Midnight in Shanghai (UTC+8) a week ago: inside the raw retention, with a whole day's pattern ahead. */
function lastWeekMidnight(): number {
  const utcMidnight = Math.floor(Date.now() / DAY) * DAY - 7 * DAY;
  return utcMidnight - 8 * HOUR;
}

interface InfluxBytes {
  raw: number;
  '1m': number;
  '1h': number;
}

function filesUnder(dir: string, ext: string): number {
  let total = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (e.isFile() && e.name.endsWith(ext)) total += statSync(join(e.parentPath, e.name)).size;
    }
  } catch {
    // not created (yet)
  }
  return total;
}

/**
 * TSM bytes of each retention policy of `db`, once InfluxDB has written its cache to TSM files and
 * compacted them (the bench's influxd does both after 5 s without writes): what the data takes for
 * good, not the write-ahead log of the last minutes.
 */
async function compactedBytes(influxd: InfluxInstance, db: string): Promise<InfluxBytes> {
  const data = join(influxd.dataDir, 'data', db);
  const wal = join(influxd.dataDir, 'wal', db);
  let last = '';
  let stable = 0;
  const deadline = Date.now() + 180_000;
  for (;;) {
    const now = { raw: filesUnder(join(data, 'fm_retention'), '.tsm'), '1m': filesUnder(join(data, 'fm_1m'), '.tsm'), '1h': filesUnder(join(data, 'fm_1h'), '.tsm') };
    const key = JSON.stringify(now);
    const settled = filesUnder(wal, '.wal') === 0 && filesUnder(data, '.tmp') === 0;
    stable = settled && key === last ? stable + 1 : 0;
    last = key;
    if (stable >= 3) return now;
    if (Date.now() > deadline) throw new Error(`InfluxDB did not compact ${db} within 3 minutes (${key})`);
    await sleep(2_000);
  }
}

/** Writes a simulation's readings into `stores`, a minute of simulated time per write. */
function sinkInto(stores: ReadingStore[]): (readings: StoredReading[], events: DeviceEvent[]) => Promise<void> {
  return async (readings, events) => {
    await Promise.all(stores.map((s) => s.write(readings, events)));
  };
}

export interface StorageDetails {
  from: string;
  hours: number;
  baselineHours: number;
  readingsPerDay: number;
  storedPerDay: number;
  sqlite: { storedPerDay: { raw: number; '1m': number; '1h': number }; everyReadingPerDay: number; bytesPerStoredReading: number; bytesPerRollupRow: number };
  influxdb?: { storedPerDay: InfluxBytes; everyReadingPerDay: number; bytesPerStoredReading: number; bytesPerRollupPoint: number };
  alarms: AlarmComparison;
  kinds: Record<string, { readings: number; stored: number }>;
}

export async function runStorageScenario(bench: BenchOptions): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'fm-bench-storage-'));
  let influxd: InfluxInstance | undefined;
  const stores: ReadingStore[] = [];
  try {
    const site: SiteConfig = loadSiteFile();
    const hours = bench.durationS !== undefined ? bench.durationS / 3600 : bench.quick ? 2 : 24;
    const baselineHours = bench.quick ? 0.25 : 1;
    // Quick: the evening peak (18:00 to 20:00 in Shanghai), which stores the most.
    const from = bench.quick ? lastWeekMidnight() + 18 * HOUR : lastWeekMidnight();
    const withInflux = requireBinary('influxd') !== undefined;
    if (withInflux) influxd = await startInfluxd({ compactAfter: '5s' });
    const open = async (name: string): Promise<{ sqlite: SqliteReadingStore; influx?: InfluxReadingStore; file: string; db: string }> => {
      const file = join(dir, `${name}.db`);
      const sqlite = new SqliteReadingStore({ file });
      await sqlite.init();
      stores.push(sqlite);
      const db = `storage_${name}`;
      if (!influxd) return { sqlite, file, db };
      const influx = new InfluxReadingStore({ url: `${influxd.url}/${db}`, retention: site.gateway.store.retention, rollupRetention: site.gateway.store.rollups });
      await influx.init();
      stores.push(influx);
      return { sqlite, influx, file, db };
    };

    console.error(`bench: storage: ${hours} h of the demo estate, every reading report by exception keeps into SQLite${influxd ? ' and InfluxDB' : ''} ...`);
    const stored = await open('stored');
    const simulation: EstateSimulation = await simulateEstate({
      site,
      from,
      hours,
      store: sinkInto(stored.influx ? [stored.sqlite, stored.influx] : [stored.sqlite]),
      onHour: (h) => console.error(`bench: storage: ${h} h`),
    });
    await stored.influx?.rolledUp();

    console.error(`bench: storage: ${baselineHours} h with every reading stored ...`);
    const everything = await open('everything');
    await simulateEstate({ site, from, hours: baselineHours, unfiltered: sinkInto(everything.influx ? [everything.sqlite, everything.influx] : [everything.sqlite]) });
    await everything.influx?.rolledUp();

    for (const s of stores) await s.close();
    stores.length = 0;
    const perDay = (bytes: number, h: number) => (bytes * 24) / h;
    const storedParts = sqliteParts(stored.file);
    const everyParts = sqliteParts(everything.file);
    const readings = [...simulation.kinds.values()].reduce((n, k) => n + k.readings, 0);
    const storedReadings = [...simulation.kinds.values()].reduce((n, k) => n + k.stored, 0);
    const details: StorageDetails = {
      from: new Date(from).toISOString(),
      hours,
      baselineHours,
      readingsPerDay: perDay(readings, hours),
      storedPerDay: perDay(storedReadings, hours),
      sqlite: {
        storedPerDay: { raw: perDay(storedParts.raw, hours), '1m': perDay(storedParts.rollup1m, hours), '1h': perDay(storedParts.rollup1h, hours) },
        everyReadingPerDay: perDay(everyParts.raw + everyParts.rollup1m + everyParts.rollup1h, baselineHours),
        bytesPerStoredReading: storedParts.raw / storedReadings,
        bytesPerRollupRow: (storedParts.rollup1m + storedParts.rollup1h) / (storedParts.rollupRows['1m'] + storedParts.rollupRows['1h']),
      },
      alarms: undefined as unknown as AlarmComparison,
      kinds: Object.fromEntries([...simulation.kinds].map(([k, c]) => [k, { readings: c.readings, stored: c.stored }])),
    };
    if (influxd) {
      const s = await compactedBytes(influxd, stored.db);
      const e = await compactedBytes(influxd, everything.db);
      details.influxdb = {
        storedPerDay: { raw: perDay(s.raw, hours), '1m': perDay(s['1m'], hours), '1h': perDay(s['1h'], hours) },
        everyReadingPerDay: perDay(e.raw + e['1m'] + e['1h'], baselineHours),
        bytesPerStoredReading: s.raw / storedReadings,
        bytesPerRollupPoint: (s['1m'] + s['1h']) / (storedParts.rollupRows['1m'] + storedParts.rollupRows['1h']),
      };
    }

    const alarmMinutes = bench.quick ? 60 : 120;
    console.error(`bench: storage: the demo rules over ${alarmMinutes} min with faults, every reading against the stored ones ...`);
    details.alarms = await compareAlarms(site, from + 18 * HOUR, alarmMinutes);

    const total = (d: { raw: number; '1m': number; '1h': number }) => d.raw + d['1m'] + d['1h'];
    const sqliteDay = total(details.sqlite.storedPerDay);
    const rows = [
      { measure: `readings a day read from the demo estate (${site.devices.length} devices, ${hours} h from ${details.from.slice(0, 16)}Z)`, value: fmt.int(details.readingsPerDay) },
      {
        measure: 'readings a day stored by report by exception',
        value: `${fmt.int(details.storedPerDay)} (${fmt.pct((100 * details.storedPerDay) / details.readingsPerDay)})`,
      },
      {
        measure: 'SQLite bytes a day (raw + 1-minute + hourly rollups)',
        value: `${fmt.mb(sqliteDay / MB)} (${fmt.mb(details.sqlite.storedPerDay.raw / MB)} + ${fmt.mb(details.sqlite.storedPerDay['1m'] / MB)} + ${(details.sqlite.storedPerDay['1h'] / MB).toFixed(1)} MB)`,
        target: '≤ 100 MB',
        pass: sqliteDay <= TARGET_BYTES_PER_DAY,
      },
      { measure: `SQLite bytes a day with every reading stored (from ${baselineHours} h)`, value: fmt.mb(details.sqlite.everyReadingPerDay / MB) },
      { measure: 'SQLite bytes per stored reading / per rollup row', value: `${details.sqlite.bytesPerStoredReading.toFixed(1)} / ${details.sqlite.bytesPerRollupRow.toFixed(1)}` },
    ];
    if (details.influxdb) {
      const influxDay = total(details.influxdb.storedPerDay);
      rows.push(
        {
          measure: 'InfluxDB bytes a day, compacted (raw + 1-minute + hourly rollups)',
          value: `${fmt.mb(influxDay / MB)} (${(details.influxdb.storedPerDay.raw / MB).toFixed(1)} + ${(details.influxdb.storedPerDay['1m'] / MB).toFixed(1)} + ${(details.influxdb.storedPerDay['1h'] / MB).toFixed(1)} MB)`,
          target: '≤ 100 MB',
          pass: influxDay <= TARGET_BYTES_PER_DAY,
        },
        { measure: `InfluxDB bytes a day with every reading stored (from ${baselineHours} h)`, value: fmt.mb(details.influxdb.everyReadingPerDay / MB) },
        { measure: 'InfluxDB bytes per stored reading / per rollup point', value: `${details.influxdb.bytesPerStoredReading.toFixed(1)} / ${details.influxdb.bytesPerRollupPoint.toFixed(1)}` },
      );
    }
    const a = details.alarms;
    rows.push(
      {
        measure: `alarms of the demo rules over ${a.minutes} min with ${FAULTS.length} faults: on every reading / on the stored readings (offline rules aside)`,
        value: `${a.unfiltered.filter((k) => !k.includes('/device-offline')).length} / ${a.stored.filter((k) => !k.includes('/device-offline')).length}, ${a.lost.length} lost, ${a.extra.length} extra`,
        target: '0 lost',
        pass: a.lost.length === 0,
      },
      { measure: 'largest difference in raise time of those alarms', value: `${(a.maxRaiseDelayMs / 1000).toFixed(0)} s` },
      { measure: 'device-offline alarms the stored readings alone would raise (why upstream is not filtered)', value: String(a.offlineOnStoredOnly) },
    );
    return { scenario: 'storage', status: 'ok', rows, details };
  } catch (err) {
    return { scenario: 'storage', status: 'failed', reason: err instanceof Error ? (err.stack ?? err.message) : String(err), rows: [] };
  } finally {
    for (const s of stores) await s.close().catch(() => undefined);
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
