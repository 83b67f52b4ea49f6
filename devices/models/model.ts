import type { BuildingConfig, DeviceConfig } from '../../common/site/types.ts';
import type { Random } from '../random.ts';
import type { BuildingType } from './daily-pattern.ts';

/** What a model needs from the estate around it. */
export interface ModelContext {
  random: Random;
  timezone: string;
  building: BuildingConfig;
  buildingType: BuildingType;
  /** Simulation start (epoch ms), for counters that start from a plausible reading. */
  startMs: number;
}

/** An event a device sends (docs/devices.md), before it is published. */
export interface EmittedEvent {
  ts: number;
  event: string;
  attrs: Record<string, string | number | boolean>;
}

/** A simulated device: clock-driven, with no I/O of its own. */
export interface DeviceModelBase {
  readonly config: DeviceConfig;
  /** Advances the device to `nowMs`; `dtMs` is the time since the previous step. */
  step(nowMs: number, dtMs: number): void;
  /** Current value of each metric: the profile's metrics for Modbus devices, telemetry for MQTT devices. */
  metrics(): Record<string, number>;
  /** Events since the last call, oldest first (devices that send events). */
  takeEvents?(): EmittedEvent[];
}

/** Collects events between two publishes. */
export class EventQueue {
  private queue: EmittedEvent[] = [];

  push(ts: number, event: string, attrs: EmittedEvent['attrs'] = {}): void {
    this.queue.push({ ts, event, attrs });
  }

  take(): EmittedEvent[] {
    const out = this.queue;
    this.queue = [];
    return out;
  }
}

/** Reference date for meter counters: a meter's reading at start-up grows with the days since. */
export const COUNTER_EPOCH_MS = Date.UTC(2024, 0, 1);
