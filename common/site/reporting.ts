import type { SiteProblem } from '../protocols/protocol.ts';
import { DEVICE_KINDS, type DeviceKind } from '../reading.ts';
import type { DeviceConfig } from './types.ts';

/**
 * Report by exception (docs/site-file.md#reporting): which readings the gateway keeps in the
 * reading store. A reading is stored when its value moved by more than the deadband since the last
 * stored one, when its quality changed, or when the heartbeat has passed since the last stored one;
 * events are always stored. The upstream state is not filtered: the rules see every reading.
 */
export interface ReportingPolicy {
  /** Absolute deadband in the metric's unit, or a percentage of the last stored value (`percent`). 0: every change. */
  deadband: number;
  percent: boolean;
  /** Store at least once per this many ms while readings come; 0 stores every reading. */
  heartbeatMs: number;
  /** A cumulative counter (meter total): every stored reading carries its increase since the one before (`delta`). */
  counter: boolean;
}

/** A metric's settings as written in the site file: any subset, merged over the layers below it. */
export interface PolicyFields {
  deadband?: number | string;
  heartbeatMs?: number;
  counter?: boolean;
}

/** Settings by metric; `*` applies to the metrics not named. */
export type MetricPolicies = Record<string, PolicyFields>;

/** The `reporting:` section, normalised. */
export interface ReportingConfig {
  /** false: every reading is stored. */
  byException: boolean;
  kinds: Partial<Record<DeviceKind, MetricPolicies>>;
  profiles: Record<string, MetricPolicies>;
  devices: Record<string, MetricPolicies>;
}

const MINUTE = 60_000;
const ON_CHANGE: PolicyFields = { deadband: 0, heartbeatMs: 15 * MINUTE };
const COUNTER: PolicyFields = { deadband: 0, heartbeatMs: 15 * MINUTE, counter: true };

/**
 * Defaults per device kind (docs/site-file.md#reporting). Counters (meter totals) are stored on
 * every change, so consumption adds up exactly; states (pump, float switches, zones, door) on every
 * change; measured values with a deadband a little above their noise and far below what the rules
 * and a trend chart need. Every stored series gets a heartbeat, so a chart of a quiet metric still
 * shows it alive.
 */
export const DEFAULT_REPORTING: Readonly<Record<DeviceKind, MetricPolicies>> = {
  tank: { level_mm: { deadband: 10, heartbeatMs: 5 * MINUTE }, '*': ON_CHANGE },
  'meter-water': { volume_m3: COUNTER, flow_m3h: { deadband: '20%', heartbeatMs: 15 * MINUTE }, '*': ON_CHANGE },
  'meter-gas': { volume_m3: COUNTER, '*': ON_CHANGE },
  'meter-electric': {
    energy_kwh: COUNTER,
    voltage_v: { deadband: 2, heartbeatMs: 15 * MINUTE },
    current_a: { deadband: '20%', heartbeatMs: 15 * MINUTE },
    power_w: { deadband: '20%', heartbeatMs: 15 * MINUTE },
    '*': ON_CHANGE,
  },
  'fire-panel': { battery_pct: { deadband: 1, heartbeatMs: 15 * MINUTE }, '*': ON_CHANGE },
  door: { '*': ON_CHANGE },
  'emergency-button': { battery_pct: { deadband: 1, heartbeatMs: 15 * MINUTE }, '*': ON_CHANGE },
};

/** Stores every reading: `reporting.byException: false`, and metrics without any setting. */
export const EVERY_READING: ReportingPolicy = { deadband: 0, percent: false, heartbeatMs: 0, counter: false };

const MAX_HEARTBEAT_MS = 7 * 24 * 60 * MINUTE;
const PERCENT = /^([0-9]+(?:\.[0-9]+)?)\s*%$/;
const METRIC_KEY = '^(\\*|[A-Za-z_][A-Za-z0-9_.:-]*)$';

const policySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // A percentage's form is checked by readReporting, which can say what is expected.
    deadband: { type: ['number', 'string'], minimum: 0, description: 'absolute (in the unit of the metric) or a percentage of the last stored value, e.g. 5%' },
    heartbeatMs: { type: 'integer', minimum: 0, maximum: MAX_HEARTBEAT_MS },
    counter: { type: 'boolean' },
  },
};

const metricPoliciesSchema = { type: 'object', propertyNames: { pattern: METRIC_KEY }, additionalProperties: policySchema };

/** JSON Schema of the `reporting:` section. */
export const reportingSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    byException: { type: 'boolean' },
    kinds: { type: 'object', additionalProperties: false, properties: Object.fromEntries(DEVICE_KINDS.map((k) => [k, metricPoliciesSchema])) },
    profiles: { type: 'object', additionalProperties: metricPoliciesSchema },
    devices: { type: 'object', additionalProperties: metricPoliciesSchema },
  },
};

