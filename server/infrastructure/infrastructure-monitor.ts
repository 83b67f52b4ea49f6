import { createLogger, type Logger } from '../../common/logger.ts';
import type { GatewayStatus } from '../../common/topics.ts';
import { INFRASTRUCTURE_KIND, type Alarm, type AlarmPoint } from '../alarms/alarm.ts';
import type { AlarmService } from '../alarms/alarm-service.ts';
import { renderTitle } from '../rules/title-template.ts';
import { INFRASTRUCTURE_CONDITIONS } from './conditions.ts';
import type { EstateTopology } from './estate-topology.ts';
import type { InfrastructureCondition, InfrastructurePoint } from './infrastructure-condition.ts';

/** `ruleType` of the alarms of gateway conditions. */
export const INFRASTRUCTURE_RULE_TYPE = 'infrastructure';

/** Where a gateway status goes after its own conditions: the rules of the devices behind it. */
export interface DeviceStatusSink {
  onGatewayStatus(gatewayId: string, online: boolean, ts: number): void;
}

export interface InfrastructureMonitorOptions {
  alarms: AlarmService;
  topology: EstateTopology;
  /** The devices' rules; they hear of the status after the conditions, so their consequences find their cause in alarm. */
  devices: DeviceStatusSink;
  clock: () => number;
  conditions?: readonly InfrastructureCondition[];
  logger?: Logger;
}

interface KnownPoint {
  gateway: string;
  condition: string;
}

/** Longest device list kept in an alarm (the work order's detail has room for about this much). */
const DEVICE_LIST_MAX = 2500;

/**
 * Infrastructure alarm points: the conditions a gateway reports about itself and its links (a
 * gateway offline, a connection down, …), raised and cleared through the alarm service like any
 * alarm, so they get work orders, shelving and the report. While one is in alarm it is the cause
 * of its dependents' offline alarms, which the alarm service then suppresses.
 */
export class InfrastructureMonitor {
  readonly conditions: readonly InfrastructureCondition[];
  private readonly active = new Map<string, KnownPoint>();
  private readonly log: Logger;

  constructor(private readonly options: InfrastructureMonitorOptions) {
    this.conditions = options.conditions ?? INFRASTRUCTURE_CONDITIONS;
    this.log = options.logger ?? createLogger('infrastructure');
  }

  /** Takes up the points a previous run left in alarm (after the alarm service restored). */
  restore(): void {
    for (const a of this.options.alarms.listActive({ suppressed: 'include' })) {
      if (a.ruleType !== INFRASTRUCTURE_RULE_TYPE || !a.conditionActive) continue;
      this.active.set(a.key, { gateway: a.device, condition: a.ruleId });
      this.options.alarms.suppression.causeDown(a.key, dependentsOf(a));
    }
  }

  /** A gateway status that is news: its conditions first, then the devices' rules. */
  onGatewayStatus(status: GatewayStatus): void {
    const receivedAt = this.options.clock();
    for (const condition of this.conditions) {
      try {
        this.apply(condition, status, receivedAt);
      } catch (err) {
        this.log.error({ err, gateway: status.gateway, condition: condition.id }, 'gateway condition failed');
      }
    }
    const at = status.online ? (status.since ?? status.ts) : Math.max(status.ts, receivedAt);
    this.options.devices.onGatewayStatus(status.gateway, status.online, at);
  }

  /** Alarm points of gateway conditions in alarm now. */
  activePoints(): string[] {
    return [...this.active.keys()];
  }

  private apply(condition: InfrastructureCondition, status: GatewayStatus, receivedAt: number): void {
    const points = condition.evaluate(status, { topology: this.options.topology, receivedAt });
    if (points === undefined) return;
    const seen = new Set<string>();
    for (const p of points) {
      const point = this.point(condition, status.gateway, p);
      seen.add(point.key);
      if (p.active) this.inAlarm(condition, status.gateway, point, p);
      else this.normal(point.key, p.since);
    }
    for (const [key, known] of this.active) {
      if (known.gateway === status.gateway && known.condition === condition.id && !seen.has(key)) this.normal(key, status.ts);
    }
  }

  private inAlarm(condition: InfrastructureCondition, gateway: string, point: AlarmPoint, p: InfrastructurePoint): void {
    const { alarms } = this.options;
    // The cause first: the consequences its trip sets off must find it in alarm.
    alarms.suppression.causeDown(point.key, p.dependents);
    if (this.active.has(point.key)) return;
    this.active.set(point.key, { gateway, condition: condition.id });
    const devices = p.dependents.join(', ');
    const title = renderTitle(condition.title, { gateway, instance: p.instance, count: p.dependents.length, ...p.vars });
    alarms.trip(point, p.since, {
      title,
      details: { ...p.details, affected: p.dependents.length, devices: devices.length <= DEVICE_LIST_MAX ? devices : `${devices.slice(0, DEVICE_LIST_MAX)}…` },
    });
  }

  private normal(key: string, ts: number): void {
    if (!this.active.delete(key)) return;
    this.options.alarms.returnToNormal(key, ts);
    this.options.alarms.suppression.causeReturned(key, ts);
  }

  private point(condition: InfrastructureCondition, gateway: string, p: InfrastructurePoint): AlarmPoint {
    return {
      key: p.instance ? `${gateway}/${condition.id}/${p.instance}` : `${gateway}/${condition.id}`,
      ruleId: condition.id,
      ruleType: INFRASTRUCTURE_RULE_TYPE,
      device: gateway,
      building: this.options.topology.buildingOf(p.dependents),
      kind: INFRASTRUCTURE_KIND,
      ...(p.instance ? { instance: p.instance } : {}),
      category: condition.category,
      severity: condition.severity,
    };
  }
}

/** The devices an infrastructure alarm names (its `devices` detail). */
export function dependentsOf(alarm: Pick<Alarm, 'details'>): string[] {
  const list = alarm.details?.devices;
  return typeof list === 'string' && list !== '' ? list.replace(/…$/, '').split(', ') : [];
}
