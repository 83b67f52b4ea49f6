import { EventEmitter } from 'node:events';
import type { DeviceEvent, Reading } from '../../common/reading.ts';
import { createLogger, type Logger } from '../../common/logger.ts';
import { gatewayOfBuilding } from '../../common/site/gateways.ts';
import type { DeviceConfig, SiteConfig } from '../../common/site/types.ts';
import type { TimerPhase } from '../alarms/alarm.ts';
import { AlarmService, type AlarmEvents, type AlarmPoint } from '../alarms/alarm-service.ts';
import type { AlarmRepository } from '../records/alarm-repository.ts';
import { CounterWindow } from './counter-window.ts';
import { resolveRules, type ResolvedRule, type ResolvedThresholdRule, type RulesConfig } from './rule-config.ts';
import type { ConsumptionRule, CounterBackwardsRule, EventRule, OfflineRule } from './rule-types.ts';
import { renderTitle, type TitleVars } from './title-template.ts';

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

interface DeviceRuntime {
  device: DeviceConfig;
  gateway: string;
  byMetric: Map<string, MetricState[]>;
  raiseOn: Map<string, EventState[]>;
  clearOn: Map<string, EventState[]>;
  offline?: OfflineState;
}

interface Timer {
  phase: TimerPhase;
  since: number;
  due: number;
}

interface ThresholdState {
  type: 'threshold';
  rule: ResolvedThresholdRule;
  rt: DeviceRuntime;
  point: AlarmPoint;
  active: boolean;
  lastTs: number;
  lastValue: number;
  timer?: Timer;
}

interface ConsumptionState {
  type: 'consumption';
  rule: ConsumptionRule;
  rt: DeviceRuntime;
  point: AlarmPoint;
  active: boolean;
  lastTs: number;
  lastValue?: number;
  window: CounterWindow;
}

interface BackwardsState {
  type: 'counter-backwards';
  rule: CounterBackwardsRule;
  rt: DeviceRuntime;
  point: AlarmPoint;
  active: boolean;
  lastTs: number;
  lastValue?: number;
  lastDecreaseAt: number;
}

type MetricState = ThresholdState | ConsumptionState | BackwardsState;

interface EventState {
  rule: EventRule;
  rt: DeviceRuntime;
  /** Instances (fire zones) in alarm; '' for rules without instances. */
  active: Set<string>;
}

interface OfflineState {
  rule: OfflineRule;
  rt: DeviceRuntime;
  point: AlarmPoint;
  lastSeen: number;
  heard: boolean;
  active: boolean;
  byGateway: boolean;
}

const inAlarm = ({ op, limit }: ResolvedThresholdRule, v: number): boolean => (op === 'above' ? v > limit : v < limit);
const backToNormal = ({ op, limit, deadband }: ResolvedThresholdRule, v: number): boolean => (op === 'above' ? v <= limit - deadband : v >= limit + deadband);

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
 * and raises and clears alarms through an AlarmService. Time advances only through the timestamps
 * it is given and tick(now): it sets no timers of its own. Per reading it does two map look-ups,
 * synchronously, and writes to the store only when a timer starts or an alarm changes: those
 * writes go in order through the alarm service's queue, and `settled()` resolves once they are done.
 */
export class RulesEngine extends EventEmitter<RulesEngineEvents> {
  readonly alarms: AlarmService;
  readonly counters: RulesEngineCounters = { readings: 0, events: 0, unknownDevice: 0, errors: 0 };
  private readonly store: AlarmRepository;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly devices = new Map<string, DeviceRuntime>();
  private readonly offline: OfflineState[] = [];
  private readonly timers = new Map<string, ThresholdState>();

  constructor(options: RulesEngineOptions) {
    super();
    const config = options.rules ?? resolveRules(options.site);
    this.store = options.store;
    this.clock = options.clock ?? Date.now;
    this.log = options.logger ?? createLogger('rules');
    this.alarms = options.alarms ?? new AlarmService({ store: options.store, clock: this.clock, chatter: config.chatter });
    this.alarms.on('alarm-raised', (a) => this.emit('alarm-raised', a));
    this.alarms.on('alarm-cleared', (a) => this.emit('alarm-cleared', a));
    this.alarms.on('alarm-updated', (u) => this.emit('alarm-updated', u));
    this.alarms.on('error', (err) => this.fail(err, { store: 'alarms' }));

    const start = this.clock();
    const servedBy = gatewayOfBuilding(options.site);
    for (const { device, rules } of config.devices.values()) {
      const rt: DeviceRuntime = { device, gateway: servedBy.get(device.building) ?? options.site.gateway.id, byMetric: new Map(), raiseOn: new Map(), clearOn: new Map() };
      for (const rule of rules) this.compile(rt, rule, start);
      this.devices.set(device.id, rt);
    }
  }

