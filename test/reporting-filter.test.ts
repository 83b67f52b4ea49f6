import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeviceEvent, Quality, Reading } from '../common/reading.ts';
import { parseSiteConfig } from '../common/site/load.ts';
import type { SiteConfig } from '../common/site/types.ts';
import { encodeBatch } from '../gateway/outbox/batch-codec.ts';
import { ReportFilter } from '../gateway/reporting/report-filter.ts';
import { SqliteReadingStore } from '../gateway/store/sqlite-store.ts';

/** A tank per tower (one with its own profile), a flat's three meters and a door. */
function site(reporting?: unknown): SiteConfig {
  return parseSiteConfig({
    site: { id: 'reporting-test', name: 'Reporting test' },
    modbus: { connections: [{ id: 'M1', tcp: { host: '127.0.0.1', port: 502 } }] },
    profiles: { 'acme-tank': { kind: 'tank', points: [{ metric: 'level_mm', function: 3, address: 0, type: 'uint16', engUnit: 'mm' }] } },
    ...(reporting ? { reporting } : {}),
    buildings: [
      {
        id: 'T1',
        name: 'T1',
        units: [{ id: 'T1-0101' }],
        devices: [
          { id: 'T1-tank', kind: 'tank', modbus: { connection: 'M1', unitId: 1, profile: 'tank-level' } },
          { id: 'T2-tank', kind: 'tank', modbus: { connection: 'M1', unitId: 2, profile: 'acme-tank' } },
          { id: 'T1-0101-water', kind: 'meter-water', unit: 'T1-0101', modbus: { connection: 'M1', unitId: 10, profile: 'meter-water' } },
          { id: 'T1-0101-electric', kind: 'meter-electric', unit: 'T1-0101', modbus: { connection: 'M1', unitId: 11, profile: 'meter-electric' } },
          { id: 'T1-0101-gas', kind: 'meter-gas', unit: 'T1-0101', modbus: { connection: 'M1', unitId: 12, profile: 'meter-gas' } },
          { id: 'T1-door', kind: 'door', mqtt: {} },
        ],
      },
    ],
  });
}

interface Fixture {
  name: string;
  description: string;
  reporting?: unknown;
  device: string;
  metric: string;
  readings: [number, number | null, Quality?][];
  stored: number[];
  deltas?: Record<string, number>;
}

const dir = join(import.meta.dirname, 'fixtures/reporting');
const fixtures: Fixture[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ name: f.replace(/\.json$/, ''), ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Omit<Fixture, 'name'>) }));

function readingsOf(s: SiteConfig, f: Fixture): Reading[] {
  const device = s.devices.find((d) => d.id === f.device)!;
  return f.readings.map(([ts, value, quality]) => ({ building: device.building, device: device.id, kind: device.kind, metric: f.metric, value, ts, quality: quality ?? (value === null ? 'bad' : 'good') }));
}

describe.each(fixtures)('report by exception: $name', (f) => {
  it('stores what the fixture says, one reading at a time', () => {
    const s = site(f.reporting);
    const filter = new ReportFilter(s);
    const stored: number[] = [];
    const deltas: Record<string, number> = {};
    readingsOf(s, f).forEach((r, i) => {
      if (!filter.admit(r.building, r.device, r.kind, r.metric, r.value, r.ts, r.quality)) return;
      stored.push(i);
      if (filter.delta !== undefined) deltas[String(i)] = filter.delta;
    });
    expect(stored).toEqual(f.stored);
    expect(deltas).toEqual(f.deltas ?? (Object.keys(deltas).length ? deltas : {}));
    expect(filter.counts).toEqual({ kept: f.stored.length, skipped: f.readings.length - f.stored.length });
  });

  it('selects the same readings from an encoded outbox batch', () => {
    const s = site(f.reporting);
    const selection = new ReportFilter(s).select(encodeBatch({ readings: readingsOf(s, f), events: [] }));
    expect([...selection.keep].flatMap((k, i) => (k ? [i] : []))).toEqual(f.stored);
    if (f.deltas) expect(Object.fromEntries([...selection.deltas].map(([i, d]) => [String(i), d]))).toEqual(f.deltas);
  });
});

describe('report by exception in the store', () => {
  it('goes on after a restart from the latest stored readings, and never leaves out an event', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'fm-reporting-'));
    try {
      const s = site();
      const store = new SqliteReadingStore({ file: join(tmp, 'readings.db') });
      await store.init();
      const base = { building: 'T1', quality: 'good' } as const;
      const first: Reading[] = [
        { ...base, device: 'T1-0101-water', kind: 'meter-water', metric: 'volume_m3', value: 10, ts: 1000 },
        { ...base, device: 'T1-tank', kind: 'tank', metric: 'level_mm', value: 1000, ts: 1000 },
      ];
      const before = new ReportFilter(s);
      const payload = encodeBatch({ readings: first, events: [] });
      await store.writeOutboxBatches([payload], [before.select(payload)]);

      // A restarted gateway: a new filter, started from what the store holds.
      const after = new ReportFilter(s);
      after.seed(await store.latest());
      const door: DeviceEvent = { building: 'T1', device: 'T1-door', kind: 'door', event: 'forced', ts: 2500, attrs: {} };
      const next = encodeBatch({
        readings: [
          { ...base, device: 'T1-0101-water', kind: 'meter-water', metric: 'volume_m3', value: 10.5, ts: 2000 },
          { ...base, device: 'T1-tank', kind: 'tank', metric: 'level_mm', value: 1005, ts: 2000 },
        ],
        events: [door],
      });
      const selection = after.select(next);
      expect([...selection.keep]).toEqual([1, 0]);
      expect(selection.deltas).toEqual(new Map([[0, 0.5]]));
      await store.writeOutboxBatches([next], [selection]);
      expect(await store.range({ device: 'T1-0101-water', from: 0, to: 60_000, every: 60_000, aggregate: 'delta' })).toEqual([{ metric: 'volume_m3', ts: 0, value: 0.5 }]);
      expect(await store.count({ device: 'T1-tank' })).toBe(1);
      expect(await store.events({ from: 0, to: 60_000 })).toEqual([door]);
      await store.close();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
