import type { DeviceEvent } from '../../../common/reading.ts';
import { DEVICE_EVENTS } from '../../../common/reading.ts';
import type { RuleCommon, RuleContext, RuleState, RuleTypeDefinition } from '../rule-type.ts';
import { EVENT_NAME } from './fields.ts';

/**
 * Raised by one device event, cleared by others. With `instanceAttr` (e.g. `zone`) each value of
 * that attribute is its own alarm; a clearing event without the attribute clears every instance.
 */
export interface EventRule extends RuleCommon {
  type: 'event';
  raiseOn: string;
  clearOn: string[];
  instanceAttr?: string;
}

class EventState implements RuleState {
  readonly events: readonly string[];
  /** Instances (fire zones) in alarm; '' for rules without instances. */
  private readonly active = new Set<string>();

  constructor(
    private readonly rule: EventRule,
    private readonly ctx: RuleContext,
  ) {
    this.events = [rule.raiseOn, ...rule.clearOn];
  }

  onEvent(e: DeviceEvent): void {
    const { rule, ctx } = this;
    const attr = rule.instanceAttr;
    if (e.event === rule.raiseOn) {
      const instance = attr ? String(e.attrs[attr] ?? '') : '';
      if (!this.active.has(instance)) {
        this.active.add(instance);
        ctx.trip(ctx.point({ instance }), e.ts, { title: ctx.title({ instance }), ...(instance ? { details: { [attr!]: instance } } : {}) });
      }
    }
    if (!rule.clearOn.includes(e.event)) return;
    const instances = attr && e.attrs[attr] !== undefined ? [String(e.attrs[attr])] : [...this.active];
    for (const instance of instances) {
      if (this.active.delete(instance)) ctx.returnToNormal(ctx.point({ instance }), e.ts);
    }
  }

  resumeAlarm(alarm: { instance?: string }): void {
    this.active.add(alarm.instance ?? '');
  }
}

export const event: RuleTypeDefinition<EventRule> = {
  type: 'event',
  fields: {
    raiseOn: EVENT_NAME,
    clearOn: { type: 'array', minItems: 1, items: EVENT_NAME },
    instanceAttr: { type: 'string', minLength: 1 },
  },
  required: ['raiseOn', 'clearOn'],
  defaults: {},
  checkForKind(rule, kind, path, problems) {
    const events = DEVICE_EVENTS[kind] ?? [];
    const named: [string, string][] = [['raiseOn', rule.raiseOn], ...rule.clearOn.map((e, i): [string, string] => [`clearOn/${i}`, e])];
    const bad = named.filter(([, e]) => !events.includes(e));
    for (const [field, e] of bad) {
      problems.push({ path: `${path}/${field}`, reason: events.length ? `'${e}' is not an event of '${kind}' (${events.join(', ')})` : `'${kind}' devices send no events` });
    }
    return bad.length === 0;
  },
  create: (rule, ctx) => new EventState(rule, ctx),
};
