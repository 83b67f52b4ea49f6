import type { DeviceConfig } from '../../common/site/types.ts';
import { EventQueue, type DeviceModelBase, type EmittedEvent, type ModelContext } from './model.ts';

const MS_PER_DAY = 86_400_000;

/**
 * An emergency call button (紧急呼叫按钮), battery powered. Telemetry: battery_pct, pressed (0/1);
 * events pressed and reset. A pressed button stays latched until it is reset.
 */
export class EmergencyButton implements DeviceModelBase {
  readonly kind = 'emergency-button';
  pressed = false;
  batteryPct: number;
  private readonly events = new EventQueue();

  constructor(
    readonly config: DeviceConfig,
    ctx: ModelContext,
  ) {
    this.batteryPct = ctx.random.range(70, 100);
  }

  press(nowMs: number): void {
    if (this.pressed) return;
    this.pressed = true;
    this.events.push(nowMs, 'pressed');
  }

  reset(nowMs: number): void {
    if (!this.pressed) return;
    this.pressed = false;
    this.events.push(nowMs, 'reset');
  }

  step(_nowMs: number, dtMs: number): void {
    // A lithium cell lasting a few years.
    if (dtMs > 0) this.batteryPct = Math.max(0, this.batteryPct - (dtMs / MS_PER_DAY) * 0.05);
  }

  metrics(): Record<string, number> {
    return { battery_pct: Math.round(this.batteryPct * 10) / 10, pressed: this.pressed ? 1 : 0 };
  }

  takeEvents(): EmittedEvent[] {
    return this.events.take();
  }
}
