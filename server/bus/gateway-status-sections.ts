import type { ConnectionStatus, GatewayStatusSections, GatewayStorageStatus } from '../../common/topics.ts';
import type { MalformedUpstream } from './upstream-payload.ts';

const MIN_TS = 946_684_800_000;
const MAX_TS = 4_102_444_800_000;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

type SectionParser<K extends keyof GatewayStatusSections> = (value: unknown) => GatewayStatusSections[K] | MalformedUpstream;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const connections: SectionParser<'connections'> = (value) => {
  if (!Array.isArray(value)) return { malformed: 'connections must be an array' };
  const out: ConnectionStatus[] = [];
  for (const [i, c] of value.entries()) {
    const at = `connections[${i}]`;
    if (!isObject(c)) return { malformed: `${at} must be an object` };
    if (typeof c.id !== 'string' || !ID.test(c.id)) return { malformed: `${at}.id must be a connection id` };
    if (typeof c.protocol !== 'string' || c.protocol === '') return { malformed: `${at}.protocol must be a non-empty string` };
    if (c.state !== 'up' && c.state !== 'down') return { malformed: `${at}.state must be up or down` };
    if (typeof c.since !== 'number' || !Number.isInteger(c.since) || c.since < MIN_TS || c.since >= MAX_TS) return { malformed: `${at}.since must be epoch milliseconds` };
    if (!Array.isArray(c.devices) || !c.devices.every((d) => typeof d === 'string' && ID.test(d))) return { malformed: `${at}.devices must be an array of device ids` };
    out.push({ id: c.id, protocol: c.protocol, state: c.state, since: c.since, devices: c.devices as string[] });
  }
  return out;
};

const bytes = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const orNull = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isFinite(v));

const storage: SectionParser<'storage'> = (value) => {
  if (!isObject(value)) return { malformed: 'storage must be an object' };
  const s = value;
  if (typeof s.ts !== 'number' || !Number.isInteger(s.ts) || s.ts < MIN_TS || s.ts >= MAX_TS) return { malformed: 'storage.ts must be epoch milliseconds' };
  if (!bytes(s.budgetBytes) || s.budgetBytes === 0) return { malformed: 'storage.budgetBytes must be a positive whole number of bytes' };
  if (!bytes(s.usedBytes)) return { malformed: 'storage.usedBytes must be a whole number of bytes' };
  if (typeof s.usedRatio !== 'number' || !Number.isFinite(s.usedRatio) || s.usedRatio < 0) return { malformed: 'storage.usedRatio must be a number of at least 0' };
  if (!orNull(s.growthBytesPerDay)) return { malformed: 'storage.growthBytesPerDay must be a number or null' };
  if (!orNull(s.daysUntilFull)) return { malformed: 'storage.daysUntilFull must be a number or null' };
  for (const part of ['store', 'outbox'] as const) {
    const p = s[part];
    if (!isObject(p) || !bytes(p.usedBytes) || !bytes(p.budgetBytes)) return { malformed: `storage.${part} must be { usedBytes, budgetBytes } in whole bytes` };
  }
  const part = (p: unknown) => ({ usedBytes: (p as { usedBytes: number }).usedBytes, budgetBytes: (p as { budgetBytes: number }).budgetBytes });
  const out: GatewayStorageStatus = {
    ts: s.ts,
    budgetBytes: s.budgetBytes,
    usedBytes: s.usedBytes,
    usedRatio: s.usedRatio,
    growthBytesPerDay: s.growthBytesPerDay,
    daysUntilFull: s.daysUntilFull,
    store: part(s.store),
    outbox: part(s.outbox),
  };
  return out;
};

/** A parser per section of the gateway status (docs/upstream.md); a section not listed here is ignored. */
export const GATEWAY_STATUS_SECTION_PARSERS: { readonly [K in keyof GatewayStatusSections]: SectionParser<K> } = { connections, storage };

/** The known sections of a status payload, each validated; the first malformed one refuses the message. */
export function parseStatusSections(body: Record<string, unknown>): Partial<GatewayStatusSections> | MalformedUpstream {
  const out: Partial<Record<keyof GatewayStatusSections, unknown>> = {};
  for (const [name, parse] of Object.entries(GATEWAY_STATUS_SECTION_PARSERS) as [keyof GatewayStatusSections, (v: unknown) => unknown][]) {
    if (body[name] === undefined) continue;
    const section = parse(body[name]);
    if (isObject(section) && 'malformed' in section) return section as MalformedUpstream;
    out[name] = section;
  }
  return out as Partial<GatewayStatusSections>;
}
