import { DEVICE_EVENTS, type DeviceEvent, type DeviceKind, type Reading } from '../../common/reading.ts';
import type { MqttMapping } from '../../common/protocols/mqtt.ts';
import type { DeviceConfig } from '../../common/site/types.ts';
import type { DeviceChannel } from '../../common/topics.ts';
import { mqttEngUnit } from './eng-units.ts';

/** Readings and events decoded from one device message. */
export interface DeviceMessage {
  readings: Reading[];
  events: DeviceEvent[];
}

/** Why a message was refused; the label of fm_mqtt_malformed_total. */
export type MalformedReason = 'json' | 'shape' | 'metric' | 'event' | 'attr' | 'ts' | 'mapping';

export interface PayloadError {
  /** Names the topic, what is wrong and what to send instead. */
  error: string;
  reason: MalformedReason;
}

export type PayloadOutcome = DeviceMessage | PayloadError;

export interface IncomingDeviceMessage {
  topic: string;
  payload: Uint8Array | string;
  device: DeviceConfig;
  /** `any` when the device sends telemetry and events on one topic: a message with an event name is an event. */
  channel: DeviceChannel | 'any';
  /** Epoch ms the gateway received the message; the timestamp when the payload has none. */
  receivedAt: number;
}

/** 2000-01-01T00:00:00Z: anything earlier is not an epoch-ms timestamp from a device in service. */
const EARLIEST_TS = 946_684_800_000;
const MAX_FUTURE_MS = 24 * 3600 * 1000;
const METRIC_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export function isPayloadError(outcome: PayloadOutcome): outcome is PayloadError {
  return 'error' in outcome;
}

/**
 * Decodes one MQTT message of a device (docs/devices.md shapes, or the device's `mqtt.mapping`).
 * Pure: never throws; a message that cannot be used yields a PayloadError.
 */
export function parseDeviceMessage(msg: IncomingDeviceMessage): PayloadOutcome {
  const { topic, device } = msg;
  const fail: Fail = (reason, what) => ({ error: `${topic}: ${what}`, reason });

  const p = msg.payload;
  const text = typeof p === 'string' ? p : Buffer.isBuffer(p) ? p.toString('utf8') : Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    if (text.trim() === '') return fail('json', 'empty payload; send a JSON object');
    return fail('json', `payload is not valid JSON (${(err as Error).message}); send a JSON object such as ${example(msg)}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail('shape', `payload must be a JSON object, got ${describe(body)}; send ${example(msg)}`);
  }
  const obj = body as Record<string, unknown>;
  const mapping = device.mqtt?.mapping;

  const tsPath = mapping?.ts ?? 'ts';
  const ts = timestamp(valueAt(obj, tsPath), tsPath, msg.receivedAt);
  if (typeof ts === 'string') return fail('ts', ts);

  const eventPath = mapping?.event ?? 'event';
  let channel = msg.channel;
  if (channel === 'any') channel = typeof valueAt(obj, eventPath) === 'string' ? 'event' : 'telemetry';

  if (channel === 'telemetry') {
    const readings = telemetry(obj, device, mapping, topLevel(tsPath), ts, fail);
    return 'error' in readings ? readings : { readings, events: [] };
  }
  const reserved = new Set([topLevel(tsPath), topLevel(eventPath)]);
  const event = deviceEvent(obj, device, mapping, eventPath, reserved, ts, fail);
  return 'error' in event ? event : { readings: [], events: [event] };
}

type Fail = (reason: MalformedReason, what: string) => PayloadError;

function telemetry(
  obj: Record<string, unknown>,
  device: DeviceConfig,
  mapping: MqttMapping | undefined,
  tsKey: string,
  ts: number,
  fail: Fail,
): Reading[] | PayloadError {
  if (!mapping?.metrics) return topLevelTelemetry(obj, device, tsKey, ts, fail);
  const values: [metric: string, value: unknown, from: string][] = [];
  for (const [metric, path] of Object.entries(mapping.metrics)) {
    const v = valueAt(obj, path);
    if (v !== undefined) values.push([metric, v, path]);
  }
  if (values.length === 0) {
    const wanted = Object.entries(mapping.metrics).map(([m, p]) => `${m} at '${p}'`).join(', ');
    return fail('mapping', `none of the mapped metrics is in the payload (${wanted}); fix mqtt.mapping.metrics of device '${device.id}' in the site file or the device's payload`);
  }

  const readings: Reading[] = [];
  for (const [metric, raw, from] of values) {
    const r = reading(device, metric, raw, from, true, ts, fail);
    if ('error' in r) return r;
    readings.push(r);
  }
  return readings;
}

/** The default shape (docs/devices.md): every top-level key but the timestamp is a metric. The hot path of MQTT intake. */
function topLevelTelemetry(obj: Record<string, unknown>, device: DeviceConfig, tsKey: string, ts: number, fail: Fail): Reading[] | PayloadError {
  const keys = Object.keys(obj);
  const readings: Reading[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key === tsKey) continue;
    const r = reading(device, key, obj[key], key, false, ts, fail);
    if ('error' in r) return r;
    readings.push(r);
  }
  if (readings.length === 0) return fail('shape', `telemetry has no metrics; send an object of metric to number, e.g. {"ts":1732350000000,"battery_pct":98}`);
  return readings;
}

