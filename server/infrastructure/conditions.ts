import { connectionDown } from './conditions/connection-down.ts';
import { gatewayOffline } from './conditions/gateway-offline.ts';
import { storageBudget } from './conditions/storage-budget.ts';
import type { InfrastructureCondition } from './infrastructure-condition.ts';

/** The conditions gateways report about themselves and their links, in the order they are evaluated (docs/upstream.md). */
export const INFRASTRUCTURE_CONDITIONS: readonly InfrastructureCondition[] = [gatewayOffline, connectionDown, storageBudget];

/** Rule ids the conditions use: a rule of the site file may not take them. */
export const INFRASTRUCTURE_RULE_IDS: ReadonlySet<string> = new Set(INFRASTRUCTURE_CONDITIONS.map((c) => c.id));
