import type { GatewayStatus } from '../../common/topics.ts';
import type { AlarmCategory, AlarmSeverity, LocalizedText } from '../alarms/alarm.ts';
import type { EstateTopology } from './estate-topology.ts';

/** One alarm point of a condition, as one gateway status shows it. */
export interface InfrastructurePoint {
  /** '' for a condition with one point per gateway; otherwise what it is about (a connection id). */
  instance: string;
  active: boolean;
  /** When the condition entered (or left) this state, epoch ms. */
  since: number;
  /** Devices that depend on the point: their offline alarms are suppressed while it is in alarm. */
  dependents: readonly string[];
  /** Values for the title besides `{gateway}`, `{instance}` and `{count}`. */
  vars?: Record<string, string | number>;
  /** Facts kept with the alarm besides `affected` and `devices`. */
  details?: Record<string, string | number | boolean>;
}

export interface ConditionContext {
  topology: EstateTopology;
  /** When the server received the status (a last will's `ts` is when its connection was attempted). */
  receivedAt: number;
}

/**
 * A condition a gateway reports about itself or its links: the gateway offline, a connection
 * down, and whatever a new status section adds (docs/upstream.md). One module each, listed in
 * `conditions.ts`; the InfrastructureMonitor raises and clears its alarms and suppresses the
 * consequences on the dependents.
 */
export interface InfrastructureCondition {
  /** The rule id of its alarm points; no rule of the site file may use it. */
  readonly id: string;
  readonly category: AlarmCategory;
  readonly severity: AlarmSeverity;
  /** `{gateway}`, `{instance}`, `{count}` (dependents) and the point's `vars`. */
  readonly title: LocalizedText;
  /**
   * Every point of the condition as the status shows it; a point known before and missing here
   * has returned to normal. Undefined when the status says nothing about the condition (a last
   * will, a gateway without the section): what is known stays.
   */
  evaluate(status: GatewayStatus, ctx: ConditionContext): InfrastructurePoint[] | undefined;
}