function reading(device: DeviceConfig, metric: string, raw: unknown, from: string, mapped: boolean, ts: number, fail: Fail): Reading | PayloadError {
  const engUnit = metricEngUnit(device.kind, metric);
  if (engUnit === INVALID) return fail('metric', `metric name '${metric}' is not valid; use letters, digits and _ (e.g. level_pct)`);
  const value = numeric(raw, mapped);
  if (value === undefined) {
    const hint = typeof raw === 'object' && raw !== null ? `; map nested values with mqtt.mapping.metrics of device '${device.id}' in the site file` : '';
    return fail('metric', `metric '${metric}'${from !== metric ? ` (at '${from}')` : ''} must be a number or boolean, got ${describe(raw)}${hint}`);
  }
  const r: Reading = { building: device.building, device: device.id, kind: device.kind, metric, value, ts, quality: 'good' };
  if (device.unit !== undefined) r.unit = device.unit;
  if (engUnit !== undefined) r.engUnit = engUnit;
  return r;
}

const INVALID = Symbol('invalid metric name');
/** Per device kind: metric name → engineering unit (or INVALID), for the names seen so far. */
const metricInfo = new Map<DeviceKind, Map<string, string | undefined | typeof INVALID>>();
/** Devices choose their metric names: a bound keeps a misbehaving one from growing the cache. */
const METRIC_INFO_MAX = 10_000;

function metricEngUnit(kind: DeviceKind, metric: string): string | undefined | typeof INVALID {
  let names = metricInfo.get(kind);
  if (!names) metricInfo.set(kind, (names = new Map()));
  let info = names.get(metric);
  if (info === undefined && !names.has(metric)) {
    info = METRIC_NAME.test(metric) ? mqttEngUnit(kind, metric) : INVALID;
    if (names.size < METRIC_INFO_MAX) names.set(metric, info);
  }
  return info;
}

function deviceEvent(
  obj: Record<string, unknown>,
  device: DeviceConfig,
  mapping: MqttMapping | undefined,
  eventPath: string,
  reserved: Set<string>,
  ts: number,
  fail: Fail,
): DeviceEvent | PayloadError {
  const allowed = DEVICE_EVENTS[device.kind];
  if (!allowed) return fail('event', `a ${device.kind} device sends no events; publish its values to the telemetry topic`);
  const name = valueAt(obj, eventPath);
  if (typeof name !== 'string' || name === '') {
    return fail('event', `event name missing at '${eventPath}' (got ${describe(name)}); send e.g. {"event":"${allowed[0]}"}`);
  }
  if (!allowed.includes(name)) return fail('event', `'${name}' is not an event of a ${device.kind}; send one of ${allowed.join(', ')}`);

  const attrs: DeviceEvent['attrs'] = {};
  const entries: [string, unknown][] = mapping?.attrs
    ? Object.entries(mapping.attrs).map(([attr, path]) => [attr, valueAt(obj, path)])
    : Object.entries(obj).filter(([key]) => !reserved.has(key));
  for (const [attr, v] of entries) {
    if (v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) {
      return fail('attr', `event attribute '${attr}' must be a string, number or boolean, got ${describe(v)}`);
    }
    attrs[attr] = v;
  }
  const event: DeviceEvent = { building: device.building, device: device.id, kind: device.kind, event: name, ts, attrs };
  if (device.unit !== undefined) event.unit = device.unit;
  return event;
}

/** Epoch ms, or a message saying what is wrong with the timestamp. */
function timestamp(raw: unknown, path: string, receivedAt: number): number | string {
  if (raw === undefined) return receivedAt;
  let ts: number;
  if (typeof raw === 'number' && Number.isFinite(raw)) ts = Math.round(raw);
  else if (typeof raw === 'string' && ISO_WITH_ZONE.test(raw)) ts = Date.parse(raw);
  else return `'${path}' must be epoch milliseconds (a number) or an ISO 8601 time with a zone, got ${describe(raw)}`;
  if (Number.isNaN(ts)) return `'${path}' ${JSON.stringify(raw)} is not a valid time`;
  if (ts < EARLIEST_TS) {
    const guess = ts >= EARLIEST_TS / 1000 && ts < (receivedAt + MAX_FUTURE_MS) / 1000 ? ' (it looks like epoch seconds)' : '';
    return `'${path}' ${raw} is not epoch milliseconds${guess}; send milliseconds, e.g. ${receivedAt}`;
  }
  if (ts > receivedAt + MAX_FUTURE_MS) {
    const guess = ts > 1e14 ? ' (it looks like micro- or nanoseconds)' : ' (more than a day in the future: check the device clock)';
    return `'${path}' ${raw} is not epoch milliseconds${guess}; send milliseconds, e.g. ${receivedAt}`;
  }
  return ts;
}

function numeric(raw: unknown, allowNumericString: boolean): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  // Mapped vendor payloads often quote their numbers.
  if (allowNumericString && typeof raw === 'string' && raw.trim() !== '') {
    const n = Number(raw);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Value at a dotted path (`data.values.0.level`); undefined when any step is missing. */
export function valueAt(obj: unknown, path: string): unknown {
  if (!path.includes('.') && typeof obj === 'object' && obj !== null && !Array.isArray(obj)) {
    return Object.hasOwn(obj, path) ? (obj as Record<string, unknown>)[path] : undefined;
  }
  let cur: unknown = obj;
  for (const step of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(step)) return undefined;
      cur = cur[Number(step)];
    } else {
      if (!Object.hasOwn(cur, step)) return undefined;
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  return cur;
}

function topLevel(path: string): string {
  const dot = path.indexOf('.');
  return dot < 0 ? path : path.slice(0, dot);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return `${typeof v} ${s.length > 40 ? `${s.slice(0, 40)}…` : s}`;
}

function example(msg: IncomingDeviceMessage): string {
  if (msg.channel === 'event') return `{"ts":1732350000000,"event":"${DEVICE_EVENTS[msg.device.kind]?.[0] ?? 'alarm'}"}`;
  return '{"ts":1732350000000,"battery_pct":98}';
}
