import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReadingHistory } from '../common/readings/open-reading-history.ts';
import { AGGREGATES, type ReadingHistory, type SeriesPoint } from '../common/readings/reading-history.ts';
import { chooseResolution, ROLLUP_MS, type Resolution } from '../common/readings/resolution.ts';
import { rowsOf, seriesOf, type QueryResponse } from '../common/readings/influxql.ts';
import { continuousQuery, CONTINUOUS_QUERIES, rollupQuery, sameQuery } from '../gateway/store/influx-rollups.ts';
import { InfluxReadingStore } from '../gateway/store/influx-store.ts';
import type { ReadingStore } from '../gateway/store/reading-store.ts';
import { SqliteReadingStore } from '../gateway/store/sqlite-store.ts';
import { DAY, expectedRange, rollupCases, rollupFixtures, YEAR_START } from './fixtures/store/rollups.ts';
import { startInfluxd, type InfluxInstance } from './harness/influxd.ts';
import { waitFor } from './harness/ports.ts';
import { requireBinary } from './harness/services.ts';

interface Backend {
  name: 'sqlite' | 'influxdb';
  available: boolean;
  /** A store keeping everything, the history over it, and a way to reopen the store with a raw retention of 30 days. */
  open(): Promise<{ store: ReadingStore; history: ReadingHistory; shorten(): Promise<ReadingStore>; cleanup(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    available: true,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'fm-rollups-'));
      const file = join(dir, 'readings.db');
      return {
        store: new SqliteReadingStore({ file }),
        history: openReadingHistory({ dataDir: dir }),
        async shorten() {
          const store = new SqliteReadingStore({ file, retentionMs: 30 * DAY, pruneIntervalMs: 0 });
          await store.init();
          await store.prune();
          return store;
        },
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'influxdb',
    available: requireBinary('influxd') !== undefined,
    async open() {
      const influxd: InfluxInstance = await startInfluxd({ retentionCheckInterval: '1s' });
      const url = `${influxd.url}/facility`;
      return {
        store: new InfluxReadingStore({ url, retention: 'INF' }),
        history: openReadingHistory({ influxUrl: url, dataDir: '/nonexistent' }),
        async shorten() {
          const store = new InfluxReadingStore({ url, retention: '30d' });
          await store.init();
          await store.rolledUp();
          return store;
        },
        cleanup: () => influxd.stop(),
      };
    },
  },
];

const line = (p: SeriesPoint) => `${p.metric}@${p.ts}=${p.value}`;
const readings = rollupFixtures();

/** Means may differ in the last bits between stores; everything else is exact. */
function expectSame(got: SeriesPoint[], want: SeriesPoint[]): void {
  expect(got.map((p) => `${p.metric}@${p.ts}`)).toEqual(want.map((p) => `${p.metric}@${p.ts}`));
  got.forEach((p, i) => expect(p.value).toBeCloseTo(want[i]!.value!, 9));
}

