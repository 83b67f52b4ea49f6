import type { DeviceKind } from '../../common/reading.ts';

/**
 * Engineering units of MQTT metrics. MQTT devices send bare numbers; the unit follows from the
 * metric name's suffix (`battery_pct`, `level_mm`), with a per-kind table for names that carry none.
 */
const BY_SUFFIX: [suffix: string, engUnit: string][] = [
  ['_pct', '%'],
  ['_mm', 'mm'],
  ['_m', 'm'],
  ['_c', '°C'],
  ['_v', 'V'],
  ['_a', 'A'],
  ['_w', 'W'],
  ['_kw', 'kW'],
  ['_kwh', 'kWh'],
  ['_m3', 'm3'],
  ['_m3h', 'm3/h'],
  ['_dbm', 'dBm'],
  ['_s', 's'],
];

const BY_KIND: Partial<Record<DeviceKind, Record<string, string>>> = {
  tank: { level: 'mm', temperature: '°C' },
  'meter-electric': { voltage: 'V', current: 'A', power: 'W', energy: 'kWh' },
  'meter-water': { volume: 'm3', flow: 'm3/h' },
  'meter-gas': { volume: 'm3' },
};

export function mqttEngUnit(kind: DeviceKind, metric: string): string | undefined {
  const named = BY_KIND[kind]?.[metric];
  if (named) return named;
  for (const [suffix, engUnit] of BY_SUFFIX) if (metric.endsWith(suffix)) return engUnit;
  return undefined;
}
