import { Ajv, type ErrorObject } from 'ajv';
import { DEVICE_KINDS, type DeviceKind } from '../../common/reading.ts';
import { SiteConfigError } from '../../common/site/load.ts';
import type { DeviceConfig, SiteConfig } from '../../common/site/types.ts';
import { ALARM_CATEGORIES, ALARM_SEVERITIES } from '../alarms/alarm.ts';
import { DEFAULT_CHATTER_POLICY, type ChatterPolicy } from '../alarms/alarm-service.ts';
import { DEFAULT_SUPPRESSION_GRACE_MS } from '../alarms/cause-suppression.ts';
import { DEFAULT_FLOOD_POLICY, type FloodPolicy } from '../alarms/flood-policy.ts';
import { INFRASTRUCTURE_RULE_IDS } from '../infrastructure/conditions.ts';
import { DEFAULT_RULES } from './default-rules.ts';
import { isProblem, type ConfigProblem } from './rule-type.ts';
import { RULE_TYPES, RULE_TYPE_NAMES, definitionOf, type ResolvedRule, type Rule, type RuleType } from './rule-types.ts';

export type { ResolvedRule } from './rule-types.ts';
export type { ResolvedThresholdRule } from './types/threshold.ts';
export type { ConfigProblem } from './rule-type.ts';

export interface DeviceRules {
  device: DeviceConfig;
  rules: ResolvedRule[];
}

export interface RulesConfig {
  chatter: ChatterPolicy;
  /** How long a device still silent after its cause returned waits before its own offline alarm is announced. */
  suppressionGraceMs: number;
  flood: FloodPolicy;
  /** Enabled rules of every device of the site, by device id. */
  devices: Map<string, DeviceRules>;
}

const ruleId = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 64 } as const;
const common = {
  id: ruleId,
  category: { enum: [...ALARM_CATEGORIES] },
  severity: { enum: [...ALARM_SEVERITIES] },
  enabled: { type: 'boolean' },
  title: {
    type: 'object',
    additionalProperties: false,
    required: ['en', 'zh'],
    properties: { en: { type: 'string', minLength: 1 }, zh: { type: 'string', minLength: 1 } },
  },
} as const;
const commonRequired = ['id', 'type', 'category', 'severity', 'title', 'enabled'];

/** JSON Schema of one rule after defaults and overrides are merged (documented in docs/rules.md): one branch per rule type. */
export const ruleSchema = {
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: RULE_TYPE_NAMES.map((type) => {
    const d = RULE_TYPES[type];
    return {
      type: 'object',
      additionalProperties: false,
      required: [...commonRequired, ...d.required],
      properties: { ...common, type: { const: type }, ...d.fields },
    };
  }),
};

const ruleMap = { type: 'object', propertyNames: ruleId, additionalProperties: { type: 'object' } } as const;

/** JSON Schema of `rules:` in the site file. */
export const rulesSectionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    chattering: {
      type: 'object',
      additionalProperties: false,
      properties: {
        count: { type: 'integer', minimum: 2, maximum: 100 },
        windowMs: { type: 'integer', minimum: 1000, maximum: 3_600_000 },
        quietMs: { type: 'integer', minimum: 0, maximum: 24 * 3_600_000 },
      },
    },
    suppression: {
      type: 'object',
      additionalProperties: false,
      properties: { graceMs: { type: 'integer', minimum: 0, maximum: 24 * 3_600_000 } },
    },
    flood: {
      type: 'object',
      additionalProperties: false,
      properties: {
        limit: { type: 'integer', minimum: 1, maximum: 1000 },
        windowMs: { type: 'integer', minimum: 60_000, maximum: 24 * 3_600_000 },
      },
    },
    kinds: { type: 'object', propertyNames: { enum: [...DEVICE_KINDS] }, additionalProperties: ruleMap },
    devices: { type: 'object', additionalProperties: ruleMap },
  },
} as const;

/** Values a new rule (an id no default has) gets when the site file leaves them out. */
const NEW_RULE_DEFAULTS = Object.fromEntries(RULE_TYPE_NAMES.map((t) => [t, { enabled: true, ...RULE_TYPES[t].defaults }])) as unknown as Record<RuleType, Record<string, unknown>>;

