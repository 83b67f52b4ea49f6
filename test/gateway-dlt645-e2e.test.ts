import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_ITEMS } from '../common/dlt645/data-items.ts';
import { createLogger } from '../common/logger.ts';
import { BUILTIN_PROFILES } from '../common/profiles.ts';
import type { Reading } from '../common/reading.ts';
import { parseSiteConfig } from '../common/site/load.ts';
import type { SiteConfig } from '../common/site/types.ts';
import { ManualClock } from '../devices/clock.ts';
import { startEstate, type RunningEstate } from '../devices/estate-simulator.ts';
import { Gateway } from '../gateway/gateway.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { demoSiteOnFreePorts } from './harness/demo-site.ts';
import { waitFor } from './harness/ports.ts';

/** The demo's office block alone: its DL/T 645 meters on their TCP serial converter, water and tank on Modbus, the rest on MQTT. */
async function officeBlock(): Promise<SiteConfig> {
  const { raw } = await demoSiteOnFreePorts();
  raw.buildings = raw.buildings.filter((b: { id: string }) => b.id === 'OB');
  raw.modbus.connections = raw.modbus.connections.filter((c: { id: string }) => c.id === 'OB-modbus');
  raw.gateway.pollIntervalMs = 200;
  raw.gateway.store.flushIntervalMs = 100;
  // Every poll stored: the tests follow the connector through the store, on a clock that stands still.
  raw.reporting = { byException: false };
  return parseSiteConfig(raw, 'demo-estate (office block, test ports)');
}

describe('gateway with the demo office block: DL/T 645 meters into the reading store', () => {
  let site: SiteConfig;
  let broker: EmbeddedBroker;
  let gateway: Gateway;
  let estate: RunningEstate;
  let dataDir: string;
  let meters: string[];

  const latestOf = async (device: string): Promise<Record<string, Reading>> =>
    Object.fromEntries((await gateway.readingStore.latest({ device })).map((r) => [r.metric, r]));

  beforeAll(async () => {
    site = await officeBlock();
    meters = site.devices.filter((d) => d.protocol === 'dlt645').map((d) => d.id);
    dataDir = await mkdtemp(join(tmpdir(), 'fm-gateway-dlt645-'));
    broker = await startEmbeddedBroker({ port: 0 });
    // A clock that stands still: the meters hold their values while the gateway reads them.
    estate = await startEstate({ site, brokerUrl: broker.url, clock: new ManualClock(), logger: createLogger('devices') });
    gateway = new Gateway({ site, dataDir, deviceBrokerUrl: broker.url, upstream: false, logger: createLogger('gateway') });
    await gateway.start();
  });

  afterAll(async () => {
    await gateway?.stop();
    await estate?.stop();
    await broker?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('has the eight electricity meters of the office block on DL/T 645', () => {
    expect(meters).toEqual(['OB-101', 'OB-102', 'OB-201', 'OB-202', 'OB-301', 'OB-302', 'OB-401', 'OB-402'].map((u) => `${u}-electric`));
    expect(site.devices.filter((d) => d.kind === 'meter-water').every((d) => d.protocol === 'modbus')).toBe(true);
  });

  it('stores every meter\'s readings with the values the meter shows, under the metrics of the Modbus electricity meter', async () => {
    const modbusMetrics = BUILTIN_PROFILES['meter-electric']!.points.map((p) => p.metric).sort();
    for (const id of meters) {
      const meter = estate.meter(id)!;
      const expected = Object.fromEntries(
        site.devices.find((d) => d.id === id)!.dlt645!.dataItems.map((item) => [item.metric, meter.get(item.id)]),
      );
      const stored = await waitFor(
        async () => {
          const latest = await latestOf(id);
          return Object.keys(latest).length === 4 && Object.values(latest).every((r) => r.quality === 'good') ? latest : undefined;
        },
        20_000,
        `the readings of ${id}`,
        100,
      );
      expect(Object.keys(stored).sort()).toEqual(modbusMetrics);
      for (const [metric, value] of Object.entries(expected)) {
        expect(stored[metric], `${id} ${metric}`).toMatchObject({ value, quality: 'good', kind: 'meter-electric', building: 'OB', unit: id.replace('-electric', '') });
        expect(stored[metric]!.engUnit).toBe(DATA_ITEMS.find((d) => d.metric === metric)!.engUnit);
      }
      expect(stored.voltage_v!.value).toBeGreaterThan(200);
    }
    const responses = gateway.metrics.find('dlt645_responses_total')!.get({ connection: 'OB-dlt645' });
    expect(responses).toBeGreaterThanOrEqual(32);
    expect(gateway.health().connectors).toContainEqual({ connector: 'dlt645', state: 'running' });
  });

  it('stores bad readings for a meter that stops answering, and good ones again once it is back', async () => {
    const id = 'OB-202-electric';
    estate.setOnline(id, false);
    const bad = await waitFor(async () => {
      const latest = await latestOf(id);
      return Object.values(latest).every((r) => r.quality === 'bad') ? latest : undefined;
    }, 20_000, `bad readings of ${id}`, 100);
    expect(bad.energy_kwh).toMatchObject({ value: null, quality: 'bad' });
    expect(gateway.metrics.find('dlt645_timeouts_total')!.get({ connection: 'OB-dlt645' })).toBeGreaterThan(0);
    // The other meters on the line go on being read.
    const later = await waitFor(
      async () => {
        const r = (await latestOf('OB-201-electric')).energy_kwh!;
        return r.ts > bad.energy_kwh!.ts ? r : undefined;
      },
      20_000,
      'a later reading of OB-201-electric',
      100,
    );
    expect(later.quality).toBe('good');

    estate.setOnline(id, true);
    // Offline after three timeouts, it is probed every five cycles.
    await waitFor(async () => Object.values(await latestOf(id)).every((r) => r.quality === 'good'), 20_000, `good readings of ${id} again`, 100);
  });
});
