import { EventEmitter } from 'node:events';
import type { DeviceEvent, Reading } from '../../common/reading.ts';
import { createLogger, type Logger } from '../../common/logger.ts';
import { gatewayOfBuilding } from '../../common/site/gateways.ts';
import type { DeviceConfig, SiteConfig } from '../../common/site/types.ts';
import { AlarmService, type AlarmEvents, type AlarmPoint } from '../alarms/alarm-service.ts';
import { CauseSuppression } from '../alarms/cause-suppression.ts';
import type { AlarmRepository } from '../records/alarm-repository.ts';
import { resolveRules, type ResolvedRule, type RulesConfig } from './rule-config.ts';
import type { RuleContext, RuleState } from './rule-type.ts';
import { RULE_TYPE_NAMES, definitionOf, type RuleType } from './rule-types.ts';
import { renderTitle } from './title-template.ts';

export interface RulesEngineEvents extends AlarmEvents {
  /** A rule failure, or a change that could not be stored; the engine carries on. */
  error: [err: Error];
  /** A timer was set that tick() must run at `due` (lets a scheduler wake up exactly then). */
  due: [due: number];
}

export interface RulesEngineOptions {
  site: SiteConfig;
  /** The site's rules, already resolved (resolveRules); by default the engine resolves them. */
  rules?: RulesConfig;
  /** Where alarms and pending timers are kept. */
  store: AlarmRepository;
  clock?: () => number;
  /** Share an AlarmService; by default the engine makes one over `store`. */
  alarms?: AlarmService;
  logger?: Logger;
}

/** Plain counters for /metrics. */
export interface RulesEngineCounters {
  readings: number;
  events: number;
  /** Readings or events from devices the site file does not know. */
  unknownDevice: number;
  errors: number;
}

/** What the engine keeps per device: its rules' states, indexed by what they listen to. */
interface DeviceRuntime {
  device: DeviceConfig;
  gateway: string;
  byMetric: Map<string, RuleState[]>;
  byEvent: Map<string, RuleState[]>;
  heard: RuleState[];
  watchGateway: RuleState[];
  byRule: Map<string, { rule: ResolvedRule; state: RuleState }>;
}

export function alarmKey(device: string, ruleId: string, instance = ''): string {
  return instance ? `${device}/${ruleId}/${instance}` : `${device}/${ruleId}`;
}

function addTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The alarm point of a rule on a device; with an `instance` (a fire zone) each instance is its own point. */
function alarmPoint(d: DeviceConfig, rule: ResolvedRule, at: { metric?: string; instance?: string } = {}): AlarmPoint {
  return {
    key: alarmKey(d.id, rule.id, at.instance),
    ruleId: rule.id,
    ruleType: rule.type,
    device: d.id,
    building: d.building,
    kind: d.kind,
    ...(d.unit !== undefined ? { unit: d.unit } : {}),
    ...(at.instance ? { instance: at.instance } : {}),
    ...(at.metric !== undefined ? { metric: at.metric } : {}),
    category: rule.category,
    severity: rule.severity,
  };
}

/**
 * Evaluates the rules of every device of the site against readings, events and gateway status,
 * and raises and clears alarms through an AlarmService. Each rule type is a module of
 * `server/rules/types/` (the registry is `rule-types.ts`); the engine only routes inputs to the
 * states that asked for them. Time advances only through the timestamps it is given and
 * tick(now): it sets no timers of its own. Per reading it does two map look-ups, synchronously,
 * and writes to the store only when a timer starts or an alarm changes: those writes go in order
 * through the alarm service's queue, and `settled()` resolves once they are done.
 */
export class RulesEngine extends EventEmitter<RulesEngineEvents> {
  readonly alarms: AlarmService;
  readonly counters: RulesEngineCounters = { readings: 0, events: 0, unknownDevice: 0, errors: 0 };
  private readonly store: AlarmRepository;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly devices = new Map<string, DeviceRuntime>();
  /** States with something to do on tick(), in the order of the rule type registry. */
  private readonly ticking: RuleState[] = [];

  constructor(options: RulesEngineOptions) {
    super();
    const config = options.rules ?? resolveRules(options.site);
    this.store = options.store;
    this.clock = options.clock ?? Date.now;
    this.log = options.logger ?? createLogger('rules');
    this.alarms =
      options.alarms ??
      new AlarmService({
        store: options.store,
        clock: this.clock,
        chatter: config.chatter,
        suppression: new CauseSuppression(config.suppressionGraceMs, this.clock()),
        flood: config.flood,
      });
    this.alarms.on('alarm-raised', (a) => this.emit('alarm-raised', a));
    this.alarms.on('alarm-cleared', (a) => this.emit('alarm-cleared', a));
    this.alarms.on('alarm-updated', (u) => this.emit('alarm-updated', u));
    this.alarms.on('alarm-suppressed', (a) => this.emit('alarm-suppressed', a));
    this.alarms.on('error', (err) => this.fail(err, { store: 'alarms' }));

    const servedBy = gatewayOfBuilding(options.site);
    const ticking = new Map<RuleType, RuleState[]>(RULE_TYPE_NAMES.map((t) => [t, []]));
    for (const { device, rules } of config.devices.values()) {
      const rt: DeviceRuntime = { device, gateway: servedBy.get(device.building) ?? options.site.gateway.id, byMetric: new Map(), byEvent: new Map(), heard: [], watchGateway: [], byRule: new Map() };
      for (const rule of rules) {
        const state = definitionOf(rule.type).create(rule, this.context(rt, rule));
        rt.byRule.set(rule.id, { rule, state });
        if (state.metric !== undefined && state.onReading) addTo(rt.byMetric, state.metric, state);
        if (state.onEvent) for (const name of new Set(state.events ?? [])) addTo(rt.byEvent, name, state);
        if (state.onHeard) rt.heard.push(state);
        if (state.onGatewayStatus) rt.watchGateway.push(state);
        if (state.tick) ticking.get(rule.type)!.push(state);
      }
      this.devices.set(device.id, rt);
    }
    for (const list of ticking.values()) this.ticking.push(...list);
  }

