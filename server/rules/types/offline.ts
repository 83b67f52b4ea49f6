import type { Alarm } from '../../alarms/alarm.ts';
import type { RuleCommon, RuleContext, RuleState, RuleTypeDefinition } from '../rule-type.ts';

/**
 * No good reading or event from the device for `afterMs` (null: only when its gateway's last will
 * arrives, for devices that only speak on events). Clears when the device is heard again.
 */
export interface OfflineRule extends RuleCommon {
  type: 'offline';
  afterMs: number | null;
}

class OfflineState implements RuleState {
  private readonly point;
  private lastSeen: number;
  private heard = false;
  private active = false;
  /** In alarm because the gateway went offline, rather than by the device's own silence. */
  private byGateway = false;

  constructor(
    private readonly rule: OfflineRule,
    private readonly ctx: RuleContext,
  ) {
    this.point = ctx.point();
    this.lastSeen = ctx.now();
  }

  onHeard(ts: number): void {
    this.heard = true;
    if (ts > this.lastSeen) this.lastSeen = ts;
    if (!this.active) return;
    // A reading replayed from a gateway's outbox is history, not proof the device is back.
    if (this.rule.afterMs !== null && this.lastSeen + this.rule.afterMs <= this.ctx.now()) return;
    this.active = false;
    this.byGateway = false;
    this.ctx.returnToNormal(this.point, ts);
  }

  onGatewayStatus(online: boolean, ts: number, gateway: string): void {
    if (!online) {
      this.byGateway = true;
      if (this.active) return;
      this.active = true;
      this.ctx.trip(this.point, ts, { title: this.ctx.title(), details: { cause: 'gateway-offline', gateway } });
    } else if (this.byGateway) {
      this.byGateway = false;
      // Event-only devices cannot prove they are back; their gateway's return has to.
      if (this.active && this.rule.afterMs === null) {
        this.active = false;
        this.ctx.returnToNormal(this.point, ts);
      }
    }
  }

  tick(now: number): void {
    const due = this.nextDue();
    if (due === undefined || due > now) return;
    this.active = true;
    this.ctx.trip(this.point, due, { title: this.ctx.title(), details: { cause: 'silent', lastSeen: this.lastSeen } });
  }

  nextDue(): number | undefined {
    if (this.active || this.rule.afterMs === null) return undefined;
    return this.lastSeen + this.rule.afterMs;
  }

  resumeAlarm(alarm: Alarm): void {
    this.active = true;
    this.byGateway = alarm.details?.cause === 'gateway-offline';
  }

  onRestored(now: number): void {
    if (!this.heard) this.lastSeen = Math.max(this.lastSeen, now);
  }
}

export const offline: RuleTypeDefinition<OfflineRule> = {
  type: 'offline',
  fields: { afterMs: { type: ['integer', 'null'], minimum: 1000, maximum: 7 * 24 * 3_600_000 } },
  required: ['afterMs'],
  defaults: {},
  create: (rule, ctx) => new OfflineState(rule, ctx),
};