  /**
   * Picks up where a previous run left off: its open alarms, shelves and pending timers. Then starts
   * the clock of devices not heard since start-up at `now` and runs every timer already due.
   */
  async restore(now: number): Promise<void> {
    await this.alarms.restore();
    await this.resume();
    for (const s of this.offline) if (!s.heard) s.lastSeen = Math.max(s.lastSeen, now);
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
      if (rt.offline) this.heard(rt.offline, r.ts);
      const states = rt.byMetric.get(r.metric);
      if (!states) return;
      for (const s of states) {
        if (r.ts <= s.lastTs) continue;
        if (s.type === 'threshold') this.threshold(s, r.value, r.ts);
        else if (s.type === 'consumption') this.consumption(s, r.value, r.ts);
        else this.backwards(s, r.value, r.ts);
      }
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
      if (rt.offline) this.heard(rt.offline, e.ts);
      for (const s of rt.raiseOn.get(e.event) ?? []) {
        const instance = s.rule.instanceAttr ? String(e.attrs[s.rule.instanceAttr] ?? '') : '';
        if (s.active.has(instance)) continue;
        s.active.add(instance);
        const point = alarmPoint(rt.device, s.rule, { instance });
        this.alarms.trip(point, e.ts, { title: this.title(s.rule, rt, { instance }), ...(instance ? { details: { [s.rule.instanceAttr!]: instance } } : {}) });
      }
      for (const s of rt.clearOn.get(e.event) ?? []) {
        const attr = s.rule.instanceAttr;
        const instances = attr && e.attrs[attr] !== undefined ? [String(e.attrs[attr])] : [...s.active];
        for (const instance of instances) {
          if (!s.active.delete(instance)) continue;
          this.alarms.returnToNormal(alarmKey(rt.device.id, s.rule.id, instance), e.ts);
        }
      }
    } catch (err) {
      this.fail(err, { device: e.device, event: e.event });
    }
  }

  /** Gateway status; `online: false` is its last will and marks every device behind it offline. */
  onGatewayStatus(gatewayId: string, online: boolean, ts: number): void {
    try {
      for (const rt of this.devices.values()) {
        const s = rt.offline;
        if (rt.gateway !== gatewayId || !s) continue;
        if (!online) {
          s.byGateway = true;
          if (s.active) continue;
          s.active = true;
          this.alarms.trip(s.point, ts, { title: this.title(s.rule, rt, {}), details: { cause: 'gateway-offline', gateway: gatewayId } });
        } else if (s.byGateway) {
          s.byGateway = false;
          // Event-only devices cannot prove they are back; their gateway's return has to.
          if (s.active && s.rule.afterMs === null) {
            s.active = false;
            this.alarms.returnToNormal(s.point.key, ts);
          }
        }
      }
    } catch (err) {
      this.fail(err, { gateway: gatewayId, online });
    }
  }

  /** Runs every timer due at or before `now`: on- and off-delays, silent devices, shelves, chattering. */
  tick(now: number): void {
    try {
      for (const s of this.timers.values()) if (s.timer && s.timer.due <= now) this.expire(s);
      for (const s of this.offline) {
        if (s.active || s.rule.afterMs === null) continue;
        const due = s.lastSeen + s.rule.afterMs;
        if (due > now) continue;
        s.active = true;
        this.alarms.trip(s.point, due, { title: this.title(s.rule, s.rt, {}), details: { cause: 'silent', lastSeen: s.lastSeen } });
      }
      this.alarms.tick(now);
    } catch (err) {
      this.fail(err, { tick: now });
    }
  }

  /** The earliest time tick() has something to do, or undefined when nothing is pending. */
  nextDue(): number | undefined {
    let due = this.alarms.nextDue();
    for (const s of this.timers.values()) if (s.timer && (due === undefined || s.timer.due < due)) due = s.timer.due;
    for (const s of this.offline) {
      if (s.active || s.rule.afterMs === null) continue;
      const d = s.lastSeen + s.rule.afterMs;
      if (due === undefined || d < due) due = d;
    }
    return due;
  }

  /** The rules in force for a device (after site overrides). */
  rulesOf(deviceId: string): ResolvedRule[] {
    const rt = this.devices.get(deviceId);
    if (!rt) return [];
    const out: ResolvedRule[] = [];
    for (const states of rt.byMetric.values()) for (const s of states) out.push(s.rule);
    for (const states of rt.raiseOn.values()) for (const s of states) out.push(s.rule);
    if (rt.offline) out.push(rt.offline.rule);
    return out;
  }

  private compile(rt: DeviceRuntime, rule: ResolvedRule, start: number): void {
    const addMetric = (s: MetricState): void => addTo(rt.byMetric, s.rule.metric, s);
    switch (rule.type) {
      case 'threshold':
        addMetric({ type: 'threshold', rule, rt, point: alarmPoint(rt.device, rule, { metric: rule.metric }), active: false, lastTs: -Infinity, lastValue: NaN });
        break;
      case 'consumption':
        addMetric({ type: 'consumption', rule, rt, point: alarmPoint(rt.device, rule, { metric: rule.metric }), active: false, lastTs: -Infinity, window: new CounterWindow(rule.windowMs) });
        break;
      case 'counter-backwards':
        addMetric({ type: 'counter-backwards', rule, rt, point: alarmPoint(rt.device, rule, { metric: rule.metric }), active: false, lastTs: -Infinity, lastDecreaseAt: -Infinity });
        break;
      case 'event': {
        const s: EventState = { rule, rt, active: new Set() };
        addTo(rt.raiseOn, rule.raiseOn, s);
        for (const name of rule.clearOn) addTo(rt.clearOn, name, s);
        break;
      }
      case 'offline': {
        const s: OfflineState = { rule, rt, point: alarmPoint(rt.device, rule), lastSeen: start, heard: false, active: false, byGateway: false };
        rt.offline = s;
        this.offline.push(s);
        break;
      }
    }
  }

  /** Brings rule states in line with the open alarms and pending timers of a previous run. */
  private async resume(): Promise<void> {
    for (const alarm of this.alarms.listActive()) {
      if (!alarm.conditionActive) continue;
      const rt = this.devices.get(alarm.device);
      if (!rt) continue;
      for (const s of rt.byMetric.get(alarm.metric ?? '') ?? []) {
        if (s.rule.id !== alarm.ruleId) continue;
        s.active = true;
        if (s.type === 'counter-backwards') s.lastDecreaseAt = alarm.lastTripAt;
      }
      for (const list of rt.raiseOn.values()) for (const s of list) if (s.rule.id === alarm.ruleId) s.active.add(alarm.instance ?? '');
      if (rt.offline && rt.offline.rule.id === alarm.ruleId) {
        rt.offline.active = true;
        rt.offline.byGateway = alarm.details?.cause === 'gateway-offline';
      }
    }
    for (const t of await this.store.timers()) {
      const s = this.thresholdState(t.device, t.ruleId);
      // A reading that no longer meets the rule (its limit changed in the site file since) cancels the timer.
      const stale = t.value !== undefined && s !== undefined && (t.phase === 'on-delay' ? !inAlarm(s.rule, t.value) : !backToNormal(s.rule, t.value));
      if (!s || (t.phase === 'off-delay') !== s.active || stale) {
        this.write(() => this.store.deleteTimer(t.ruleId, t.device, t.instance));
        continue;
      }
      s.timer = { phase: t.phase, since: t.since, due: t.due };
      // What the rule had seen when the timer started; a newer reading replaces it as before the restart.
      s.lastTs = t.since;
      if (t.value !== undefined) s.lastValue = t.value;
      this.timers.set(alarmKey(t.device, t.ruleId), s);
    }
  }

  private thresholdState(device: string, ruleId: string): ThresholdState | undefined {
    const rt = this.devices.get(device);
    if (!rt) return undefined;
    for (const list of rt.byMetric.values()) for (const s of list) if (s.type === 'threshold' && s.rule.id === ruleId) return s;
    return undefined;
  }

  private threshold(s: ThresholdState, v: number, ts: number): void {
    if (s.timer && s.timer.due <= ts) this.expire(s);
    s.lastTs = ts;
    s.lastValue = v;
    if (!s.active) {
      if (!inAlarm(s.rule, v)) {
        if (s.timer) this.stopTimer(s);
      } else if (s.rule.forMs === 0) {
        this.activate(s, ts);
      } else if (!s.timer) {
        this.startTimer(s, 'on-delay', ts, ts + s.rule.forMs);
      }
    } else {
      if (!backToNormal(s.rule, v)) {
        if (s.timer) this.stopTimer(s);
      } else if (s.rule.offDelayMs === 0) {
        this.deactivate(s, ts);
      } else if (!s.timer) {
        this.startTimer(s, 'off-delay', ts, ts + s.rule.offDelayMs);
      }
    }
  }

  private expire(s: ThresholdState): void {
    const timer = s.timer!;
    this.stopTimer(s);
    if (timer.phase === 'on-delay') this.activate(s, timer.due);
    else this.deactivate(s, timer.due);
  }

  private activate(s: ThresholdState, ts: number): void {
    s.active = true;
    const value = Number.isNaN(s.lastValue) ? undefined : s.lastValue;
    this.alarms.trip(s.point, ts, {
      title: this.title(s.rule, s.rt, { value, limit: s.rule.limit, metric: s.rule.metric }),
      ...(value !== undefined ? { value } : {}),
      limit: s.rule.limit,
    });
  }

  private deactivate(s: ThresholdState, ts: number): void {
    s.active = false;
    this.alarms.returnToNormal(s.point.key, ts);
  }

  private startTimer(s: ThresholdState, phase: TimerPhase, since: number, due: number): void {
    s.timer = { phase, since, due };
    this.timers.set(s.point.key, s);
    const timer = { ruleId: s.rule.id, device: s.rt.device.id, instance: '', phase, since, due, value: s.lastValue, limit: s.rule.limit };
    this.write(() => this.store.saveTimer(timer));
    this.emit('due', due);
  }

  private stopTimer(s: ThresholdState): void {
    delete s.timer;
    this.timers.delete(s.point.key);
    const { id } = s.rule;
    const device = s.rt.device.id;
    this.write(() => this.store.deleteTimer(id, device, ''));
  }

  /** A timer write, in order with the alarm changes around it. */
  private write(store: () => Promise<void>): void {
    this.alarms.writes.push(store).catch((err: unknown) => this.fail(err, { store: 'timers' }));
  }

  private consumption(s: ConsumptionState, v: number, ts: number): void {
    if (s.lastValue !== undefined && v < s.lastValue) s.window.reset();
    s.lastTs = ts;
    s.lastValue = v;
    const advance = s.window.add(ts, v);
    const limit = (s.rule.maxPerHour * s.rule.windowMs) / 3_600_000;
    if (!s.active && advance > limit) {
      s.active = true;
      this.alarms.trip(s.point, ts, {
        title: this.title(s.rule, s.rt, { value: advance, limit, metric: s.rule.metric }),
        value: advance,
        limit,
        details: { windowMs: s.rule.windowMs },
      });
    } else if (s.active && advance <= limit - s.rule.deadband && s.window.full(ts)) {
      s.active = false;
      this.alarms.returnToNormal(s.point.key, ts);
    }
  }

  private backwards(s: BackwardsState, v: number, ts: number): void {
    const previous = s.lastValue;
    s.lastTs = ts;
    s.lastValue = v;
    if (previous !== undefined && v < previous - s.rule.tolerance) {
      s.lastDecreaseAt = ts;
      if (s.active) return;
      s.active = true;
      this.alarms.trip(s.point, ts, {
        title: this.title(s.rule, s.rt, { value: v, metric: s.rule.metric }),
        value: v,
        details: { previous },
      });
    } else if (s.active && ts - s.lastDecreaseAt >= s.rule.clearAfterMs) {
      s.active = false;
      this.alarms.returnToNormal(s.point.key, ts);
    }
  }

  private heard(s: OfflineState, ts: number): void {
    s.heard = true;
    if (ts > s.lastSeen) s.lastSeen = ts;
    if (!s.active) return;
    // A reading replayed from a gateway's outbox is history, not proof the device is back.
    if (s.rule.afterMs !== null && s.lastSeen + s.rule.afterMs <= this.clock()) return;
    s.active = false;
    s.byGateway = false;
    this.alarms.returnToNormal(s.point.key, ts);
  }

  private title(rule: ResolvedRule, rt: DeviceRuntime, vars: TitleVars) {
    const d = rt.device;
    return renderTitle(rule.title, { device: d.id, deviceName: d.name, building: d.building, unit: d.unit, ...vars });
  }

  private fail(err: unknown, context: Record<string, unknown>): void {
    this.counters.errors++;
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.log.error({ err: error, ...context }, 'rule evaluation failed');
  }
}
