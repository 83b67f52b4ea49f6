import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_ITEMS } from '../common/dlt645/data-items.ts';
import { PROTOCOLS, PROTOCOL_NAMES } from '../common/protocols/index.ts';
import { DEMO_SITE_FILE, loadSiteFile, parseSiteConfig } from '../common/site/load.ts';
import { siteSchema } from '../common/site/schema.ts';
import { CONNECTORS } from '../gateway/connectors/index.ts';

describe('the protocol registries', () => {
  it('name each descriptor by its key, and give every protocol a connector and no connector without a protocol', () => {
    for (const [key, descriptor] of Object.entries(PROTOCOLS)) expect(descriptor.name).toBe(key);
    expect(Object.keys(CONNECTORS).sort()).toEqual([...PROTOCOL_NAMES].sort());
  });

  it('compose the site schema: a device block and a oneOf branch per protocol, and each protocol\'s sections', () => {
    const device = siteSchema.properties.buildings.items.properties.devices.items;
    for (const p of Object.values(PROTOCOLS)) {
      expect(device.properties[p.name as keyof typeof device.properties]).toBe(p.deviceSchema);
      expect(device.oneOf).toContainEqual({ required: [p.name] });
      for (const [key, schema] of Object.entries(p.sectionSchemas)) expect((siteSchema.properties as Record<string, unknown>)[key]).toBe(schema);
    }
  });
});

describe('the protocol-neutral view of a device', () => {
  const demo = loadSiteFile(DEMO_SITE_FILE);
  const byId = (id: string) => demo.devices.find((d) => d.id === id)!;

  it('gives every device of the demo estate its protocol and an address', () => {
    for (const d of demo.devices) {
      expect(PROTOCOL_NAMES).toContain(d.protocol);
      expect(d[d.protocol], d.id).toBeDefined();
      expect(d.address, d.id).not.toBe('');
    }
    expect(new Set(demo.devices.map((d) => d.protocol))).toEqual(new Set(['modbus', 'mqtt', 'dlt645']));
  });

  it.each([
    ['T1-tank', 'modbus', 'T1-modbus unit 1', ['level_mm', 'pump_running', 'float_low', 'float_high']],
    ['T1-0101-electric', 'modbus', 'T1-modbus unit 11', ['voltage_v', 'current_a', 'power_w', 'energy_kwh']],
    ['OB-101-electric', 'dlt645', 'OB-dlt645 meter 000000000101', ['energy_kwh', 'voltage_v', 'current_a', 'power_w']],
    ['T1-fire', 'mqtt', 'site/T1/T1-fire/telemetry, site/T1/T1-fire/event', undefined],
  ])('%s: %s at %s', (id, protocol, address, metrics) => {
    expect(byId(id)).toMatchObject({ protocol, address });
    expect(byId(id).metrics).toEqual(metrics);
  });

  it('fills the defaults of a DL/T 645 line and meter, and declares a mapped MQTT device\'s metrics', () => {
    const site = parseSiteConfig({
      site: { id: 's1', name: 'Test' },
      dlt645: { connections: [{ id: 'bus', serial: { path: '/dev/ttyUSB1' } }] },
      buildings: [
        {
          id: 'B1',
          name: 'B1',
          devices: [
            { id: 'm1', kind: 'meter-electric', dlt645: { connection: 'bus', address: 101 } },
            { id: 't1', kind: 'tank', mqtt: { telemetryTopic: 'vendor/t1', mapping: { metrics: { level_mm: 'data.level' } } } },
          ],
        },
      ],
    });
    expect(site.dlt645.connections).toEqual([{ id: 'bus', serial: { path: '/dev/ttyUSB1', baudRate: 2400, parity: 'even', dataBits: 8, stopBits: 1 }, timeoutMs: 1000, wakeUp: true }]);
    const meter = site.devices[0]!;
    expect(meter.dlt645).toMatchObject({ connection: 'bus', address: '000000000101', timeoutMs: 1000 });
    expect(meter.dlt645!.dataItems.map((i) => i.id)).toEqual(DEFAULT_DATA_ITEMS);
    expect(site.devices[1]).toMatchObject({ protocol: 'mqtt', address: 'vendor/t1, site/B1/t1/event', metrics: ['level_mm'] });
    expect(site.modbus.connections).toEqual([]);
  });
});