  /**
   * Picks up where a previous run left off: its open alarms, shelves and pending timers. Then starts
   * the clock of devices not heard since start-up at `now` and runs every timer already due.
   */
  async restore(now: number): Promise<void> {
    await this.alarms.restore();
    await this.resume();
    for (const rt of this.devices.values()) for (const { state } of rt.byRule.values()) state.onRestored?.(now);
    this.tick(now);
  }

  /** Resolves once every timer and alarm change so far is stored (and announced). */
  settled(): Promise<void> {
    return this.alarms.settled();
  }

  onReading(r: Reading, gateway?: string): void {
    this.counters.readings++;
    const rt = this.devices.get(r.device);
    if (!rt) {
      this.counters.unknownDevice++;
      return;
    }
    if (r.quality === 'bad' || r.value === null) return;
    try {
      if (gateway !== undefined && rt.gateway !== gateway) rt.gateway = gateway;
      for (const s of rt.heard) s.onHeard!(r.ts);
      const states = rt.byMetric.get(r.metric);
      if (!states) return;
      for (const s of states) s.onReading!(r.value, r.ts);
    } catch (err) {
      this.fail(err, { device: r.device, metric: r.metric });
    }
  }

  onEvent(e: DeviceEvent, gateway?: string): void {
    this.counters.events++;
    const rt = this.devices.get(e.device);
    if (!rt) {
      this.counters.unknownDevice++;
      return;
    }
    try {
      if (gateway !== undefined && rt.gateway !== gateway) rt.gateway = gateway;
      for (const s of rt.heard) s.onHeard!(e.ts);
      for (const s of rt.byEvent.get(e.event) ?? []) s.onEvent!(e);
    } catch (err) {
      this.fail(err, { device: e.device, event: e.event });
    }
  }

  /** Gateway status; `online: false` is its last will and marks every device behind it offline. */
  onGatewayStatus(gatewayId: string, online: boolean, ts: number): void {
    try {
      for (const rt of this.devices.values()) {
        if (rt.gateway !== gatewayId) continue;
        for (const s of rt.watchGateway) s.onGatewayStatus!(online, ts, gatewayId);
      }
    } catch (err) {
      this.fail(err, { gateway: gatewayId, online });
    }
  }

  /** The gateway a device reports through, as last heard (the site's gateway until then). */
  gatewayOf(deviceId: string): string | undefined {
    return this.devices.get(deviceId)?.gateway;
  }

  /** Runs every timer due at or before `now`: on- and off-delays, silent devices, shelves, chattering. */
  tick(now: number): void {
    try {
      for (const s of this.ticking) s.tick!(now);
      this.alarms.tick(now);
    } catch (err) {
      this.fail(err, { tick: now });
    }
  }

  /** The earliest time tick() has something to do, or undefined when nothing is pending. */
  nextDue(): number | undefined {
    let due = this.alarms.nextDue();
    for (const s of this.ticking) {
      const d = s.nextDue?.();
      if (d !== undefined && (due === undefined || d < due)) due = d;
    }
    return due;
  }

  /** The rules in force for a device (after site overrides). */
  rulesOf(deviceId: string): ResolvedRule[] {
    const rt = this.devices.get(deviceId);
    return rt ? [...rt.byRule.values()].map((r) => r.rule) : [];
  }

  /** What a rule on a device may do: its points, its title, the alarm service and its timers in the records. */
  private context(rt: DeviceRuntime, rule: ResolvedRule): RuleContext {
    const device = rt.device;
    return {
      device,
      now: this.clock,
      point: (at) => alarmPoint(device, rule, at),
      title: (vars = {}) => renderTitle(rule.title, { device: device.id, deviceName: device.name, building: device.building, unit: device.unit, ...vars }),
      trip: (point, ts, facts) => this.alarms.trip(point, ts, facts),
      returnToNormal: (point, ts) => this.alarms.returnToNormal(point.key, ts),
      saveTimer: (t) => {
        this.write(() => this.store.saveTimer({ ...t, ruleId: rule.id, device: device.id }));
        this.emit('due', t.due);
      },
      deleteTimer: (instance) => this.write(() => this.store.deleteTimer(rule.id, device.id, instance)),
    };
  }

  /** Brings rule states in line with the open alarms and pending timers of a previous run. */
  private async resume(): Promise<void> {
    for (const alarm of this.alarms.listActive({ suppressed: 'include' })) {
      if (!alarm.conditionActive) continue;
      this.devices.get(alarm.device)?.byRule.get(alarm.ruleId)?.state.resumeAlarm?.(alarm);
    }
    for (const t of await this.store.timers()) {
      const state = this.devices.get(t.device)?.byRule.get(t.ruleId)?.state;
      if (!state?.resumeTimer?.(t)) this.write(() => this.store.deleteTimer(t.ruleId, t.device, t.instance));
    }
  }

  /** A timer write, in order with the alarm changes around it. */
  private write(store: () => Promise<void>): void {
    this.alarms.writes.push(store).catch((err: unknown) => this.fail(err, { store: 'timers' }));
  }

  private fail(err: unknown, context: Record<string, unknown>): void {
    this.counters.errors++;
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.log.error({ err: error, ...context }, 'rule evaluation failed');
  }
}
