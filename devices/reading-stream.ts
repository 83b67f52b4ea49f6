import { createLogger, type Logger } from '../common/logger.ts';
import { decodeDataItem, encodeDataItem } from '../common/dlt645/data-items.ts';
import type { DeviceEvent, DeviceKind, Reading } from '../common/reading.ts';
import { decodeValue, encodeValue } from '../common/register-codec.ts';
import type { DeviceConfig, SiteConfig } from '../common/site/types.ts';
import { ManualClock } from './clock.ts';
import { createModel, type SimulatedDevice, type SimulatedDeviceOf } from './models/create-model.ts';
import { createHousehold, DEFAULT_VACANCY, type Household } from './models/household.ts';
import type { DeviceModelBase } from './models/model.ts';
import { createRandom } from './random.ts';
import { scenarioByName, type ScenarioOptions, type ScenarioRun, type ScenarioTarget } from './scenarios.ts';

export interface ReadingStreamOptions {
  site: SiteConfig;
  /** Simulated start, epoch ms. */
  from: number;
  /** PRNG seed, as the estate simulator's: the same seed gives the same estate. Default 1. */
  seed?: number | string;
  /** How often MQTT devices send telemetry (default 5000 ms, as the simulator). */
  telemetryIntervalMs?: number;
  /** Share of vacant units. Default 0.1. */
  vacancy?: number;
  logger?: Logger;
}

/** What the gateway takes from the estate at one poll: readings and events, in time order. */
export interface StreamStep {
  ts: number;
  readings: Reading[];
  events: DeviceEvent[];
}

/** The value a device's register or data item can carry: what the gateway reads back. */
type Precision = (metric: string, value: number) => number;

function precisionOf(device: DeviceConfig): Precision {
  if (device.modbus) {
    const points = new Map(device.modbus.profile.points.map((p) => [p.metric, p]));
    return (metric, value) => {
      const p = points.get(metric);
      return p ? decodeValue(encodeValue(value, p), p) : value;
    };
  }
  if (device.dlt645) {
    const items = new Map(device.dlt645.dataItems.map((i) => [i.metric, i]));
    return (metric, value) => {
      const item = items.get(metric);
      if (!item) return value;
      const decoded = decodeDataItem(item, encodeDataItem(item, value));
      return decoded.ok ? decoded.value : value;
    };
  }
  return (_metric, value) => value;
}

interface Polled {
  model: SimulatedDevice;
  metrics: string[];
  precision: Precision;
  engUnits: Map<string, string>;
}

function engUnitsOf(device: DeviceConfig): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of device.modbus?.profile.points ?? []) if (p.engUnit) out.set(p.metric, p.engUnit);
  for (const i of device.dlt645?.dataItems ?? []) out.set(i.metric, i.engUnit);
  return out;
}

/**
 * The demo device models of `devices/models/` driven on a simulated clock, giving what a gateway
 * would read from them without any socket: every poll interval each Modbus and DL/T 645 device's
 * points at the precision of its registers or data items (`bad` while the device is offline), every
 * telemetry interval each MQTT device's telemetry, and every event as it happens. For storage
 * estimates and benchmarks that need days of an estate in seconds. Scenarios (devices/scenarios.ts)
 * can be started on it as on the running simulator.
 */
export class ReadingStream implements ScenarioTarget {
  readonly site: SiteConfig;
  readonly log: Logger;
  readonly clock: ManualClock;
  private readonly models = new Map<string, SimulatedDevice>();
  private readonly households = new Map<string, Household>();
  private readonly polled: Polled[] = [];
  private readonly mqtt: SimulatedDevice[] = [];
  private readonly offline = new Set<string>();
  private readonly telemetryIntervalMs: number;
  private lastTelemetryAt = Number.NEGATIVE_INFINITY;
  private runs: ScenarioRun[] = [];

