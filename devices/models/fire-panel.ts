import type { DeviceConfig } from '../../common/site/types.ts';
import type { Random } from '../random.ts';
import { EventQueue, type DeviceModelBase, type EmittedEvent, type ModelContext } from './model.ts';

const MS_PER_HOUR = 3_600_000;

/**
 * A fire alarm control panel (消防报警主机). Zones are named `{building}-{floor}F-{side}` from the
 * floors of the building's units (or params.floors). Telemetry: zones_alarm, zones_fault,
 * battery_pct, mains_ok; events alarm, fault, restore with the zone.
 */
export class FirePanel implements DeviceModelBase {
  readonly kind = 'fire-panel';
  readonly zones: readonly string[];
  readonly alarms = new Set<string>();
  readonly faults = new Set<string>();
  mainsOk = true;
  batteryPct: number;
  private readonly events = new EventQueue();
  private readonly random: Random;

  constructor(
    readonly config: DeviceConfig,
    ctx: ModelContext,
  ) {
    this.random = ctx.random;
    const floors = [...new Set(ctx.building.units.map((u) => u.floor).filter((f): f is number => f !== undefined))].sort((a, b) => a - b);
    const floorList = floors.length > 0 ? floors : Array.from({ length: config.params.floors ?? 3 }, (_, i) => i + 1);
    this.zones = floorList.flatMap((f) => [`${config.building}-${f}F-east`, `${config.building}-${f}F-west`]);
    this.batteryPct = this.random.range(97, 100);
  }

  /** A detector or call point in `zone` goes into alarm; it stays there until restored. */
  raiseAlarm(zone: string, nowMs: number): void {
    this.checkZone(zone);
    if (this.alarms.has(zone)) return;
    this.alarms.add(zone);
    this.events.push(nowMs, 'alarm', { zone });
  }

  raiseFault(zone: string, nowMs: number): void {
    this.checkZone(zone);
    if (this.faults.has(zone)) return;
    this.faults.add(zone);
    this.events.push(nowMs, 'fault', { zone });
  }

  /** Clears alarm and fault in `zone`, or in every zone when none is given (panel reset). */
  restore(nowMs: number, zone?: string): void {
    const zones = zone !== undefined ? [zone] : [...new Set([...this.alarms, ...this.faults])];
    for (const z of zones) {
      const wasAlarm = this.alarms.delete(z);
      const wasFault = this.faults.delete(z);
      if (wasAlarm || wasFault) this.events.push(nowMs, 'restore', { zone: z });
    }
  }

  step(_nowMs: number, dtMs: number): void {
    if (dtMs <= 0) return;
    const hours = dtMs / MS_PER_HOUR;
    // Standby battery: float-charged on mains, drains in about a day on its own.
    this.batteryPct = this.mainsOk ? Math.min(100, this.batteryPct + 2 * hours) : Math.max(0, this.batteryPct - 4 * hours);
    if (this.mainsOk && this.batteryPct > 99.5) this.batteryPct -= this.random.range(0, 0.05) * Math.min(1, hours * 60);
  }

  metrics(): Record<string, number> {
    return {
      zones_alarm: this.alarms.size,
      zones_fault: this.faults.size,
      battery_pct: Math.round(this.batteryPct * 10) / 10,
      mains_ok: this.mainsOk ? 1 : 0,
    };
  }

  takeEvents(): EmittedEvent[] {
    return this.events.take();
  }

  private checkZone(zone: string): void {
    if (!this.zones.includes(zone)) throw new RangeError(`${this.config.id}: no zone '${zone}' (zones: ${this.zones.join(', ')})`);
  }
}
