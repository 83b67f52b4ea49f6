import { DEVICE_KINDS, type DeviceKind } from '../../common/reading.ts';
import type { GatewayStatus, UpstreamEvent, UpstreamState } from '../../common/topics.ts';
import { parseStatusSections } from './gateway-status-sections.ts';

export type MalformedUpstream = { malformed: string };

/**
 * Why a well-formed upstream message, or part of it, is refused (docs/broker.md#what-the-server-accepts):
 * `too-large` over MAX_UPSTREAM_MESSAGE_BYTES, `too-many-metrics` over MAX_UPSTREAM_METRICS,
 * `future` a time further ahead of the server's clock than BUS_MAX_AHEAD_MS, `unknown-metric`
 * a metric the device does not report, `gateway` a payload naming another gateway than the one
 * serving the building, `unknown-gateway` the status of a gateway the site file does not name,
 * `kind` a device kind other than the site file's, `unknown-event` an event the kind does not send.
 */
export type BusRefusal = 'too-large' | 'too-many-metrics' | 'future' | 'unknown-metric' | 'gateway' | 'unknown-gateway' | 'kind' | 'unknown-event';

/** A state or event message is one device's: far below this. */
export const MAX_UPSTREAM_MESSAGE_BYTES = 64 * 1024;
/** More metrics than any device profile has. */
export const MAX_UPSTREAM_METRICS = 256;

const QUALITIES = new Set(['good', 'uncertain', 'bad']);
const KINDS = new Set<string>(DEVICE_KINDS);
// Epoch ms between 2000-01-01 and 2100-01-01: catches seconds, microseconds and nanoseconds.
const MIN_TS = 946_684_800_000;
const MAX_TS = 4_102_444_800_000;

export function isMalformed(v: unknown): v is MalformedUpstream {
  return typeof v === 'object' && v !== null && 'malformed' in v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function epochMs(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= MIN_TS && v < MAX_TS;
}

function json(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

function common(body: unknown): MalformedUpstream | { ts: number; gateway: string; kind: DeviceKind; unit?: string; body: Record<string, unknown> } {
  if (!isObject(body)) return { malformed: 'payload is not a JSON object' };
  if (!epochMs(body.ts)) return { malformed: `ts must be epoch milliseconds, got ${JSON.stringify(body.ts)}` };
  if (typeof body.gateway !== 'string' || body.gateway === '') return { malformed: 'gateway must be a non-empty string' };
  if (typeof body.kind !== 'string' || !KINDS.has(body.kind)) return { malformed: `kind must be one of ${DEVICE_KINDS.join(', ')}, got ${JSON.stringify(body.kind)}` };
  if (body.unit !== undefined && typeof body.unit !== 'string') return { malformed: 'unit must be a string' };
  return { ts: body.ts, gateway: body.gateway, kind: body.kind as DeviceKind, ...(body.unit !== undefined ? { unit: body.unit as string } : {}), body };
}

/** `fm/v1/{building}/{device}/state`: the latest value of every metric with quality and time. */
export function parseUpstreamState(payload: Buffer): (UpstreamState & { kind: DeviceKind; tooManyMetrics?: number }) | MalformedUpstream {
  const c = common(json(payload));
  if (isMalformed(c)) return c;
  const metrics = c.body.metrics;
  if (!isObject(metrics)) return { malformed: 'metrics must be an object' };
  const out: UpstreamState['metrics'] = {};
  const entries = Object.entries(metrics);
  if (entries.length > MAX_UPSTREAM_METRICS) return { ts: c.ts, gateway: c.gateway, kind: c.kind, metrics: {}, tooManyMetrics: entries.length };
  for (const [name, m] of entries) {
    if (!isObject(m)) return { malformed: `metrics.${name} must be an object` };
    const { value, quality, ts, engUnit } = m;
    if (!(value === null || (typeof value === 'number' && Number.isFinite(value)))) return { malformed: `metrics.${name}.value must be a finite number or null` };
    if (typeof quality !== 'string' || !QUALITIES.has(quality)) return { malformed: `metrics.${name}.quality must be good, uncertain or bad` };
    if (!epochMs(ts)) return { malformed: `metrics.${name}.ts must be epoch milliseconds` };
    if (engUnit !== undefined && typeof engUnit !== 'string') return { malformed: `metrics.${name}.engUnit must be a string` };
    out[name] = { value, quality: quality as 'good' | 'uncertain' | 'bad', ts, ...(engUnit !== undefined ? { engUnit } : {}) };
  }
  return { ts: c.ts, gateway: c.gateway, kind: c.kind, ...(c.unit !== undefined ? { unit: c.unit } : {}), metrics: out };
}

/** `fm/v1/{building}/{device}/event`. */
export function parseUpstreamEvent(payload: Buffer): (UpstreamEvent & { kind: DeviceKind }) | MalformedUpstream {
  const c = common(json(payload));
  if (isMalformed(c)) return c;
  const { event, attrs } = c.body;
  if (typeof event !== 'string' || event === '') return { malformed: 'event must be a non-empty string' };
  if (attrs !== undefined && !isObject(attrs)) return { malformed: 'attrs must be an object' };
  const outAttrs: UpstreamEvent['attrs'] = {};
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) return { malformed: `attrs.${k} must be a string, number or boolean` };
    outAttrs[k] = v;
  }
  return { ts: c.ts, gateway: c.gateway, kind: c.kind, ...(c.unit !== undefined ? { unit: c.unit } : {}), event, attrs: outAttrs };
}