const RULE_TYPES_TEXT = Object.keys(NEW_RULE_DEFAULTS).map((t) => `"${t}"`).join(', ');

const ajv = new Ajv({ allErrors: true, strict: false, discriminator: true });
const validateSection = ajv.compile(rulesSectionSchema);
const validateRule = ajv.compile(ruleSchema);

type Entries = Record<string, Record<string, unknown>>;
/** Rules by id after one level of overrides; `path` is where the site file last touched the rule. */
type MergedRules = Map<string, { rule: Record<string, unknown>; path?: string }>;
interface Section {
  chattering?: Partial<ChatterPolicy>;
  suppression?: { graceMs?: number };
  flood?: Partial<FloodPolicy>;
  kinds?: Partial<Record<DeviceKind, Entries>>;
  devices?: Record<string, Entries>;
}

/**
 * Merges the default rules of each device kind with the site file's `rules` section and checks
 * the result. Throws SiteConfigError whose problems name the path inside the site file.
 */
export function resolveRules(site: SiteConfig): RulesConfig {
  const { config, problems } = checkRules(site);
  if (problems.length > 0) throw new SiteConfigError(site.file, problems);
  return config;
}

/** Like resolveRules, returning the problems instead of throwing. */
export function checkRules(site: SiteConfig): { config: RulesConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const raw = site.rules ?? {};
  const config: RulesConfig = { chatter: DEFAULT_CHATTER_POLICY, suppressionGraceMs: DEFAULT_SUPPRESSION_GRACE_MS, flood: DEFAULT_FLOOD_POLICY, devices: new Map() };
  const sectionValid = validateSection(raw);
  if (!sectionValid) problems.push(...schemaProblems(validateSection.errors ?? [], '/rules'));
  // Carry on with the well-formed parts so one run reports every problem.
  const section = sectionValid ? (raw as Section) : wellFormed(raw);
  config.chatter = { ...DEFAULT_CHATTER_POLICY, ...section.chattering };
  config.suppressionGraceMs = section.suppression?.graceMs ?? DEFAULT_SUPPRESSION_GRACE_MS;
  config.flood = { ...DEFAULT_FLOOD_POLICY, ...section.flood };

  const deviceIndex = new Map<string, { device: DeviceConfig; path: string }>();
  site.buildings.forEach((b, bi) => b.devices.forEach((d, di) => deviceIndex.set(d.id, { device: d, path: `/buildings/${bi}/devices/${di}` })));
  for (const id of Object.keys(section.devices ?? {})) {
    if (!deviceIndex.has(id)) problems.push({ path: `/rules/devices/${id}`, reason: `no device '${id}' in the site` });
  }

  // Kind-level results are checked once per kind, not once per device.
  const kindRules = new Map<DeviceKind, MergedRules>();
  for (const kind of DEVICE_KINDS) {
    kindRules.set(kind, mergeEntries(kind, baseRules(kind), section.kinds?.[kind] ?? {}, `/rules/kinds/${kind}`, problems));
  }

  for (const { device, path: devicePath } of deviceIndex.values()) {
    const base = kindRules.get(device.kind)!;
    const own = section.devices?.[device.id];
    const merged = own ? mergeEntries(device.kind, base, own, `/rules/devices/${device.id}`, problems) : base;
    const rules: ResolvedRule[] = [];
    for (const [id, { rule, path }] of merged) {
      const r = rule as unknown as Rule;
      if (!r.enabled) continue;
      const where = path ?? `/rules/kinds/${device.kind}/${id}`;
      if ('metric' in r && path !== undefined && device.metrics && !device.metrics.includes(r.metric)) {
        problems.push({ path: `${where}/metric`, reason: `device '${device.id}' (${device.address}) has no metric '${r.metric}'; it reports ${device.metrics.join(', ')}` });
        continue;
      }
      const resolve = definitionOf(r.type).resolve;
      const resolved = resolve ? resolve(r, { device, devicePath }) : (r as ResolvedRule);
      if (isProblem(resolved)) problems.push(resolved);
      else rules.push(resolved);
    }
    config.devices.set(device.id, { device, rules });
  }
  return { config, problems: dedupe(problems) };
}