export interface RawReporting {
  byException?: boolean;
  kinds?: Partial<Record<DeviceKind, MetricPolicies>>;
  profiles?: Record<string, MetricPolicies>;
  devices?: Record<string, MetricPolicies>;
}

/**
 * Checks the references of a schema-valid `reporting:` section: profiles and devices that exist,
 * metrics they report. `profiles` maps each known profile name to its metrics.
 */
export function readReporting(raw: RawReporting | undefined, devices: readonly DeviceConfig[], profiles: Record<string, readonly string[]>, problems: SiteProblem[]): ReportingConfig {
  const config: ReportingConfig = { byException: raw?.byException ?? true, kinds: raw?.kinds ?? {}, profiles: raw?.profiles ?? {}, devices: raw?.devices ?? {} };
  const deadbands = (at: string, policies: MetricPolicies): void => {
    for (const [metric, p] of Object.entries(policies)) {
      if (typeof p.deadband === 'string' && !PERCENT.test(p.deadband)) problems.push({ path: `${at}/${metric}/deadband`, reason: `must be a number ≥ 0 or a percentage such as 5%, got '${p.deadband}'` });
    }
  };
  const metricsKnown = (at: string, policies: MetricPolicies, metrics: readonly string[] | undefined, of: string): void => {
    if (!metrics) return;
    for (const metric of Object.keys(policies)) {
      if (metric !== '*' && !metrics.includes(metric)) problems.push({ path: `${at}/${metric}`, reason: `'${metric}' is not a metric of ${of} (metrics: ${metrics.join(', ')})` });
    }
  };
  for (const [kind, policies] of Object.entries(config.kinds)) deadbands(`/reporting/kinds/${kind}`, policies);
  for (const [name, policies] of Object.entries(config.profiles)) deadbands(`/reporting/profiles/${name}`, policies);
  for (const [id, policies] of Object.entries(config.devices)) deadbands(`/reporting/devices/${id}`, policies);
  for (const [name, policies] of Object.entries(config.profiles)) {
    const metrics = profiles[name];
    if (!metrics) problems.push({ path: `/reporting/profiles/${name}`, reason: `unknown profile '${name}' (known: ${Object.keys(profiles).join(', ')})` });
    else metricsKnown(`/reporting/profiles/${name}`, policies, metrics, `profile '${name}'`);
  }
  const byId = new Map(devices.map((d) => [d.id, d]));
  for (const [id, policies] of Object.entries(config.devices)) {
    const device = byId.get(id);
    if (!device) problems.push({ path: `/reporting/devices/${id}`, reason: `no device '${id}' in this site file` });
    else metricsKnown(`/reporting/devices/${id}`, policies, device.metrics, `device '${id}'`);
  }
  return config;
}

/** Applies `fields` over `base`; throws on a malformed percentage (the schema lets none through). */
function merge(base: ReportingPolicy, fields: PolicyFields | undefined): ReportingPolicy {
  if (!fields) return base;
  const out = { ...base };
  if (fields.deadband !== undefined) {
    if (typeof fields.deadband === 'number') {
      out.deadband = fields.deadband;
      out.percent = false;
    } else {
      const m = PERCENT.exec(fields.deadband);
      if (!m) throw new Error(`deadband ${JSON.stringify(fields.deadband)}: expected a number or a percentage such as 5%`);
      out.deadband = Number(m[1]);
      out.percent = true;
    }
  }
  if (fields.heartbeatMs !== undefined) out.heartbeatMs = fields.heartbeatMs;
  if (fields.counter !== undefined) out.counter = fields.counter;
  return out;
}

function layer(policies: MetricPolicies | undefined, metric: string, base: ReportingPolicy): ReportingPolicy {
  if (!policies) return base;
  return merge(base, policies[metric] ?? policies['*']);
}

/**
 * The policy of one metric of one device: the kind's defaults, then `reporting.kinds`, then
 * `reporting.profiles` (the device's profile), then `reporting.devices`; each layer changes only
 * the fields it names, from its entry for the metric or else its `*` entry.
 */
export function reportingPolicy(config: ReportingConfig, device: Pick<DeviceConfig, 'id' | 'kind' | 'profile'> | undefined, kind: DeviceKind, metric: string): ReportingPolicy {
  if (!config.byException) return EVERY_READING;
  let p = layer(DEFAULT_REPORTING[kind], metric, EVERY_READING);
  p = layer(config.kinds[kind], metric, p);
  if (device?.profile !== undefined) p = layer(config.profiles[device.profile], metric, p);
  if (device) p = layer(config.devices[device.id], metric, p);
  return p;
}
