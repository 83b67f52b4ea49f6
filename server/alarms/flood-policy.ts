/**
 * EEMUA 191 / ISA-18.2: more than `limit` alarms announced within `windowMs` for the estate is an
 * alarm flood. The flood ends when the alarms of the last `windowMs` are back at half the limit.
 */
export interface FloodPolicy {
  limit: number;
  windowMs: number;
}

export const DEFAULT_FLOOD_POLICY: FloodPolicy = { limit: 10, windowMs: 600_000 };

/** Alarms in the window at or below which a flood ends. */
export function floodEndsAt(policy: FloodPolicy): number {
  return Math.floor(policy.limit / 2);
}
