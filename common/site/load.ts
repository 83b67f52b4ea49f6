import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import type { EnvironmentVariables } from '../env.ts';
import { BUILTIN_PROFILES, point, type DeviceProfile, type FunctionCode, type RegisterPoint } from '../profiles.ts';
import { deviceTopic } from '../topics.ts';
import type { DeviceKind } from '../reading.ts';
import { siteSchema } from './schema.ts';
import type { BuildingConfig, DeviceConfig, ModbusConnectionConfig, MqttMapping, SiteConfig, WhenOutboxFull } from './types.ts';

export const DEMO_SITE_FILE = fileURLToPath(new URL('../../site/demo-estate.yaml', import.meta.url));

/** A site file that cannot be used. `problems` each name the path inside the file and the reason. */
export class SiteConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: { path: string; reason: string }[],
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
  return normalise(raw as RawSite, file);
}

function schemaProblems(errors: ErrorObject[]): { path: string; reason: string }[] {
  // oneOf failures repeat what the branch errors already say; keep them only when alone.
  const specific = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
  const chosen = specific.length > 0 ? specific : errors;
  const seen = new Set<string>();
  const out: { path: string; reason: string }[] = [];
  for (const e of chosen) {
    let reason = e.message ?? 'invalid';
    if (e.keyword === 'additionalProperties') reason = `unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    if (e.keyword === 'enum') reason = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    if (e.keyword === 'required' && e.instancePath.match(/devices\/\d+$/) && ['modbus', 'mqtt'].includes((e.params as { missingProperty: string }).missingProperty)) {
      reason = 'a device needs exactly one of modbus or mqtt';
    }
    const key = `${e.instancePath}|${reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: e.instancePath, reason });
  }
  return out;
}

interface RawPoint {
  metric: string;
  function: FunctionCode;
  address: number;
  type: RegisterPoint['type'];
  byteOrder?: RegisterPoint['byteOrder'];
  wordOrder?: RegisterPoint['wordOrder'];
  scale?: number;
  offset?: number;
  engUnit?: string;
}
interface RawDevice {
  id: string;
  kind: DeviceKind;
  name?: string;
  unit?: string;
  params?: Record<string, number>;
  modbus?: { connection: string; unitId: number; profile: string; timeoutMs?: number };
  mqtt?: { telemetryTopic?: string; eventTopic?: string; mapping?: MqttMapping };
}
interface RawSite {
  site: { id: string; name: string; timezone?: string; demo?: boolean };
  gateway?: {
    id?: string;
    pollIntervalMs?: number;
    outbox?: { maxBytes?: number; whenFull?: WhenOutboxFull };
    store?: { batchSize?: number; flushIntervalMs?: number; retention?: string };
  };
  modbus?: { connections?: (Omit<ModbusConnectionConfig, 'timeoutMs' | 'maxGapRegisters' | 'rtu'> & { timeoutMs?: number; maxGapRegisters?: number; rtu?: Partial<NonNullable<ModbusConnectionConfig['rtu']>> & { path: string } })[] };
  profiles?: Record<string, { kind: DeviceKind; points: RawPoint[] }>;
  buildings: { id: string; name: string; type?: BuildingConfig['type']; units?: { id: string; floor?: number; area_m2?: number }[]; devices?: RawDevice[] }[];
  rules?: Record<string, unknown>;
  inspections?: unknown[];
}

