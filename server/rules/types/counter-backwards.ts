import type { Alarm } from '../../alarms/alarm.ts';
import type { RuleCommon, RuleContext, RuleState, RuleTypeDefinition } from '../rule-type.ts';
import { METRIC, MS } from './fields.ts';

/** A cumulative counter that decreases by more than `tolerance`. Clears after `clearAfterMs` without another decrease. */
export interface CounterBackwardsRule extends RuleCommon {
  type: 'counter-backwards';
  metric: string;
  tolerance: number;
  clearAfterMs: number;
}

class CounterBackwardsState implements RuleState {
  readonly metric: string;
  private readonly point;
  private active = false;
  private lastTs = -Infinity;
  private lastValue: number | undefined;
  private lastDecreaseAt = -Infinity;

  constructor(
    private readonly rule: CounterBackwardsRule,
    private readonly ctx: RuleContext,
  ) {
    this.metric = rule.metric;
    this.point = ctx.point({ metric: rule.metric });
  }

  onReading(v: number, ts: number): void {
    if (ts <= this.lastTs) return;
    const { rule, ctx } = this;
    const previous = this.lastValue;
    this.lastTs = ts;
    this.lastValue = v;
    if (previous !== undefined && v < previous - rule.tolerance) {
      this.lastDecreaseAt = ts;
      if (this.active) return;
      this.active = true;
      ctx.trip(this.point, ts, { title: ctx.title({ value: v, metric: rule.metric }), value: v, details: { previous } });
    } else if (this.active && ts - this.lastDecreaseAt >= rule.clearAfterMs) {
      this.active = false;
      ctx.returnToNormal(this.point, ts);
    }
  }

  resumeAlarm(alarm: Alarm): void {
    this.active = true;
    this.lastDecreaseAt = alarm.lastTripAt;
  }
}

export const counterBackwards: RuleTypeDefinition<CounterBackwardsRule> = {
  type: 'counter-backwards',
  fields: { metric: METRIC, tolerance: { type: 'number', minimum: 0 }, clearAfterMs: MS },
  required: ['metric', 'tolerance', 'clearAfterMs'],
  defaults: { tolerance: 0, clearAfterMs: 3_600_000 },
  create: (rule, ctx) => new CounterBackwardsState(rule, ctx),
};
