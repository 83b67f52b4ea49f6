import type { RuleTypeDefinition } from './rule-type.ts';
import { consumption } from './types/consumption.ts';
import { counterBackwards } from './types/counter-backwards.ts';
import { event } from './types/event.ts';
import { offline } from './types/offline.ts';
import { threshold } from './types/threshold.ts';

export type { TitleTemplate } from './rule-type.ts';
export type { ConsumptionRule } from './types/consumption.ts';
export type { CounterBackwardsRule } from './types/counter-backwards.ts';
export type { EventRule } from './types/event.ts';
export type { OfflineRule } from './types/offline.ts';
export type { LimitSource, ResolvedThresholdRule, ThresholdRule } from './types/threshold.ts';

/**
 * Every rule type, by name: one module each behind RuleTypeDefinition (docs/extending.md). The
 * site file's schema, the defaults of new rules, the checks and the engine's evaluators all come
 * from here, and the rule unions below are derived from it: a new type is its module and one entry.
 */
export const RULE_TYPES = {
  threshold,
  event,
  consumption,
  'counter-backwards': counterBackwards,
  offline,
} as const;

type Definitions = typeof RULE_TYPES;
type ConfiguredOf<D> = D extends RuleTypeDefinition<infer R, infer _S> ? R : never;
type ResolvedOf<D> = D extends RuleTypeDefinition<infer _R, infer S> ? S : never;

/** A rule as the defaults and the site file give it. */
export type Rule = { [T in keyof Definitions]: ConfiguredOf<Definitions[T]> }[keyof Definitions];
/** A rule for one device: what depends on the device (a limit from its params) looked up. */
export type ResolvedRule = { [T in keyof Definitions]: ResolvedOf<Definitions[T]> }[keyof Definitions];
export type RuleType = keyof Definitions;

export const RULE_TYPE_NAMES = Object.keys(RULE_TYPES) as RuleType[];

/** The definition of a rule's type, typed loosely for code that handles every type alike. */
export function definitionOf(type: RuleType): RuleTypeDefinition<Rule, ResolvedRule> {
  return RULE_TYPES[type] as unknown as RuleTypeDefinition<Rule, ResolvedRule>;
}
