import type { AlarmCategory, AlarmSeverity, LocalizedText } from '../alarms/alarm.ts';

/**
 * Title templates: `{device}`, `{deviceName}`, `{building}`, `{unit}`, `{instance}` (fire zone),
 * `{metric}`, `{value}`, `{limit}` are replaced when the alarm is raised.
 */
export type TitleTemplate = LocalizedText;

interface RuleCommon {
  id: string;
  category: AlarmCategory;
  severity: AlarmSeverity;
  title: TitleTemplate;
  enabled: boolean;
}

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

/** Counter advance within a sliding window (default one hour) above `maxPerHour` scaled to the window. */
export interface ConsumptionRule extends RuleCommon {
  type: 'consumption';
  metric: string;
  maxPerHour: number;
  windowMs: number;
  /** Clears when the advance is back at or below the limit minus this. */
  deadband: number;
}

/** A cumulative counter that decreases by more than `tolerance`. Clears after `clearAfterMs` without another decrease. */
export interface CounterBackwardsRule extends RuleCommon {
  type: 'counter-backwards';
  metric: string;
  tolerance: number;
  clearAfterMs: number;
}

/**
 * No good reading or event from the device for `afterMs` (null: only when its gateway's last will
 * arrives, for devices that only speak on events). Clears when the device is heard again.
 */
export interface OfflineRule extends RuleCommon {
  type: 'offline';
  afterMs: number | null;
}

export type Rule = ThresholdRule | EventRule | ConsumptionRule | CounterBackwardsRule | OfflineRule;
export type RuleType = Rule['type'];
