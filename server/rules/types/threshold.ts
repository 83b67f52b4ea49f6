import type { PendingTimer, TimerPhase } from '../../alarms/alarm.ts';
import type { RuleCommon, RuleContext, RuleState, RuleTypeDefinition } from '../rule-type.ts';
import { METRIC, MS } from './fields.ts';

/** A number, or a device parameter from the site file (`params`) with an optional fallback. */
export type LimitSource = number | { param: string; default?: number };

/**
 * Metric above or below a limit for `forMs` (on-delay). Clears when the value is back past
 * `limit ∓ deadband` for `offDelayMs`. Readings of bad quality are ignored.
 */
export interface ThresholdRule extends RuleCommon {
  type: 'threshold';
  metric: string;
  op: 'above' | 'below';
  limit: LimitSource;
  forMs: number;
  offDelayMs: number;
  deadband: number;
}

/** A threshold whose limit has been looked up in the device's params. */
export type ResolvedThresholdRule = Omit<ThresholdRule, 'limit'> & { limit: number };

const inAlarm = ({ op, limit }: ResolvedThresholdRule, v: number): boolean => (op === 'above' ? v > limit : v < limit);
const backToNormal = ({ op, limit, deadband }: ResolvedThresholdRule, v: number): boolean => (op === 'above' ? v <= limit - deadband : v >= limit + deadband);

interface Timer {
  phase: TimerPhase;
  since: number;
  due: number;
}

class ThresholdState implements RuleState {
  readonly metric: string;
  private readonly point;
  private active = false;
  private lastTs = -Infinity;
  private lastValue = NaN;
  private timer: Timer | undefined;

  constructor(
    private readonly rule: ResolvedThresholdRule,
    private readonly ctx: RuleContext,
  ) {
    this.metric = rule.metric;
    this.point = ctx.point({ metric: rule.metric });
  }

  onReading(v: number, ts: number): void {
    if (ts <= this.lastTs) return;
    if (this.timer && this.timer.due <= ts) this.expire();
    this.lastTs = ts;
    this.lastValue = v;
    const { rule } = this;
    if (!this.active) {
      if (!inAlarm(rule, v)) {
        if (this.timer) this.stopTimer();
      } else if (rule.forMs === 0) {
        this.activate(ts);
      } else if (!this.timer) {
        this.startTimer('on-delay', ts, ts + rule.forMs);
      }
    } else if (!backToNormal(rule, v)) {
      if (this.timer) this.stopTimer();
    } else if (rule.offDelayMs === 0) {
      this.deactivate(ts);
    } else if (!this.timer) {
      this.startTimer('off-delay', ts, ts + rule.offDelayMs);
    }
  }

  tick(now: number): void {
    if (this.timer && this.timer.due <= now) this.expire();
  }

  nextDue(): number | undefined {
    return this.timer?.due;
  }

  resumeAlarm(): void {
    this.active = true;
  }

  resumeTimer(t: PendingTimer): boolean {
    // A reading that no longer meets the rule (its limit changed in the site file since) cancels the timer.
    const stale = t.value !== undefined && (t.phase === 'on-delay' ? !inAlarm(this.rule, t.value) : !backToNormal(this.rule, t.value));
    if ((t.phase === 'off-delay') !== this.active || stale) return false;
    this.timer = { phase: t.phase, since: t.since, due: t.due };
    // What the rule had seen when the timer started; a newer reading replaces it as before the restart.
    this.lastTs = t.since;
    if (t.value !== undefined) this.lastValue = t.value;
    return true;
  }

  private expire(): void {
    const timer = this.timer!;
    this.stopTimer();
    if (timer.phase === 'on-delay') this.activate(timer.due);
    else this.deactivate(timer.due);
  }

  private activate(ts: number): void {
    this.active = true;
    const value = Number.isNaN(this.lastValue) ? undefined : this.lastValue;
    const { limit, metric } = this.rule;
    this.ctx.trip(this.point, ts, { title: this.ctx.title({ value, limit, metric }), ...(value !== undefined ? { value } : {}), limit });
  }

  private deactivate(ts: number): void {
    this.active = false;
    this.ctx.returnToNormal(this.point, ts);
  }

  private startTimer(phase: TimerPhase, since: number, due: number): void {
    this.timer = { phase, since, due };
    this.ctx.saveTimer({ instance: '', phase, since, due, value: this.lastValue, limit: this.rule.limit });
  }

  private stopTimer(): void {
    this.timer = undefined;
    this.ctx.deleteTimer('');
  }
}

export const threshold: RuleTypeDefinition<ThresholdRule, ResolvedThresholdRule> = {
  type: 'threshold',
  fields: {
    metric: METRIC,
    op: { enum: ['above', 'below'] },
    limit: {
      oneOf: [
        { type: 'number' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['param'],
          properties: { param: { type: 'string', minLength: 1 }, default: { type: 'number' } },
        },
      ],
    },
    forMs: MS,
    offDelayMs: MS,
    deadband: { type: 'number', minimum: 0 },
  },
  required: ['metric', 'op', 'limit', 'forMs', 'offDelayMs', 'deadband'],
  defaults: { forMs: 0, offDelayMs: 0, deadband: 0 },
  resolve(rule, { device, devicePath }) {
    if (typeof rule.limit === 'number') return { ...rule, limit: rule.limit };
    const limit = device.params[rule.limit.param] ?? rule.limit.default;
    if (limit !== undefined) return { ...rule, limit };
    return { path: `${devicePath}/params`, reason: `rule '${rule.id}' needs params.${rule.limit.param} (or disable the rule under /rules/devices/${device.id}/${rule.id})` };
  },
  create: (rule, ctx) => new ThresholdState(rule, ctx),
};
