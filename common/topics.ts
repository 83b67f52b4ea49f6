/**
 * MQTT topic names (docs/devices.md). Device topics are what devices publish; upstream topics are
 * what a gateway publishes to the server.
 */
export const DEVICE_TOPIC_ROOT = 'site';
export const UPSTREAM_TOPIC_ROOT = 'fm/v1';

export type DeviceChannel = 'telemetry' | 'event';

export function deviceTopic(building: string, device: string, channel: DeviceChannel): string {
  return `${DEVICE_TOPIC_ROOT}/${building}/${device}/${channel}`;
}

/** Subscriptions that cover every device topic of docs/devices.md. */
export const DEVICE_SUBSCRIPTIONS = [`${DEVICE_TOPIC_ROOT}/+/+/telemetry`, `${DEVICE_TOPIC_ROOT}/+/+/event`];

export interface DeviceTopic {
  building: string;
  device: string;
  channel: DeviceChannel;
}

/** Parses `site/{building}/{device}/{telemetry|event}`; undefined for any other topic. */
export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== DEVICE_TOPIC_ROOT) return undefined;
  const [, building, device, channel] = parts as [string, string, string, string];
  if (!building || !device) return undefined;
  if (channel !== 'telemetry' && channel !== 'event') return undefined;
  return { building, device, channel };
}

export type UpstreamChannel = 'state' | 'event';

export function upstreamTopic(building: string, device: string, channel: UpstreamChannel): string {
  return `${UPSTREAM_TOPIC_ROOT}/${building}/${device}/${channel}`;
}

export function gatewayStatusTopic(gatewayId: string): string {
  return `${UPSTREAM_TOPIC_ROOT}/gateway/${gatewayId}/status`;
}

export const UPSTREAM_SUBSCRIPTIONS = [
  `${UPSTREAM_TOPIC_ROOT}/+/+/state`,
  `${UPSTREAM_TOPIC_ROOT}/+/+/event`,
  `${UPSTREAM_TOPIC_ROOT}/gateway/+/status`,
];

export type UpstreamTopic =
  | { type: 'state' | 'event'; building: string; device: string }
  | { type: 'gateway-status'; gatewayId: string };

export function parseUpstreamTopic(topic: string): UpstreamTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== UPSTREAM_TOPIC_ROOT) return undefined;
  const [, , a, b, c] = parts as [string, string, string, string, string];
  if (a === 'gateway' && c === 'status') return { type: 'gateway-status', gatewayId: b };
  if (c === 'state' || c === 'event') return { type: c, building: a, device: b };
  return undefined;
}

/** Payload of `fm/v1/{building}/{device}/state` (retained). */
export interface UpstreamState {
  ts: number;
  gateway: string;
  kind: string;
  unit?: string;
  /** Latest value of each metric with its quality and timestamp. */
  metrics: Record<string, { value: number | null; quality: 'good' | 'uncertain' | 'bad'; ts: number; engUnit?: string }>;
}

/** Payload of `fm/v1/{building}/{device}/event`. */
export interface UpstreamEvent {
  ts: number;
  gateway: string;
  kind: string;
  unit?: string;
  event: string;
  attrs: Record<string, string | number | boolean>;
}

/**
 * How much disk the gateway's reading store and outbox take against their budget (the `storage`
 * section of the gateway status, docs/upstream.md#gateway-status-and-last-will).
 */
export interface GatewayStorageStatus {
  /** When it was measured. */
  ts: number;
  /** Store and outbox together. */
  budgetBytes: number;
  usedBytes: number;
  /** usedBytes / budgetBytes. */
  usedRatio: number;
  /** Growth of usedBytes, from the samples of the last day; null until the second sample. */
  growthBytesPerDay: number | null;
  /** At that growth; null when not growing. */
  daysUntilFull: number | null;
  store: { usedBytes: number; budgetBytes: number };
  outbox: { usedBytes: number; budgetBytes: number };
}

/** A field-bus connection of a gateway (a Modbus TCP converter, a serial bus, a DL/T 645 line) as its status reports it. */
export interface ConnectionStatus {
  /** The connection id of the site file. */
  id: string;
  /** `modbus`, `dlt645`, … */
  protocol: string;
  /** `down`: the link is not open, or no device on it answers. */
  state: 'up' | 'down';
  /** When it last changed state (epoch ms, the gateway's clock). */
  since: number;
  /** Ids of the devices on it. */
  devices: string[];
}

/**
 * Optional sections of the gateway status, each about the gateway itself or its links, published
 * when they change and periodically. A consumer ignores sections it does not know.
 */
export interface GatewayStatusSections {
  connections: ConnectionStatus[];
  storage: GatewayStorageStatus;
}

export const GATEWAY_STATUS_SECTIONS = ['connections', 'storage'] as const satisfies readonly (keyof GatewayStatusSections)[];

/** Payload of the gateway status topic (retained); the last will carries `online: false`. */
export interface GatewayStatus extends Partial<GatewayStatusSections> {
  gateway: string;
  online: boolean;
  /** When the message was composed (for the last will: when the connection it belongs to was attempted). */
  ts: number;
  /**
   * When the gateway's upstream connection that this message belongs to was attempted; the same in
   * every status of that connection and in its last will, and later for each new attempt. An
   * `online: false` with a `since` older than the known status's is a late will, dropped.
   */
  since?: number;
}
