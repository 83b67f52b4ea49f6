import type { Random } from '../random.ts';

/**
 * The people behind a unit's meters. A vacant unit (custody, unsold, between tenants) consumes
 * nothing; `size` scales what an occupied unit uses.
 */
export interface Household {
  readonly unit: string;
  vacant: boolean;
  readonly size: number;
}

/** Share of units that start vacant when the site file does not say. */
export const DEFAULT_VACANCY = 0.1;

export function createHousehold(unit: string, random: Random, vacancy = DEFAULT_VACANCY): Household {
  return { unit, vacant: random.chance(vacancy), size: random.range(0.6, 1.4) };
}

/** A slowly wandering usage factor around 1, so consumption is not a clean curve. */
export class UsageJitter {
  value = 1;

  constructor(
    private readonly random: Random,
    private readonly min = 0.3,
    private readonly max = 1.7,
  ) {}

  step(dtMs: number): number {
    const seconds = Math.min(dtMs / 1000, 3600);
    this.value += (1 - this.value) * Math.min(1, 0.005 * seconds) + this.random.normal(0, 0.05) * Math.sqrt(seconds);
    this.value = Math.min(this.max, Math.max(this.min, this.value));
    return this.value;
  }
}