function normalise(raw: RawSite, file: string): SiteConfig {
  const problems: { path: string; reason: string }[] = [];

  const timezone = raw.site.timezone ?? 'Asia/Shanghai';
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    problems.push({ path: '/site/timezone', reason: `unknown time zone '${timezone}'` });
  }

  const profiles: Record<string, DeviceProfile> = { ...BUILTIN_PROFILES };
  for (const [name, p] of Object.entries(raw.profiles ?? {})) {
    if (BUILTIN_PROFILES[name]) problems.push({ path: `/profiles/${name}`, reason: `'${name}' is a built-in profile; choose another name` });
    const metrics = new Set<string>();
    p.points.forEach((rp, i) => {
      if (metrics.has(rp.metric)) problems.push({ path: `/profiles/${name}/points/${i}/metric`, reason: `duplicate metric '${rp.metric}'` });
      metrics.add(rp.metric);
      if ((rp.function === 1 || rp.function === 2) !== (rp.type === 'bool')) {
        problems.push({ path: `/profiles/${name}/points/${i}/type`, reason: `function ${rp.function} ${rp.function <= 2 ? 'reads bits: type must be bool' : 'reads registers: type cannot be bool'}` });
      }
    });
    profiles[name] = {
      name,
      kind: p.kind,
      points: p.points.map((rp) => {
        const { function: fc, ...rest } = rp;
        return point({ ...rest, fc });
      }),
    };
  }

  const connections: ModbusConnectionConfig[] = [];
  const connectionIds = new Set<string>();
  (raw.modbus?.connections ?? []).forEach((c, i) => {
    if (connectionIds.has(c.id)) problems.push({ path: `/modbus/connections/${i}/id`, reason: `duplicate connection id '${c.id}'` });
    connectionIds.add(c.id);
    connections.push({
      id: c.id,
      ...(c.tcp ? { tcp: c.tcp } : {}),
      ...(c.rtu
        ? { rtu: { baudRate: 9600, parity: 'none' as const, dataBits: 8 as const, stopBits: 1 as const, ...c.rtu } }
        : {}),
      timeoutMs: c.timeoutMs ?? 1000,
      maxGapRegisters: c.maxGapRegisters ?? 16,
    });
  });

  const buildingIds = new Set<string>();
  const deviceIds = new Set<string>();
  const slaveAddresses = new Map<string, string>();
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
      const device: DeviceConfig = { id: d.id, building: b.id, kind: d.kind, name: d.name ?? d.id, params: d.params ?? {} };
      if (d.unit !== undefined) device.unit = d.unit;
      if (d.modbus) {
        const conn = connections.find((c) => c.id === d.modbus!.connection);
        const profile = profiles[d.modbus.profile];
        if (!conn) problems.push({ path: `${at}/modbus/connection`, reason: `no Modbus connection '${d.modbus.connection}' under /modbus/connections` });
        if (!profile) {
          problems.push({ path: `${at}/modbus/profile`, reason: `unknown profile '${d.modbus.profile}' (known: ${Object.keys(profiles).join(', ')})` });
        } else if (profile.kind !== d.kind) {
          problems.push({ path: `${at}/modbus/profile`, reason: `profile '${profile.name}' is for kind '${profile.kind}', device is '${d.kind}'` });
        }
        const slaveKey = `${d.modbus.connection}#${d.modbus.unitId}`;
        const other = slaveAddresses.get(slaveKey);
        if (other) problems.push({ path: `${at}/modbus/unitId`, reason: `unit id ${d.modbus.unitId} on '${d.modbus.connection}' is already used by device '${other}'` });
        slaveAddresses.set(slaveKey, d.id);
        if (conn && profile) {
          device.modbus = { connection: conn.id, unitId: d.modbus.unitId, profile, timeoutMs: d.modbus.timeoutMs ?? conn.timeoutMs };
        }
      }
      if (d.mqtt) {
        device.mqtt = {
          telemetryTopic: d.mqtt.telemetryTopic ?? deviceTopic(b.id, d.id, 'telemetry'),
          eventTopic: d.mqtt.eventTopic ?? deviceTopic(b.id, d.id, 'event'),
          ...(d.mqtt.mapping ? { mapping: d.mqtt.mapping } : {}),
        };
      }
      devices.push(device);
    });
    return { id: b.id, name: b.name, type: b.type ?? 'residential', units, devices };
  });

  if (problems.length > 0) throw new SiteConfigError(file, problems);

  return {
    file,
    site: { id: raw.site.id, name: raw.site.name, timezone, demo: raw.site.demo ?? false },
    gateway: {
      id: raw.gateway?.id ?? `${raw.site.id}-gateway`,
      pollIntervalMs: raw.gateway?.pollIntervalMs ?? 1000,
      outbox: { maxBytes: raw.gateway?.outbox?.maxBytes ?? 256 * 1024 * 1024, whenFull: raw.gateway?.outbox?.whenFull ?? 'drop-oldest' },
      store: {
        batchSize: raw.gateway?.store?.batchSize ?? 5000,
        flushIntervalMs: raw.gateway?.store?.flushIntervalMs ?? 1000,
        retention: raw.gateway?.store?.retention ?? '365d',
      },
    },
    modbus: { connections },
    profiles,
    buildings,
    devices: buildings.flatMap((b) => b.devices),
    rules: raw.rules ?? {},
    inspections: raw.inspections ?? [],
  };
}
