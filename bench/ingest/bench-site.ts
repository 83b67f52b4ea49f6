import { parseSiteConfig } from '../../common/site/load.ts';
import type { SiteConfig } from '../../common/site/types.ts';
import type { PublisherDevice } from './publisher-process.ts';

const TANK_METRICS = ['level_mm', 'level_pct', 'pump_running', 'battery_pct'];
const METER_METRICS = ['voltage_v', 'current_a', 'power_w', 'energy_kwh'];

/**
 * An estate of `devices` MQTT devices (half roof tanks, half electricity meters of flats) in
 * buildings of 100 devices each, publishing on the default topics.
 */
function ingestSiteRaw(devices: number): Record<string, unknown> {
  const buildings: Record<string, unknown>[] = [];
  for (let b = 0; b * 100 < devices; b++) {
    const id = `B${String(b + 1).padStart(2, '0')}`;
    const n = Math.min(100, devices - b * 100);
    const units: Record<string, unknown>[] = [];
    const list: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) {
        list.push({ id: `${id}-tank-${i}`, kind: 'tank', mqtt: {} });
      } else {
        const unit = `${id}-${String(i).padStart(4, '0')}`;
        units.push({ id: unit });
        list.push({ id: `${unit}-electric`, kind: 'meter-electric', unit, mqtt: {} });
      }
    }
    buildings.push({ id, name: `Bench building ${b + 1}`, units, devices: list });
  }
  return {
    site: { id: 'bench-estate', name: 'Benchmark estate' },
    gateway: { id: 'gw-bench', outbox: { maxBytes: 4 * 1024 ** 3, whenFull: 'reject-new' }, store: { retention: 'INF' } },
    // The target counts every reading into InfluxDB: none is left out by report by exception.
    reporting: { byException: false },
    buildings,
  };
}

export function ingestSite(devices: number): SiteConfig {
  return parseSiteConfig(ingestSiteRaw(devices), '<bench ingest estate>');
}

export function publisherDevices(site: SiteConfig): PublisherDevice[] {
  return site.devices.map((d) => ({ topic: d.mqtt!.telemetryTopic, metrics: d.kind === 'tank' ? TANK_METRICS : METER_METRICS }));
}
