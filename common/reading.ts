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
