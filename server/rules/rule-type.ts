import type { DeviceEvent, DeviceKind } from '../../common/reading.ts';
import type { DeviceConfig } from '../../common/site/types.ts';
import type { Alarm, AlarmCategory, AlarmPoint, AlarmSeverity, LocalizedText, PendingTimer } from '../alarms/alarm.ts';
import type { TripFacts } from '../alarms/alarm-service.ts';
import type { TitleVars } from './title-template.ts';

/**
 * Title templates: `{device}`, `{deviceName}`, `{building}`, `{unit}`, `{instance}` (fire zone),
 * `{metric}`, `{value}`, `{limit}` are replaced when the alarm is raised.
 */
export type TitleTemplate = LocalizedText;

/** What every rule has, whatever its type. */
export interface RuleCommon {
  id: string;
  type: string;
  category: AlarmCategory;
  severity: AlarmSeverity;
  title: TitleTemplate;
  enabled: boolean;
}

export interface ConfigProblem {
  path: string;
  reason: string;
}

/** A JSON Schema fragment. */
export type FieldSchema = Readonly<Record<string, unknown>>;

/**
 * What one rule on one device may do. The engine makes one per rule and device; a rule never
 * reaches the alarm service, the records or the clock but through it.
 */
export interface RuleContext {
  readonly device: DeviceConfig;
  /** The server's clock. */
  now(): number;
  /** The rule's alarm point on the device; each `instance` (a fire zone) is a point of its own. */
  point(at?: { instance?: string; metric?: string }): AlarmPoint;
  /** The rule's title for the device, with the given values filled in. */
  title(vars?: TitleVars): LocalizedText;
  /** The condition of a point went into alarm at `ts`. */
  trip(point: AlarmPoint, ts: number, facts: TripFacts): void;
  /** The condition of a point returned to normal at `ts`. */
  returnToNormal(point: AlarmPoint, ts: number): void;
  /** Keeps a running delay in the records, so a restart resumes it; the engine wakes at `due`. */
  saveTimer(timer: Omit<PendingTimer, 'ruleId' | 'device'>): void;
  /** Forgets the running delay of an instance ('' for a rule without instances). */
  deleteTimer(instance: string): void;
}

/**
 * One rule on one device: its state, and what each input does to it. The engine calls only what
 * the state has: readings of `metric`, the `events` it names, signs of life, its gateway's status,
 * the clock. Inputs are already validated; a method never blocks and never writes itself.
 */
export interface RuleState {
  /** Readings of this metric (good or uncertain quality, value not null) go to onReading. */
  readonly metric?: string;
  /** Events of these names go to onEvent. */
  readonly events?: readonly string[];
  onReading?(value: number, ts: number): void;
  onEvent?(event: DeviceEvent): void;
  /** The device was heard: a good reading or an event, of any metric. */
  onHeard?(ts: number): void;
  /** The status of the gateway the device reports through. */
  onGatewayStatus?(online: boolean, ts: number, gateway: string): void;
  /** Runs what is due at `now` (delays, silence). */
  tick?(now: number): void;
  /** The earliest time tick() has something to do. */
  nextDue?(): number | undefined;
  /** After a restart: an open alarm of this rule whose condition is in alarm. */
  resumeAlarm?(alarm: Alarm): void;
  /** After a restart: a delay of this rule kept in the records; false drops it. */
  resumeTimer?(timer: PendingTimer): boolean;
  /** After a restart, once alarms and timers are resumed: the clock starts at `now`. */
  onRestored?(now: number): void;
}

/** Where a rule sits in the site file, for the problems resolve() reports. */
export interface RuleSite {
  device: DeviceConfig;
  /** JSON pointer of the device in the site file. */
  devicePath: string;
}

/**
 * A rule type: its fields, their defaults, the checks a merged rule gets, and its evaluator. One
 * module per type (docs/extending.md); the registry of `rule-types.ts` lists them.
 */
export interface RuleTypeDefinition<R extends RuleCommon, Resolved extends RuleCommon = R> {
  readonly type: R['type'];
  /** JSON Schema of the type's own fields (besides id, type, category, severity, title, enabled). */
  readonly fields: Readonly<Record<string, FieldSchema>>;
  /** Own fields a merged rule must have. */
  readonly required: readonly string[];
  /** What a new rule (an id no default has) gets for the fields the site file leaves out. */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Checks a merged rule against the device kind beyond its schema; pushes problems under `path` and says whether it is usable. */
  checkForKind?(rule: R, kind: DeviceKind, path: string, problems: ConfigProblem[]): boolean;
  /** What depends on the device (a limit from its params): the rule for that device, or a problem. */
  resolve?(rule: R, at: RuleSite): Resolved | ConfigProblem;
  /** The state of the rule on one device. */
  create(rule: Resolved, ctx: RuleContext): RuleState;
}

export function isProblem(v: unknown): v is ConfigProblem {
  return typeof v === 'object' && v !== null && 'reason' in v && 'path' in v;
}
