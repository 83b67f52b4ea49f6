import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import type { EnvironmentVariables } from '../env.ts';
import { PROTOCOLS, PROTOCOL_NAMES, protocolNamesText } from '../protocols/index.ts';
import type { SiteProblem } from '../protocols/protocol.ts';
import type { DeviceKind } from '../reading.ts';
import { readReporting, type RawReporting } from './reporting.ts';
import { siteSchema } from './schema.ts';
import type { BuildingConfig, DeviceConfig, GatewayServing, ProtocolName, ProtocolSections, SiteConfig, WhenOutboxFull } from './types.ts';

export const DEMO_SITE_FILE = fileURLToPath(new URL('../../site/demo-estate.yaml', import.meta.url));

/** A site file that cannot be used. `problems` each name the path inside the file and the reason. */
export class SiteConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: SiteProblem[],
  ) {
    super(`${file}: invalid site file\n${problems.map((p) => `  ${p.path || '/'}: ${p.reason}`).join('\n')}`);
    this.name = 'SiteConfigError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(siteSchema);

/**
 * Reads, validates and normalises a site file; `variables` are what its `${NAME}` refer to (the
 * environment). Throws SiteConfigError naming file, path and reason.
 */
export function loadSiteFile(file: string = DEMO_SITE_FILE, variables: EnvironmentVariables = {}): SiteConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SiteConfigError(file, [{ path: '', reason: `cannot read file: ${(err as Error).message}` }]);
  }
  const missing: { path: string; reason: string }[] = [];
  text = interpolateEnvironment(text, variables, (name, line) =>
    missing.push({ path: `line ${line}`, reason: `environment variable ${name} is not set (write \${${name}:-default} for a default)` }),
  );
  if (missing.length > 0) throw new SiteConfigError(file, missing);
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new SiteConfigError(
      file,
      doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, reason: `YAML: ${e.message.split('\n')[0]}` })),
    );
  }
  return parseSiteConfig(doc.toJS(), file);
}

/**
 * Replaces `${NAME}` and `${NAME:-default}` with the environment's values, so that one site file
 * serves several deployments (hosts, credentials). `$${` stands for a literal `${`.
 */
export function interpolateEnvironment(
  text: string,
  env: EnvironmentVariables,
  onMissing: (name: string, line: number) => void,
): string {
  return text.replace(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (match, name: string, fallback: string | undefined, offset: number) => {
    if (match.startsWith('$$')) return match.slice(1);
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    onMissing(name, text.slice(0, offset).split('\n').length);
    return match;
  });
}

/** Validates and normalises an already parsed site description (used by tests and tools). */
export function parseSiteConfig(raw: unknown, file = '<inline>'): SiteConfig {
  if (!validate(raw)) throw new SiteConfigError(file, schemaProblems(validate.errors ?? []));
  return normalise(raw as unknown as RawSite, file);
}

function schemaProblems(errors: ErrorObject[]): SiteProblem[] {
  // oneOf failures repeat what the branch errors already say; keep them only when alone.
  const specific = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
  const chosen = specific.length > 0 ? specific : errors;
  const seen = new Set<string>();
  const out: SiteProblem[] = [];
  const isDevice = (e: ErrorObject) => /\/devices\/\d+$/.test(e.instancePath);
  for (const e of chosen) {
    let reason = e.message ?? 'invalid';
    if (e.keyword === 'additionalProperties') reason = `unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    if (e.keyword === 'enum') reason = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    if (e.keyword === 'required' && isDevice(e) && (PROTOCOL_NAMES as string[]).includes((e.params as { missingProperty: string }).missingProperty)) {
      reason = `a device needs exactly one of ${protocolNamesText()}`;
    }
    if (e.keyword === 'oneOf' && isDevice(e) && Array.isArray((e.params as { passingSchemas: unknown }).passingSchemas)) {
      reason = `a device has exactly one protocol block, this one has ${((e.params as { passingSchemas: number[] }).passingSchemas).map((i) => PROTOCOL_NAMES[i]).join(' and ')}`;
    }
    const key = `${e.instancePath}|${reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: e.instancePath, reason });
  }
  return out;
}

