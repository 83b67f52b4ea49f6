import type { DeviceConfig } from '../../common/site/types.ts';
import type { Random } from '../random.ts';
import { localTime, occupancy, waterDemand, type BuildingType } from './daily-pattern.ts';
import { UsageJitter, type Household } from './household.ts';
import { COUNTER_EPOCH_MS, type DeviceModelBase, type ModelContext } from './model.ts';

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;
const NOMINAL_V = 220;
const POWER_FACTOR = 0.95;
/** Always-on load of an occupied unit (fridge, router, standby), W. */
const STANDBY_W: Record<BuildingType, number> = { residential: 90, office: 250, commercial: 400 };
/** Load when everyone is in and active, W. */
const ACTIVE_W: Record<BuildingType, number> = { residential: 1400, office: 2600, commercial: 4000 };

/**
 * A unit's electricity meter (`meter-electric` profile, SDM120-style): voltage around 220 V with
 * noise, current, active power (W) and total energy (kWh, only grows). A vacant unit draws nothing.
 * Params: standbyW, activeW.
 */
export class ElectricMeter implements DeviceModelBase {
  readonly kind = 'meter-electric';
  energyKwh: number;
  voltageV = NOMINAL_V;
  currentA = 0;
  powerW = 0;
  /** Load that runs whatever the household does (a heater left on), W. */
  leakW = 0;
  /** Counter time runs this many times faster than the clock (scenarios that must show within minutes). */
  speedup = 1;
  private readonly jitter: UsageJitter;
  private readonly random: Random;
  private readonly standbyW: number;
  private readonly activeW: number;
  private supplyOffsetV = 0;

  constructor(
    readonly config: DeviceConfig,
    private readonly ctx: ModelContext,
    readonly household: Household,
  ) {
    this.random = ctx.random;
    this.standbyW = (config.params.standbyW ?? STANDBY_W[ctx.buildingType]) * household.size;
    this.activeW = (config.params.activeW ?? ACTIVE_W[ctx.buildingType]) * household.size;
    this.jitter = new UsageJitter(ctx.random, 0.4, 1.6);
    const dailyKwh = ((this.standbyW + this.activeW * 0.3) * 24) / 1000;
    const days = Math.max(0, (ctx.startMs - COUNTER_EPOCH_MS) / MS_PER_DAY);
    this.energyKwh = this.random.range(20, 300) + dailyKwh * days * (household.vacant ? 0.1 : 1);
  }

  step(nowMs: number, dtMs: number): void {
    if (dtMs <= 0) return;
    const seconds = Math.min(dtMs / 1000, 3600);
    this.supplyOffsetV += -this.supplyOffsetV * Math.min(1, 0.01 * seconds) + this.random.normal(0, 0.15) * Math.sqrt(seconds);
    this.supplyOffsetV = Math.max(-8, Math.min(8, this.supplyOffsetV));
    this.voltageV = NOMINAL_V + this.supplyOffsetV + this.random.normal(0, 0.3);
    const jitter = this.jitter.step(dtMs);
    let load = 0;
    if (!this.household.vacant) {
      const t = localTime(nowMs, this.ctx.timezone);
      const activity = Math.max(occupancy(t, this.ctx.buildingType) * 0.35, waterDemand(t, this.ctx.buildingType));
      load = this.standbyW + this.activeW * activity * jitter;
    }
    this.powerW = load + this.leakW;
    this.currentA = this.powerW > 0 ? this.powerW / (this.voltageV * POWER_FACTOR) : 0;
    this.energyKwh += (this.powerW * dtMs * this.speedup) / (1000 * MS_PER_HOUR);
  }

  metrics(): Record<string, number> {
    return { voltage_v: this.voltageV, current_a: this.currentA, power_w: this.powerW, energy_kwh: this.energyKwh };
  }
}