/** `fm/v1/gateway/{id}/status`; the id in the payload must match the topic's. Known sections are validated, others ignored. */
export function parseGatewayStatus(payload: Buffer, topicGatewayId: string): GatewayStatus | MalformedUpstream {
  const body = json(payload);
  if (!isObject(body)) return { malformed: 'payload is not a JSON object' };
  if (body.gateway !== topicGatewayId) return { malformed: `gateway ${JSON.stringify(body.gateway)} does not match the topic's ${topicGatewayId}` };
  if (typeof body.online !== 'boolean') return { malformed: 'online must be true or false' };
  if (!epochMs(body.ts)) return { malformed: `ts must be epoch milliseconds, got ${JSON.stringify(body.ts)}` };
  if (body.since !== undefined && !epochMs(body.since)) return { malformed: `since must be epoch milliseconds, got ${JSON.stringify(body.since)}` };
  const sections = parseStatusSections(body);
  if (isMalformed(sections)) return sections;
  return { gateway: topicGatewayId, online: body.online, ts: body.ts, ...(body.since !== undefined ? { since: body.since } : {}), ...sections };
}

/** What the server knows of the device and the gateway a message is about, and its clock. */
export interface UpstreamScreen {
  now: number;
  maxAheadMs: number;
  /** The device's kind in the site file. */
  kind?: DeviceKind;
  /** The metrics the device reports; undefined: any. */
  metrics?: ReadonlySet<string>;
  /** The gateway that serves the building; undefined: not checked. */
  gateway?: string;
  /** The events the device's kind sends; undefined: not checked. */
  events?: readonly string[];
}

export interface Refusal {
  reason: BusRefusal;
  detail: string;
}

/** A message time further ahead of the server's clock than allowed, or undefined. */
export function aheadOfClock(ts: number, screen: Pick<UpstreamScreen, 'now' | 'maxAheadMs'>): Refusal | undefined {
  if (ts <= screen.now + screen.maxAheadMs) return undefined;
  return { reason: 'future', detail: `ts ${new Date(ts).toISOString()} is ${Math.round((ts - screen.now) / 1000)} s ahead of the server's clock` };
}

/** Whether a state or event message as a whole may be used. */
export function screenMessage(m: { ts: number; gateway: string; kind: DeviceKind; event?: string; tooManyMetrics?: number }, screen: UpstreamScreen): Refusal | undefined {
  if (m.tooManyMetrics !== undefined) return { reason: 'too-many-metrics', detail: `${m.tooManyMetrics} metrics, at most ${MAX_UPSTREAM_METRICS}` };
  if (screen.gateway !== undefined && m.gateway !== screen.gateway) return { reason: 'gateway', detail: `payload names gateway ${JSON.stringify(m.gateway)}, the building is served by ${screen.gateway}` };
  if (screen.kind !== undefined && m.kind !== screen.kind) return { reason: 'kind', detail: `kind ${m.kind}, the site file says ${screen.kind}` };
  const ahead = aheadOfClock(m.ts, screen);
  if (ahead) return ahead;
  if (m.event !== undefined && screen.events !== undefined && !screen.events.includes(m.event)) return { reason: 'unknown-event', detail: `event ${JSON.stringify(m.event)}, a ${m.kind} sends ${screen.events.join(', ')}` };
  return undefined;
}

/** The metrics of a state the server takes: those the device reports, with times not ahead of its clock. */
export function screenMetrics(metrics: UpstreamState['metrics'], screen: UpstreamScreen): { kept: UpstreamState['metrics']; dropped: Refusal[] } {
  const kept: UpstreamState['metrics'] = {};
  const unknown: string[] = [];
  const future: string[] = [];
  for (const [name, m] of Object.entries(metrics)) {
    if (screen.metrics !== undefined && !screen.metrics.has(name)) unknown.push(name);
    else if (m.ts > screen.now + screen.maxAheadMs) future.push(name);
    else kept[name] = m;
  }
  const dropped: Refusal[] = [];
  if (unknown.length > 0) dropped.push({ reason: 'unknown-metric', detail: `metrics the device does not report: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}` });
  if (future.length > 0) dropped.push({ reason: 'future', detail: `metrics timed ahead of the server's clock: ${future.slice(0, 5).join(', ')}` });
  return { kept, dropped };
}