describe.each(backends)('rollups: $name', (backend) => {
  let store: ReadingStore;
  let history: ReadingHistory;
  let shorten: () => Promise<ReadingStore>;
  let cleanup: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (!backend.available) return;
    ({ store, history, shorten, cleanup } = await backend.open());
    await store.init();
    // In two writes, the second rewriting some of the first: windows are rebuilt, not added to.
    await store.write(readings.slice(0, Math.floor(readings.length * 0.6)));
    await store.write(readings.slice(Math.floor(readings.length * 0.4)));
    // InfluxDB: readings this old are rolled up by the gateway, in the background.
    await store.rolledUp();
  });

  afterAll(async () => {
    await history?.close();
    await store?.close();
    await cleanup?.();
  });

  const test = it.skipIf(!backend.available);

  describe.each(rollupCases)('$name', (c) => {
    const resolutions = (['raw', '1m', '1h'] as Resolution[]).filter((r) => r === 'raw' || c.every % ROLLUP_MS[r] === 0);
    it.skipIf(!backend.available).each(AGGREGATES.flatMap((aggregate) => resolutions.map((resolution) => ({ aggregate, resolution }))))(
      '$aggregate from $resolution equals the aggregate of the raw fixtures',
      async ({ aggregate, resolution }) => {
        const want = expectedRange(readings, { ...c, aggregate });
        // A tank has no counter, so no deltas: its answer is empty.
        expect(want.length > 0).toBe(aggregate !== 'delta' || c.device !== 'r-tank');
        expectSame(await history.range({ ...c, aggregate, resolution }), want);
      },
    );
  });

  test('a year of daily consumption is read from the 1-hour rollup', async () => {
    const q = { device: 'r-meter', metric: 'energy_kwh', from: YEAR_START, to: YEAR_START + 365 * DAY };
    const choice = chooseResolution({ ...q, every: DAY }, { raw: 30 * DAY, '1m': 90 * DAY, '1h': undefined }, Date.now());
    expect(choice).toEqual({ resolution: '1h', every: DAY });
    const got = await history.range({ ...q, every: DAY, aggregate: 'delta', resolution: choice.resolution });
    // Every day but the first, whose reading has no earlier one to count from.
    expect(got).toHaveLength(359);
    expectSame(got, expectedRange(readings, { ...q, every: DAY, aggregate: 'delta' }));
    const auto = chooseResolution(q, { raw: 30 * DAY, '1m': 90 * DAY, '1h': undefined }, Date.now());
    expect(auto).toEqual({ resolution: '1h', every: 3_600_000 });
  });

  test('raw readings past their retention are gone and their rollups remain', async () => {
    const c = rollupCases[0]!;
    const hourly = { ...c, every: 3_600_000, aggregate: 'max' as const };
    const before = await history.range({ ...hourly, resolution: '1h' });
    expect(before.length).toBeGreaterThan(0);
    const shortened = await shorten();
    try {
      await waitFor(async () => (await history.count({ device: 'r-tank' })) === 0, 20_000, 'raw readings past 30 days to be dropped', 100);
      expect(await history.range({ ...c, every: 3_600_000, aggregate: 'max' })).toEqual([]);
      expect((await history.range({ ...hourly, resolution: '1h' })).map(line)).toEqual(before.map(line));
      expectSame(await history.range({ ...c, every: 300_000, aggregate: 'mean', resolution: '1m' }), expectedRange(readings, { ...c, every: 300_000, aggregate: 'mean' }));
    } finally {
      await shortened.close();
    }
  });
});

describe('InfluxDB continuous queries', () => {
  it('run the same statement the gateway runs for late readings, over the last windows', () => {
    for (const level of ['1m', '1h'] as const) {
      const cq = continuousQuery('facility', level);
      const statement = rollupQuery('facility', level, 0, 3_600_000);
      const select = statement.slice(0, statement.indexOf(' WHERE '));
      expect(cq).toContain(`BEGIN ${select} GROUP BY time(${level}), * END`);
      expect(cq).toMatch(new RegExp(`^CREATE CONTINUOUS QUERY "${CONTINUOUS_QUERIES[level]}" ON "facility" RESAMPLE EVERY 1m FOR 2[mh] BEGIN`));
    }
    expect(rollupQuery('facility', '1h', 0, 3_600_000)).toContain('FROM "facility"."fm_1m"."readings"');
  });

  it.skipIf(!requireBinary('influxd'))('are created, and one whose statement differs is replaced, with the retention policies of the site file', async () => {
    const influxd = await startInfluxd();
    const q = async (text: string) => (await (await fetch(`${influxd.url}/query?db=facility&q=${encodeURIComponent(text)}`, { method: 'POST' })).json()) as QueryResponse;
    try {
      // What an earlier release might have left: a continuous query of the same name doing something else.
      await q('CREATE DATABASE facility');
      await q('CREATE RETENTION POLICY fm_1m ON facility DURATION 30d REPLICATION 1');
      await q('CREATE CONTINUOUS QUERY fm_rollup_1m ON facility BEGIN SELECT mean(value) INTO facility.fm_1m.readings FROM facility.autogen.readings GROUP BY time(1m), * END');
      const store = new InfluxReadingStore({ url: `${influxd.url}/facility`, retention: '30d', rollupRetention: { '1m': '730d', '1h': 'INF' } });
      await store.init();
      await store.close();
      const cqs = new Map(seriesOf(await q('SHOW CONTINUOUS QUERIES')).find((s) => s.name === 'facility')!.values.map(([n, t]) => [n, t as string]));
      expect([...cqs.keys()].sort()).toEqual(['fm_rollup_1h', 'fm_rollup_1m']);
      for (const level of ['1m', '1h'] as const) expect(sameQuery(cqs.get(CONTINUOUS_QUERIES[level])!, continuousQuery('facility', level))).toBe(true);
      const policies = Object.fromEntries(rowsOf(await q('SHOW RETENTION POLICIES ON facility')).map((r) => [r.name, [r.duration, r.default]]));
      expect(policies).toMatchObject({ fm_retention: ['720h0m0s', true], fm_1m: ['17520h0m0s', false], fm_1h: ['0s', false] });
    } finally {
      await influxd.stop();
    }
  });
});