interface RawDevice {
  id: string;
  kind: DeviceKind;
  name?: string;
  unit?: string;
  params?: Record<string, number>;
  [protocol: string]: unknown;
}
interface RawSite {
  site: { id: string; name: string; timezone?: string; demo?: boolean };
  gateway?: {
    id?: string;
    buildings?: string[];
    pollIntervalMs?: number;
    outbox?: { maxBytes?: number; whenFull?: WhenOutboxFull };
    store?: { batchSize?: number; flushIntervalMs?: number; retention?: string; rollups?: { '1m'?: string; '1h'?: string }; maxBytes?: number };
  };
  gateways?: { id: string; buildings: string[] }[];
  reporting?: RawReporting;
  buildings: { id: string; name: string; type?: BuildingConfig['type']; units?: { id: string; floor?: number; area_m2?: number }[]; devices?: RawDevice[] }[];
  rules?: Record<string, unknown>;
  inspections?: unknown[];
  workOrders?: Record<string, unknown>;
}

function normalise(raw: RawSite, file: string): SiteConfig {
  const problems: SiteProblem[] = [];

  const timezone = raw.site.timezone ?? 'Asia/Shanghai';
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    problems.push({ path: '/site/timezone', reason: `unknown time zone '${timezone}'` });
  }

  const readers = new Map(PROTOCOL_NAMES.map((name) => [name, PROTOCOLS[name].read(raw as unknown as Record<string, unknown>, problems)]));
  const connectionIds = new Map<string, ProtocolName>();
  for (const [name, reader] of readers) {
    for (const c of reader.connections) {
      const other = connectionIds.get(c.id);
      if (other === name) problems.push({ path: c.path, reason: `duplicate connection id '${c.id}'` });
      else if (other) problems.push({ path: c.path, reason: `connection id '${c.id}' is already used by a ${PROTOCOLS[other].title} connection` });
      connectionIds.set(c.id, name);
    }
  }

  const buildingIds = new Set<string>();
  const deviceIds = new Set<string>();
  const buildings: BuildingConfig[] = raw.buildings.map((b, bi) => {
    if (buildingIds.has(b.id)) problems.push({ path: `/buildings/${bi}/id`, reason: `duplicate building id '${b.id}'` });
    buildingIds.add(b.id);
    const unitIds = new Set<string>();
    const units = (b.units ?? []).map((u, ui) => {
      if (unitIds.has(u.id)) problems.push({ path: `/buildings/${bi}/units/${ui}/id`, reason: `duplicate unit id '${u.id}'` });
      unitIds.add(u.id);
      return { ...u, building: b.id };
    });
    const devices: DeviceConfig[] = [];
    (b.devices ?? []).forEach((d, di) => {
      const at = `/buildings/${bi}/devices/${di}`;
      if (deviceIds.has(d.id)) problems.push({ path: `${at}/id`, reason: `duplicate device id '${d.id}'` });
      deviceIds.add(d.id);
      if (d.unit !== undefined && !unitIds.has(d.unit)) {
        problems.push({ path: `${at}/unit`, reason: `unit '${d.unit}' is not a unit of building '${b.id}'` });
      }
      // The schema lets exactly one protocol block through.
      const protocol = PROTOCOL_NAMES.find((name) => d[name] !== undefined)!;
      const before = problems.length;
      const read = readers.get(protocol)!.device(d[protocol], { id: d.id, building: b.id, kind: d.kind }, `${at}/${protocol}`, problems);
      if (!read) {
        if (problems.length === before) problems.push({ path: `${at}/${protocol}`, reason: `the ${PROTOCOLS[protocol].title} block cannot be used` });
        return;
      }
      const device: DeviceConfig = {
        id: d.id,
        building: b.id,
        kind: d.kind,
        name: d.name ?? d.id,
        params: d.params ?? {},
        protocol,
        address: read.address,
        [protocol]: read.block,
      };
      if (d.unit !== undefined) device.unit = d.unit;
      if (read.metrics) device.metrics = read.metrics;
      if (read.profile !== undefined) device.profile = read.profile;
      if (read.connection !== undefined) device.connection = read.connection;
      devices.push(device);
    });
    return { id: b.id, name: b.name, type: b.type ?? 'residential', units, devices };
  });

  const gatewayId = raw.gateway?.id ?? `${raw.site.id}-gateway`;
  const gateways = servingGateways(raw, gatewayId, buildings, problems);
  const sections = Object.assign({}, ...[...readers.values()].map((r) => r.sections)) as ProtocolSections;
  const profileMetrics = Object.fromEntries(Object.entries(sections.profiles ?? {}).map(([name, p]) => [name, p.points.map((pt) => pt.metric)]));
  const reporting = readReporting(raw.reporting, buildings.flatMap((b) => b.devices), profileMetrics, problems);

  if (problems.length > 0) throw new SiteConfigError(file, problems);

  return {
    file,
    site: { id: raw.site.id, name: raw.site.name, timezone, demo: raw.site.demo ?? false },
    gateway: {
      id: gatewayId,
      buildings: gateways[0]!.buildings,
      pollIntervalMs: raw.gateway?.pollIntervalMs ?? 1000,
      outbox: { maxBytes: raw.gateway?.outbox?.maxBytes ?? 256 * 1024 * 1024, whenFull: raw.gateway?.outbox?.whenFull ?? 'drop-oldest' },
      store: {
        batchSize: raw.gateway?.store?.batchSize ?? 5000,
        flushIntervalMs: raw.gateway?.store?.flushIntervalMs ?? 1000,
        retention: raw.gateway?.store?.retention ?? '30d',
        rollups: { '1m': raw.gateway?.store?.rollups?.['1m'] ?? '730d', '1h': raw.gateway?.store?.rollups?.['1h'] ?? 'INF' },
        maxBytes: raw.gateway?.store?.maxBytes ?? 32 * 1024 ** 3,
      },
    },
    gateways,
    ...sections,
    buildings,
    devices: buildings.flatMap((b) => b.devices),
    reporting,
    rules: raw.rules ?? {},
    inspections: raw.inspections ?? [],
    workOrders: raw.workOrders ?? {},
  };
}

