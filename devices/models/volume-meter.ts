import type { DeviceConfig } from '../../common/site/types.ts';
import { gasDemand, localTime, waterDemand, type BuildingType, type LocalTime } from './daily-pattern.ts';
import { UsageJitter, type Household } from './household.ts';
import { COUNTER_EPOCH_MS, type DeviceModelBase, type ModelContext } from './model.ts';

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

interface VolumeMeterType<K extends 'meter-water' | 'meter-gas'> {
  kind: K;
  demand: (t: LocalTime, building: BuildingType) => number;
  /** Hours of peak demand the daily pattern adds up to (integral of the demand over a day). */
  peakHours: Record<BuildingType, number>;
  /** Typical daily use of an occupied unit, m³ (params.dailyM3 overrides). */
  dailyM3: Record<BuildingType, number>;
  /** Range of the counter's seeded base, m³. */
  base: [number, number];
}

/**
 * A unit's volume meter (`meter-water`, `meter-gas` profiles): total volume in m³ that only grows,
 * and flow in m³/h following the estate's daily pattern. Params: dailyM3.
 */
class VolumeMeter<K extends 'meter-water' | 'meter-gas'> implements DeviceModelBase {
  readonly kind: K;
  volumeM3: number;
  flowM3h = 0;
  /** Flow that runs whatever the household does (a leak, a running cistern), m³/h. */
  leakM3h = 0;
  /** Counter time runs this many times faster than the clock (scenarios that must show within minutes). */
  speedup = 1;
  private readonly jitter: UsageJitter;
  private readonly peakFlowM3h: number;

  constructor(
    private readonly type: VolumeMeterType<K>,
    readonly config: DeviceConfig,
    private readonly ctx: ModelContext,
    readonly household: Household,
  ) {
    this.kind = type.kind;
    const daily = (config.params.dailyM3 ?? type.dailyM3[ctx.buildingType]) * household.size;
    this.peakFlowM3h = daily / type.peakHours[ctx.buildingType];
    this.jitter = new UsageJitter(ctx.random);
    const days = Math.max(0, (ctx.startMs - COUNTER_EPOCH_MS) / MS_PER_DAY);
    this.volumeM3 = ctx.random.range(type.base[0], type.base[1]) + daily * days * (household.vacant ? 0.2 : 1);
  }

  step(nowMs: number, dtMs: number): void {
    if (dtMs <= 0) return;
    const jitter = this.jitter.step(dtMs);
    const demand = this.type.demand(localTime(nowMs, this.ctx.timezone), this.ctx.buildingType);
    const use = this.household.vacant ? 0 : this.peakFlowM3h * demand * jitter;
    this.flowM3h = use + this.leakM3h;
    this.volumeM3 += (this.flowM3h * dtMs * this.speedup) / MS_PER_HOUR;
  }

  metrics(): Record<string, number> {
    return { volume_m3: this.volumeM3, flow_m3h: this.flowM3h };
  }
}

const WATER: VolumeMeterType<'meter-water'> = {
  kind: 'meter-water',
  demand: waterDemand,
  peakHours: { residential: 7.3, office: 5.6, commercial: 5.6 },
  dailyM3: { residential: 0.4, office: 1.0, commercial: 1.5 },
  base: [5, 60],
};

const GAS: VolumeMeterType<'meter-gas'> = {
  kind: 'meter-gas',
  demand: gasDemand,
  peakHours: { residential: 4.2, office: 0.6, commercial: 0.6 },
  dailyM3: { residential: 0.5, office: 0.05, commercial: 0.5 },
  base: [1, 20],
};

export class WaterMeter extends VolumeMeter<'meter-water'> {
  constructor(config: DeviceConfig, ctx: ModelContext, household: Household) {
    super(WATER, config, ctx, household);
  }
}

export class GasMeter extends VolumeMeter<'meter-gas'> {
  constructor(config: DeviceConfig, ctx: ModelContext, household: Household) {
    super(GAS, config, ctx, household);
  }
}