const RULE_ID = new RegExp(ruleId.pattern);

function wellFormed(raw: unknown): Section {
  if (!isObject(raw)) return {};
  const entries = (v: unknown): Entries =>
    isObject(v) ? Object.fromEntries(Object.entries(v).filter(([id, e]) => RULE_ID.test(id) && isObject(e))) as Entries : {};
  const kinds: Partial<Record<DeviceKind, Entries>> = {};
  if (isObject(raw.kinds)) for (const k of DEVICE_KINDS) if (raw.kinds[k] !== undefined) kinds[k] = entries(raw.kinds[k]);
  const devices: Record<string, Entries> = {};
  if (isObject(raw.devices)) for (const [id, v] of Object.entries(raw.devices)) devices[id] = entries(v);
  return { kinds, devices };
}

function baseRules(kind: DeviceKind): MergedRules {
  return new Map(DEFAULT_RULES[kind].map((r) => [r.id, { rule: r as unknown as Record<string, unknown> }]));
}

/** Applies one level of overrides; every entry it touches is validated and remembers its path. */
function mergeEntries(
  kind: DeviceKind,
  base: MergedRules,
  entries: Entries,
  at: string,
  problems: ConfigProblem[],
): MergedRules {
  const out = new Map(base);
  for (const [id, entry] of Object.entries(entries)) {
    const path = `${at}/${id}`;
    const previous = base.get(id)?.rule;
    let rule: Record<string, unknown>;
    if (previous) {
      if (entry.type !== undefined && entry.type !== previous.type) {
        problems.push({ path: `${path}/type`, reason: `rule '${id}' has type '${String(previous.type)}', which an override cannot change (use a new rule id)` });
        continue;
      }
      rule = { ...previous, ...entry, id };
      if (isObject(previous.title) && isObject(entry.title)) rule.title = { ...previous.title, ...entry.title };
    } else {
      if (INFRASTRUCTURE_RULE_IDS.has(id)) {
        problems.push({ path, reason: `'${id}' is the id of a condition gateways report (docs/upstream.md); choose another rule id` });
        continue;
      }
      const type = entry.type as RuleType | undefined;
      if (type === undefined || !(type in NEW_RULE_DEFAULTS)) {
        problems.push({
          path: type === undefined ? path : `${path}/type`,
          reason: type === undefined ? `'${id}' is not a default rule of '${kind}': a new rule needs a type` : `must be one of ${RULE_TYPES_TEXT}`,
        });
        continue;
      }
      rule = { ...NEW_RULE_DEFAULTS[type], ...entry, id };
    }
    if (!validateRule(rule)) {
      problems.push(...schemaProblems(validateRule.errors ?? [], path));
      continue;
    }
    const check = definitionOf(rule.type as RuleType).checkForKind;
    if (check && !check(rule as unknown as Rule, kind, path, problems)) continue;
    out.set(id, { rule, path });
  }
  return out;
}

function schemaProblems(errors: ErrorObject[], prefix: string): ConfigProblem[] {
  // propertyNames failures also report the inner keyword without the name; keep the named one.
  const specific = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && !e.schemaPath.includes('/propertyNames/'));
  const chosen = specific.length > 0 ? specific : errors;
  return chosen.map((e) => {
    let reason = e.message ?? 'invalid';
    let path = prefix + e.instancePath;
    if (e.keyword === 'additionalProperties') reason = `unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    if (e.keyword === 'enum') reason = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    if (e.keyword === 'required') reason = `missing property '${(e.params as { missingProperty: string }).missingProperty}'`;
    if (e.keyword === 'const') reason = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    if (e.keyword === 'propertyNames') {
      const name = (e.params as { propertyName: string }).propertyName;
      path = `${path}/${name}`;
      reason = prefix.endsWith('/rules') && e.instancePath === '/kinds' ? `unknown device kind '${name}' (known: ${DEVICE_KINDS.join(', ')})` : `'${name}' is not a valid rule id (lower-case letters, digits and '-')`;
    }
    if (e.keyword === 'discriminator') reason = `type must be one of ${RULE_TYPES_TEXT}`;
    return { path, reason };
  });
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}|${p.reason}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
