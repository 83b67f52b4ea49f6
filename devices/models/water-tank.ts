import type { DeviceConfig } from '../../common/site/types.ts';
import type { Random } from '../random.ts';
import { localTime, waterDemand, type BuildingType } from './daily-pattern.ts';
import type { DeviceModelBase, ModelContext } from './model.ts';

const MS_PER_HOUR = 3_600_000;

/**
 * A roof water tank with a transfer pump under level control (`tank-level` profile). The controller
 * starts the pump at or below `pumpOnMm` and stops it at or above `pumpOffMm` (hysteresis, as a
 * float or electrode level controller does); the building draws water following the daily pattern.
 * Params (site file): heightMm, lowAlarmMm, highAlarmMm; optional pumpOnMm, pumpOffMm,
 * floatLowMm, floatHighMm, pumpMmPerHour, peakDrawMmPerHour.
 */
export class WaterTank implements DeviceModelBase {
  readonly kind = 'tank';
  readonly heightMm: number;
  readonly lowAlarmMm: number;
  readonly highAlarmMm: number;
  readonly pumpOnMm: number;
  readonly pumpOffMm: number;
  readonly floatLowMm: number;
  readonly floatHighMm: number;
  readonly pumpMmPerHour: number;
  readonly peakDrawMmPerHour: number;
  levelMm: number;
  pumpRunning: boolean;
  /** false: the pump cannot run (tripped, no power), whatever the controller asks. */
  pumpAvailable = true;
  /** Outflow besides consumption (a leak, a burst pipe), mm/h. */
  leakMmPerHour = 0;
  /** Current consumption, mm/h. */
  drawMmPerHour = 0;
  private readonly random: Random;
  private readonly timezone: string;
  private readonly buildingType: BuildingType;
  private jitter = 1;

  constructor(
    readonly config: DeviceConfig,
    ctx: ModelContext,
  ) {
    const p = config.params;
    this.heightMm = p.heightMm ?? 4000;
    this.lowAlarmMm = p.lowAlarmMm ?? this.heightMm * 0.2;
    this.highAlarmMm = p.highAlarmMm ?? this.heightMm * 0.95;
    const band = this.highAlarmMm - this.lowAlarmMm;
    this.pumpOnMm = p.pumpOnMm ?? Math.round(this.lowAlarmMm + band * 0.4);
    this.pumpOffMm = p.pumpOffMm ?? Math.round(this.highAlarmMm - band * 0.1);
    if (!(this.pumpOnMm < this.pumpOffMm)) throw new RangeError(`${config.id}: pumpOnMm must be below pumpOffMm`);
    this.floatLowMm = p.floatLowMm ?? this.lowAlarmMm;
    this.floatHighMm = p.floatHighMm ?? this.highAlarmMm;
    this.pumpMmPerHour = p.pumpMmPerHour ?? this.heightMm * 0.5;
    this.peakDrawMmPerHour = p.peakDrawMmPerHour ?? this.pumpMmPerHour * 0.6;
    this.random = ctx.random;
    this.timezone = ctx.timezone;
    this.buildingType = ctx.buildingType;
    this.levelMm = this.random.range(this.pumpOnMm, this.pumpOffMm);
    this.pumpRunning = this.random.chance(0.5);
  }

  step(nowMs: number, dtMs: number): void {
    if (dtMs <= 0) return;
    const seconds = dtMs / 1000;
    this.jitter += (1 - this.jitter) * Math.min(1, 0.002 * seconds) + this.random.normal(0, 0.03) * Math.sqrt(Math.min(seconds, 3600));
    this.jitter = Math.min(1.4, Math.max(0.6, this.jitter));
    this.drawMmPerHour = this.peakDrawMmPerHour * waterDemand(localTime(nowMs, this.timezone), this.buildingType) * this.jitter;

    if (this.levelMm <= this.pumpOnMm) this.pumpRunning = true;
    else if (this.levelMm >= this.pumpOffMm) this.pumpRunning = false;

    const inflow = this.pumpRunning && this.pumpAvailable ? this.pumpMmPerHour : 0;
    const level = this.levelMm + ((inflow - this.drawMmPerHour - this.leakMmPerHour) * dtMs) / MS_PER_HOUR;
    // The overflow pipe caps the level; an empty tank stays empty.
    this.levelMm = Math.min(this.heightMm, Math.max(0, level));
  }

  metrics(): Record<string, number> {
    return {
      level_mm: Math.round(this.levelMm),
      pump_running: this.pumpRunning && this.pumpAvailable ? 1 : 0,
      float_low: this.levelMm <= this.floatLowMm ? 1 : 0,
      float_high: this.levelMm >= this.floatHighMm ? 1 : 0,
    };
  }
}
