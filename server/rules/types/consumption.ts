import { CounterWindow } from '../counter-window.ts';
import type { RuleCommon, RuleContext, RuleState, RuleTypeDefinition } from '../rule-type.ts';
import { METRIC } from './fields.ts';

/** Counter advance within a sliding window (default one hour) above `maxPerHour` scaled to the window. */
export interface ConsumptionRule extends RuleCommon {
  type: 'consumption';
  metric: string;
  maxPerHour: number;
  windowMs: number;
  /** Clears when the advance is back at or below the limit minus this. */
  deadband: number;
}

class ConsumptionState implements RuleState {
  readonly metric: string;
  private readonly point;
  private readonly window: CounterWindow;
  private active = false;
  private lastTs = -Infinity;
  private lastValue: number | undefined;

  constructor(
    private readonly rule: ConsumptionRule,
    private readonly ctx: RuleContext,
  ) {
    this.metric = rule.metric;
    this.point = ctx.point({ metric: rule.metric });
    this.window = new CounterWindow(rule.windowMs);
  }

  onReading(v: number, ts: number): void {
    if (ts <= this.lastTs) return;
    const { rule, ctx } = this;
    // A counter that goes down (meter replaced) starts the window again.
    if (this.lastValue !== undefined && v < this.lastValue) this.window.reset();
    this.lastTs = ts;
    this.lastValue = v;
    const advance = this.window.add(ts, v);
    const limit = (rule.maxPerHour * rule.windowMs) / 3_600_000;
    if (!this.active && advance > limit) {
      this.active = true;
      ctx.trip(this.point, ts, { title: ctx.title({ value: advance, limit, metric: rule.metric }), value: advance, limit, details: { windowMs: rule.windowMs } });
    } else if (this.active && advance <= limit - rule.deadband && this.window.full(ts)) {
      this.active = false;
      ctx.returnToNormal(this.point, ts);
    }
  }

  resumeAlarm(): void {
    this.active = true;
  }
}

export const consumption: RuleTypeDefinition<ConsumptionRule> = {
  type: 'consumption',
  fields: {
    metric: METRIC,
    maxPerHour: { type: 'number', exclusiveMinimum: 0 },
    windowMs: { type: 'integer', minimum: 60_000, maximum: 24 * 3_600_000 },
    deadband: { type: 'number', minimum: 0 },
  },
  required: ['metric', 'maxPerHour', 'windowMs', 'deadband'],
  defaults: { windowMs: 3_600_000, deadband: 0 },
  create: (rule, ctx) => new ConsumptionState(rule, ctx),
};
