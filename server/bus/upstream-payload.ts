import { DEVICE_KINDS, type DeviceKind } from '../../common/reading.ts';
import type { GatewayStatus, UpstreamEvent, UpstreamState } from '../../common/topics.ts';
import { parseStatusSections } from './gateway-status-sections.ts';

export type MalformedUpstream = { malformed: string };

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
export function parseUpstreamState(payload: Buffer): (UpstreamState & { kind: DeviceKind }) | MalformedUpstream {
  const c = common(json(payload));
  if (isMalformed(c)) return c;
  const metrics = c.body.metrics;
  if (!isObject(metrics)) return { malformed: 'metrics must be an object' };
  const out: UpstreamState['metrics'] = {};
  for (const [name, m] of Object.entries(metrics)) {
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
