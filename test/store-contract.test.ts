import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent, Reading } from '../common/reading.ts';
import { InfluxReadingStore } from '../gateway/store/influx-store.ts';
import { openReadingHistory } from '../common/readings/open-reading-history.ts';
import type { ReadingHistory, SeriesPoint } from '../common/readings/reading-history.ts';
import type { ReadingStore } from '../gateway/store/reading-store.ts';
import { SqliteReadingStore } from '../gateway/store/sqlite-store.ts';
import { countCases, eventCases, events, latestCases, ODD, rangeCases, readings, T0 } from './fixtures/store/contract.ts';
import { startInfluxd, type InfluxInstance } from './harness/influxd.ts';
import { requireBinary } from './harness/services.ts';

interface Backend {
  name: string;
  available: boolean;
  /** The write store, and the read-only history over the same data. */
  open(): Promise<{ store: ReadingStore; history: ReadingHistory; cleanup(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    available: true,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'fm-store-'));
      const store = new SqliteReadingStore({ file: join(dir, 'readings.db') });
      const history = openReadingHistory({ dataDir: dir });
      return { store, history, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'influxdb',
    available: requireBinary('influxd') !== undefined,
    async open() {
      const influxd: InfluxInstance = await startInfluxd();
      const store = new InfluxReadingStore({ url: `${influxd.url}/facility`, retention: 'INF' });
      const history = openReadingHistory({ influxUrl: `${influxd.url}/facility`, dataDir: '/nonexistent' });
      return { store, history, cleanup: () => influxd.stop() };
    },
  },
];

const latestLine = (r: Reading) => `${r.device}/${r.metric}=${r.value}@${r.ts} ${r.quality}`;
const pointLine = (p: SeriesPoint) => `${p.metric}@${p.ts}=${p.value}`;

// The write store and the read-only history answer the same queries the same way: every query below
// goes to `reader`, the store itself or the history over what the store wrote.
const cases = backends.flatMap((backend) => (['store', 'history'] as const).map((face) => ({ ...backend, face })));

describe.each(cases)('reading store contract: $name $face', (backend) => {
  let store: ReadingStore;
  let reader: ReadingHistory;
  let history: ReadingHistory | undefined;
  let cleanup: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (!backend.available) return;
    ({ store, history, cleanup } = await backend.open());
    await store.init();
    await store.init();
    await store.write(readings, events);
    reader = backend.face === 'store' ? store : history;
  });

  afterAll(async () => {
    await history?.close();
    await store?.close();
    await cleanup?.();
  });

  const test = it.skipIf(!backend.available);

  test('reports its backend', () => {
    expect(reader.backend).toBe(backend.name);
  });

  describe('latest', () => {
    it.skipIf(!backend.available).each(latestCases)('$name', async ({ filter, expected }) => {
      const got = await reader.latest(filter);
      expect(got.map(latestLine).sort()).toEqual([...expected].sort());
    });
  });

  test('latest returns the tags of the series, odd characters intact', async () => {
    const [r] = await reader.latest({ device: ODD.device });
    expect(r).toEqual(readings.find((x) => x.device === ODD.device));
    const [meter] = await reader.latest({ device: 'meter-1' });
    expect(meter).toMatchObject({ building: 'b2', kind: 'meter-electric', unit: '3-2-1501', engUnit: 'kWh' });
    const [pump] = await reader.latest({ device: 'tank-1' }).then((rs) => rs.filter((x) => x.metric === 'pump_running'));
    expect(pump).not.toHaveProperty('engUnit');
    expect(pump).not.toHaveProperty('unit');
  });

  test('a backslash inside a name round-trips', async () => {
    const got = await reader.latest({ device: ODD.backslash });
    expect(got.map((r) => r.device)).toEqual([ODD.backslash]);
  });

  describe('count', () => {
    it.skipIf(!backend.available).each(countCases)('$name', async ({ filter, expected }) => {
      expect(await reader.count(filter)).toBe(expected);
    });
  });

  describe('range', () => {
    it.skipIf(!backend.available).each(rangeCases)('$name', async ({ name: _name, expected, ...query }) => {
      const got = await reader.range(query);
      expect(got.map(pointLine)).toEqual(expected);
    });
  });

  test('range rejects an unknown aggregate and a non-positive window', async () => {
    await expect(reader.range({ device: 'tank-1', from: T0, to: T0 + 1, every: 1000, aggregate: 'median' as never })).rejects.toThrow(/aggregate/);
    await expect(reader.range({ device: 'tank-1', from: T0, to: T0 + 1, every: 0 })).rejects.toThrow(/every/);
  });

  describe('events', () => {
    it.skipIf(!backend.available).each(eventCases)('$name', async ({ filter, expected }) => {
      const got = await reader.events(filter);
      expect(got).toEqual(expected.map((i) => events[i]));
    });
  });

  test('writing the same batch twice stores it once', async () => {
    const batch: Reading[] = Array.from({ length: 50 }, (_, i) => ({
      building: 'idem',
      device: `d-${i % 5}`,
      kind: 'tank',
      metric: i % 2 ? 'level_pct' : 'level_mm',
      value: i,
      ts: T0 + i * 1000,
      quality: 'good',
    }));
    const evs: DeviceEvent[] = [{ building: 'idem', device: 'd-0', kind: 'door', event: 'open', ts: T0, attrs: { n: 1 } }];
    await store.write(batch, evs);
    await store.write(batch, evs);
    expect(await reader.count({ building: 'idem' })).toBe(50);
    expect(await reader.events({ building: 'idem', from: T0, to: T0 + 1 })).toEqual(evs);
  });

  test('a replayed reading with a new value replaces the stored one', async () => {
    const r: Reading = { building: 'replace', device: 'm', kind: 'meter-gas', metric: 'volume_m3', engUnit: 'm3', value: 1, ts: T0, quality: 'uncertain' };
    await store.write([r]);
    await store.write([{ ...r, value: 2, quality: 'good' }]);
    expect(await reader.count({ building: 'replace' })).toBe(1);
    expect(await reader.latest({ building: 'replace' })).toEqual([{ ...r, value: 2, quality: 'good' }]);
  });

  test('a bad reading is stored, counted and latest, with no value', async () => {
    const base = { building: 'badq', device: 'tank-9', kind: 'tank', metric: 'level_mm' } as const;
    await store.write([
      { ...base, value: 500, ts: T0, quality: 'good' },
      { ...base, value: null, ts: T0 + 1000, quality: 'bad' },
    ]);
    expect(await reader.count({ building: 'badq' })).toBe(2);
    expect(await reader.latest({ building: 'badq' })).toEqual([{ ...base, value: null, ts: T0 + 1000, quality: 'bad' }]);
    expect(await reader.range({ device: 'tank-9', from: T0, to: T0 + 60_000, every: 60_000, aggregate: 'mean' })).toEqual([{ metric: 'level_mm', ts: T0, value: 500 }]);
  });

  test('an empty write is a no-op', async () => {
    const before = await reader.count();
    await store.write([], []);
    expect(await reader.count()).toBe(before);
  });
});