  constructor(options: ReadingStreamOptions) {
    this.site = options.site;
    this.log = options.logger ?? createLogger('devices', { level: 'silent' });
    this.clock = new ManualClock(options.from);
    this.telemetryIntervalMs = options.telemetryIntervalMs ?? 5000;
    const root = createRandom(options.seed ?? 1);
    const vacancy = options.vacancy ?? DEFAULT_VACANCY;
    for (const building of this.site.buildings) {
      for (const unit of building.units) this.households.set(unit.id, createHousehold(unit.id, root.fork(`unit:${unit.id}`), vacancy));
      for (const device of building.devices) {
        const household = (device.unit !== undefined ? this.households.get(device.unit) : undefined) ?? { unit: device.id, vacant: false, size: 1 };
        const model = createModel(device, { random: root.fork(device.id), timezone: this.site.site.timezone, building, buildingType: building.type, startMs: options.from }, household);
        this.models.set(device.id, model);
        const metrics = device.modbus ? device.modbus.profile.points.map((p) => p.metric) : device.dlt645 ? device.dlt645.dataItems.map((i) => i.metric) : undefined;
        if (metrics) this.polled.push({ model, metrics: metrics.filter((m) => m in model.metrics()), precision: precisionOf(device), engUnits: engUnitsOf(device) });
        else this.mqtt.push(model);
      }
    }
  }

  devices(): readonly SimulatedDevice[] {
    return [...this.models.values()];
  }

  device(id: string): SimulatedDevice {
    const model = this.models.get(id);
    if (!model) throw new Error(`no device '${id}' in site '${this.site.site.id}'`);
    return model;
  }

  deviceOf<K extends DeviceKind>(id: string, kind: K): SimulatedDeviceOf<K> {
    const model = this.device(id);
    if (model.kind !== kind) throw new Error(`device '${id}' is a ${model.kind}, not a ${kind}`);
    return model as SimulatedDeviceOf<K>;
  }

  unit(id: string): Household | undefined {
    return this.households.get(id);
  }

  setOnline(id: string, online: boolean): void {
    this.device(id);
    if (online) this.offline.delete(id);
    else this.offline.add(id);
  }

  bank(): undefined {
    return undefined;
  }

  slave(): undefined {
    return undefined;
  }

  /** Starts a scenario of devices/scenarios.ts now; it runs until the stream ends. */
  async scenario(name: string, options?: ScenarioOptions): Promise<Record<string, string>> {
    const run = await scenarioByName(name).apply(this, this.clock, options);
    this.runs.push(run);
    return run.targets;
  }

  /** Advances the models by `stepMs` (the poll interval) and returns what the gateway would take. */
  async step(stepMs: number): Promise<StreamStep> {
    const ts = this.clock.advance(stepMs);
    for (const model of this.models.values()) model.step(ts, stepMs);
    for (const run of this.runs) await run.step?.(ts);
    const readings: Reading[] = [];
    const events: DeviceEvent[] = [];
    for (const { model, metrics, precision, engUnits } of this.polled) {
      const d = model.config;
      const values = model.metrics();
      const bad = this.offline.has(d.id);
      for (const metric of metrics) {
        const r = this.reading(d, metric, bad ? null : precision(metric, values[metric]!), ts);
        const engUnit = engUnits.get(metric);
        if (engUnit !== undefined) r.engUnit = engUnit;
        readings.push(r);
      }
    }
    const telemetry = ts - this.lastTelemetryAt >= this.telemetryIntervalMs;
    if (telemetry) this.lastTelemetryAt = ts;
    for (const model of this.mqtt) {
      const d = model.config;
      const emitted = (model as DeviceModelBase).takeEvents?.() ?? [];
      if (this.offline.has(d.id)) continue;
      for (const e of emitted) events.push({ building: d.building, device: d.id, kind: d.kind, event: e.event, ts: e.ts, attrs: e.attrs, ...(d.unit !== undefined ? { unit: d.unit } : {}) });
      if (telemetry) for (const [metric, value] of Object.entries(model.metrics())) readings.push(this.reading(d, metric, value, ts));
    }
    events.sort((a, b) => a.ts - b.ts);
    return { ts, readings, events };
  }

  private reading(d: DeviceConfig, metric: string, value: number | null, ts: number): Reading {
    const r: Reading = { building: d.building, device: d.id, kind: d.kind, metric, value, ts, quality: value === null ? 'bad' : 'good' };
    if (d.unit !== undefined) r.unit = d.unit;
    return r;
  }
}
