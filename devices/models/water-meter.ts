import type { DeviceConfig } from '../../common/site/types.ts';
import { localTime, waterDemand, type BuildingType } from './daily-pattern.ts';
import { UsageJitter, type Household } from './household.ts';
import { COUNTER_EPOCH_MS, type DeviceModelBase, type ModelContext } from './model.ts';

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;
/** Hours of peak demand the daily water pattern adds up to (integral of waterDemand over a day). */
const PATTERN_PEAK_HOURS: Record<BuildingType, number> = { residential: 7.3, office: 5.6, commercial: 5.6 };
const DAILY_M3: Record<BuildingType, number> = { residential: 0.4, office: 1.0, commercial: 1.5 };

/**
 * A unit's water meter (`meter-water` profile): total volume (m³, only grows) and flow (m³/h).
 * Params: dailyM3 (typical daily use of an occupied unit).
 */
export class WaterMeter implements DeviceModelBase {
  readonly kind = 'meter-water';
  volumeM3: number;
  flowM3h = 0;
  /** Flow that runs whatever the household does (a leak, a running cistern), m³/h. */
  leakM3h = 0;
  /** Counter time runs this many times faster than the clock (scenarios that must show within minutes). */
  speedup = 1;
  private readonly jitter: UsageJitter;
  private readonly peakFlowM3h: number;

  constructor(
    readonly config: DeviceConfig,
    private readonly ctx: ModelContext,
    readonly household: Household,
  ) {
    const daily = (config.params.dailyM3 ?? DAILY_M3[ctx.buildingType]) * household.size;
    this.peakFlowM3h = daily / PATTERN_PEAK_HOURS[ctx.buildingType];
    this.jitter = new UsageJitter(ctx.random);
    const days = Math.max(0, (ctx.startMs - COUNTER_EPOCH_MS) / MS_PER_DAY);
    this.volumeM3 = ctx.random.range(5, 60) + daily * days * (household.vacant ? 0.2 : 1);
  }

  step(nowMs: number, dtMs: number): void {
    if (dtMs <= 0) return;
    const jitter = this.jitter.step(dtMs);
    const use = this.household.vacant ? 0 : this.peakFlowM3h * waterDemand(localTime(nowMs, this.ctx.timezone), this.ctx.buildingType) * jitter;
    this.flowM3h = use + this.leakM3h;
    this.volumeM3 += (this.flowM3h * dtMs * this.speedup) / MS_PER_HOUR;
  }

  metrics(): Record<string, number> {
    return { volume_m3: this.volumeM3, flow_m3h: this.flowM3h };
  }
}
