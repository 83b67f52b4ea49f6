/** Device kinds known to the estate model. */
export const DEVICE_KINDS = [
  'tank',
  'meter-water',
  'meter-electric',
  'meter-gas',
  'fire-panel',
  'door',
  'emergency-button',
] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** OPC-style quality of one reading. `bad`: the value could not be read (timeout, exception). */
export type Quality = 'good' | 'uncertain' | 'bad';

/** One normalised sample of one metric of one device. Timestamps are UTC epoch milliseconds. */
export interface Reading {
  building: string;
  device: string;
  kind: DeviceKind;
  /** The unit (flat, shop) a meter belongs to. */
  unit?: string;
  metric: string;
  /** null when quality is `bad`: there is no value to report. */
  value: number | null;
  /** Engineering unit, e.g. `mm`, `kWh`, `m3`. */
  engUnit?: string;
  ts: number;
  quality: Quality;
}

/** A discrete event from a device (fire panel alarm, door forced, button pressed). */
export interface DeviceEvent {
  building: string;
  device: string;
  kind: DeviceKind;
  unit?: string;
  event: string;
  ts: number;
  /** Event details such as `zone` or `card`. */
  attrs: Record<string, string | number | boolean>;
}

/** Events each MQTT device kind may send (docs/devices.md). */
export const DEVICE_EVENTS: Partial<Record<DeviceKind, readonly string[]>> = {
  'fire-panel': ['alarm', 'fault', 'restore'],
  door: ['open', 'closed', 'forced', 'held_open', 'card_granted', 'card_denied'],
  'emergency-button': ['pressed', 'reset'],
};

/**
 * Metrics each device kind may report when its site entry declares none (an MQTT device without
 * a metrics mapping): what the built-in profiles and simulators send (docs/devices.md), and the
 * common extras of battery and radio devices. The server drops any other metric name.
 */
export const DEVICE_METRICS: Record<DeviceKind, readonly string[]> = {
  tank: ['level_mm', 'level_m', 'level_pct', 'pump_running', 'float_low', 'float_high', 'temperature_c', 'battery_pct', 'rssi_dbm'],
  'meter-water': ['volume_m3', 'flow_m3h', 'battery_pct', 'rssi_dbm'],
  'meter-electric': ['voltage_v', 'current_a', 'power_w', 'power_kw', 'energy_kwh', 'rssi_dbm'],
  'meter-gas': ['volume_m3', 'flow_m3h', 'battery_pct', 'rssi_dbm'],
  'fire-panel': ['zones_alarm', 'zones_fault', 'battery_pct', 'mains_ok'],
  door: ['open', 'battery_pct', 'rssi_dbm'],
  'emergency-button': ['battery_pct', 'pressed', 'rssi_dbm'],
};

/** The metrics a device of the site may report: its declared list, else its kind's. */
export function reportableMetrics(device: { kind: DeviceKind; metrics?: readonly string[] }): readonly string[] {
  return device.metrics ?? DEVICE_METRICS[device.kind];
}