/**
 * Which gateway serves which building: `gateways:` entries name theirs; the file's own gateway
 * serves `gateway.buildings`, by default every building no other gateway serves. A building is
 * served by one gateway at most, and a building with devices by exactly one.
 */
function servingGateways(raw: RawSite, gatewayId: string, buildings: BuildingConfig[], problems: SiteProblem[]): GatewayServing[] {
  const known = new Set(buildings.map((b) => b.id));
  const servedBy = new Map<string, string>();
  const ids = new Set<string>([gatewayId]);
  const claim = (gateway: string, list: string[], at: string): void => {
    list.forEach((building, i) => {
      if (!known.has(building)) problems.push({ path: `${at}/${i}`, reason: `unknown building '${building}' (buildings: ${[...known].join(', ')})` });
      else if (servedBy.has(building)) problems.push({ path: `${at}/${i}`, reason: `building '${building}' is already served by gateway '${servedBy.get(building)}'; a building has one gateway` });
      else servedBy.set(building, gateway);
    });
  };
  const others = (raw.gateways ?? []).map((g, i) => {
    if (ids.has(g.id)) problems.push({ path: `/gateways/${i}/id`, reason: `duplicate gateway id '${g.id}'` });
    ids.add(g.id);
    claim(g.id, g.buildings, `/gateways/${i}/buildings`);
    return { id: g.id, buildings: [...g.buildings] };
  });
  let own: string[];
  if (raw.gateway?.buildings) {
    claim(gatewayId, raw.gateway.buildings, '/gateway/buildings');
    own = [...raw.gateway.buildings];
  } else {
    own = buildings.map((b) => b.id).filter((b) => !servedBy.has(b));
    for (const b of own) servedBy.set(b, gatewayId);
  }
  buildings.forEach((b, i) => {
    if (b.devices.length > 0 && !servedBy.has(b.id)) problems.push({ path: `/buildings/${i}/id`, reason: `building '${b.id}' has devices but no gateway serves it: add it to gateway.buildings or to an entry of gateways` });
  });
  return [{ id: gatewayId, buildings: own }, ...others];
}
