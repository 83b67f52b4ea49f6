import type { DeviceKind } from '../../common/reading.ts';
import type { DeviceConfig } from '../../common/site/types.ts';
import { DoorController } from './door-controller.ts';
import { ElectricMeter } from './electric-meter.ts';
import { EmergencyButton } from './emergency-button.ts';
import { FirePanel } from './fire-panel.ts';
import { GasMeter, WaterMeter } from './volume-meter.ts';
import type { Household } from './household.ts';
import type { ModelContext } from './model.ts';
import { WaterTank } from './water-tank.ts';

/** Every simulated device; `kind` tells which. */
export type SimulatedDevice = WaterTank | WaterMeter | ElectricMeter | GasMeter | FirePanel | DoorController | EmergencyButton;

export type SimulatedDeviceOf<K extends DeviceKind> = Extract<SimulatedDevice, { kind: K }>;

/** The model of each device kind, in one explicit map. Meters need the household of their unit. */
const MODELS: { [K in DeviceKind]: (device: DeviceConfig, ctx: ModelContext, household: Household) => SimulatedDeviceOf<K> } = {
  tank: (d, ctx) => new WaterTank(d, ctx),
  'meter-water': (d, ctx, h) => new WaterMeter(d, ctx, h),
  'meter-electric': (d, ctx, h) => new ElectricMeter(d, ctx, h),
  'meter-gas': (d, ctx, h) => new GasMeter(d, ctx, h),
  'fire-panel': (d, ctx) => new FirePanel(d, ctx),
  door: (d, ctx) => new DoorController(d, ctx),
  'emergency-button': (d, ctx) => new EmergencyButton(d, ctx),
};

export function createModel(device: DeviceConfig, ctx: ModelContext, household: Household): SimulatedDevice {
  return MODELS[device.kind](device, ctx, household);
}
