import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { createLogger, type Logger } from '../common/logger.ts';
import type { DeviceKind } from '../common/reading.ts';
import type { DeviceConfig, SiteConfig } from '../common/site/types.ts';
import { wallClock, type Clock } from './clock.ts';
import { startMeterLineSerial, startMeterLineTcp, type MeterLine, type MeterMap } from './dlt645/meter-line.ts';
import { SimulatedMeter } from './dlt645/simulated-meter.ts';
import { RegisterBank } from './modbus/register-bank.ts';
import { startRtuSlave, startTcpSlave, type BankMap, type ModbusSlave } from './modbus/modbus-slave.ts';
import { createModel, type SimulatedDevice, type SimulatedDeviceOf } from './models/create-model.ts';
import { createHousehold, DEFAULT_VACANCY, type Household } from './models/household.ts';
import type { DeviceModelBase, EmittedEvent } from './models/model.ts';
import { createRandom } from './random.ts';
import { scenarioByName, type ScenarioName, type ScenarioOptions, type ScenarioRun, type ScenarioTarget } from './scenarios.ts';

export interface EstateOptions {
  site: SiteConfig;
  brokerUrl: string;
  /** Default `normal`. */
  scenario?: ScenarioName;
  scenarioOptions?: ScenarioOptions;
  /** How often models advance and registers refresh (default 1000 ms). */
  tickMs?: number;
  /** How often MQTT devices send telemetry (default 5000 ms of clock time). */
  telemetryIntervalMs?: number;
  /** PRNG seed: the same seed and clock give the same readings. Default 1. */
  seed?: number | string;
  logger?: Logger;
  /** Serial device serving each serial connection (Modbus RTU, DL/T 645), by connection id: the simulator's end of the line. */
  rtu?: Record<string, string>;
  /** Default: the wall clock. Tests pass a ManualClock and call tick() themselves. */
  clock?: Clock;
  /** Tick on a timer every tickMs. Default: true on the wall clock, false on any other clock. */
  autoTick?: boolean;
  /** Share of units that are vacant (zero consumption). Default 0.1. */
  vacancy?: number;
  /** How long start-up waits for the broker before going on without it (default 5000 ms). */
  brokerWaitMs?: number;
}

/** Publishes counted when the broker acknowledged them (QoS 1). */
export interface PublishCounts {
  telemetry: number;
  events: number;
  /** Telemetry not sent because the broker was unreachable. */
  skipped: number;
  errors: number;
}

export interface EstateEvents {
  error: [Error];
  /** A device event handed to the broker. */
  deviceEvent: [DeviceConfig, EmittedEvent];
}

export interface RunningEstate extends ScenarioTarget, Pick<EventEmitter<EstateEvents>, 'on' | 'once' | 'off'> {
  readonly clock: Clock;
  /** Modbus slaves by connection id. */
  readonly slaves: ReadonlyMap<string, ModbusSlave>;
  /** Lines of DL/T 645 meters by connection id. */
  readonly meterLines: ReadonlyMap<string, MeterLine>;
  /** The simulated DL/T 645 meter of a device. */
  meter(id: string): SimulatedMeter | undefined;
  readonly published: Readonly<PublishCounts>;
  readonly activeScenario: ScenarioName;
  readonly scenarioTargets: Record<string, string>;
  /** Ends the current scenario (undoing its fault) and starts another. */
  scenario(name: string, options?: ScenarioOptions): Promise<void>;
  /** Advances every model to the clock's time, refreshes registers, publishes what is due. */
  tick(): Promise<void>;
  /** Resolves once every publish so far has been acknowledged (or failed). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Longest model step: level control and counters stay accurate when a test jumps the clock by hours. */
const MAX_STEP_MS = 1000;

interface ModbusBinding {
  bank: RegisterBank;
  metrics: string[];
}

class EstateSimulator extends EventEmitter<EstateEvents> implements RunningEstate {
  readonly site: SiteConfig;
  readonly log: Logger;
  readonly clock: Clock;
  readonly slaves = new Map<string, ModbusSlave>();
  readonly meterLines = new Map<string, MeterLine>();
  readonly published: PublishCounts = { telemetry: 0, events: 0, skipped: 0, errors: 0 };
  activeScenario: ScenarioName = 'normal';
  scenarioTargets: Record<string, string> = {};

  private readonly models = new Map<string, SimulatedDevice>();
  private readonly households = new Map<string, Household>();
  private readonly bindings = new Map<string, ModbusBinding>();
  private readonly meters = new Map<string, SimulatedMeter>();
  private readonly mqttDevices: DeviceModelBase[] = [];
  private readonly silenced = new Set<string>();
  private readonly pendingPublishes = new Set<Promise<void>>();
  private readonly telemetryIntervalMs: number;
  private run: ScenarioRun = { targets: {}, stop() {} };
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastStepAt: number;
  private lastTelemetryAt: number | undefined;
  private busy: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: EstateOptions) {
    super();
    this.site = options.site;
    this.log = options.logger ?? createLogger('devices');
    this.clock = options.clock ?? wallClock;
    this.telemetryIntervalMs = options.telemetryIntervalMs ?? 5000;
    this.lastStepAt = this.clock.now();

    const root = createRandom(options.seed ?? 1);
    const vacancy = options.vacancy ?? DEFAULT_VACANCY;
    for (const building of this.site.buildings) {
      for (const unit of building.units) this.households.set(unit.id, createHousehold(unit.id, root.fork(`unit:${unit.id}`), vacancy));
      for (const device of building.devices) {
        const household = (device.unit !== undefined ? this.households.get(device.unit) : undefined) ?? { unit: device.id, vacant: false, size: 1 };
        const model = createModel(
          device,
          { random: root.fork(device.id), timezone: this.site.site.timezone, building, buildingType: building.type, startMs: this.lastStepAt },
          household,
        );
        this.models.set(device.id, model);
        if (device.modbus) {
          const metrics = device.modbus.profile.points.map((p) => p.metric).filter((m) => m in model.metrics());
          const initial = model.metrics();
          this.bindings.set(device.id, { bank: new RegisterBank(device.modbus.profile, { initial: pick(initial, metrics) }), metrics });
        }
        if (device.dlt645) {
          const metrics = device.dlt645.dataItems.map((i) => i.metric);
          this.meters.set(device.id, new SimulatedMeter(device.dlt645.address, { initial: pick(model.metrics(), metrics) }));
        }
        if (device.mqtt) this.mqttDevices.push(model);
      }
    }
  }

  async start(): Promise<void> {
    const scenarioName = this.options.scenario ?? 'normal';
    scenarioByName(scenarioName);
    try {
      await this.startSlaves();
      await this.connectBroker();
      await this.tick();
      await this.scenario(scenarioName, this.options.scenarioOptions);
    } catch (err) {
      await this.stop();
      throw err;
    }
    const autoTick = this.options.autoTick ?? this.clock === wallClock;
    if (autoTick) {
      this.timer = setInterval(() => void this.tick(), this.options.tickMs ?? 1000);
    }
    this.log.info(
      {
        site: this.site.site.id,
        modbus: this.site.modbus.connections.map((c) => ({
          connection: c.id,
          listen: c.tcp ? `${c.tcp.host}:${c.tcp.port}` : (this.options.rtu?.[c.id] ?? 'not served'),
          devices: this.site.devices.filter((d) => d.modbus?.connection === c.id).length,
        })),
        dlt645: this.site.dlt645.connections.map((c) => ({
          connection: c.id,
          listen: c.tcp ? `${c.tcp.host}:${c.tcp.port}` : (this.options.rtu?.[c.id] ?? 'not served'),
          meters: this.site.devices.filter((d) => d.dlt645?.connection === c.id).length,
        })),
        modbusDevices: this.bindings.size,
        dlt645Meters: this.meters.size,
        mqttDevices: this.mqttDevices.length,
        broker: this.options.brokerUrl,
        scenario: this.activeScenario,
        targets: this.scenarioTargets,
      },
      'estate simulator serving',
    );
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

  bank(id: string): RegisterBank | undefined {
    return this.bindings.get(id)?.bank;
  }

  slave(connectionId: string): ModbusSlave | undefined {
    return this.slaves.get(connectionId);
  }

  meter(id: string): SimulatedMeter | undefined {
    return this.meters.get(id);
  }

  setOnline(id: string, online: boolean): void {
    const model = this.device(id);
    const binding = this.bindings.get(id);
    if (binding) binding.bank.fault = online ? 'none' : 'timeout';
    const meter = this.meters.get(id);
    if (meter) meter.fault = online ? 'none' : 'silent';
    if (model.config.mqtt) {
      if (online) this.silenced.delete(id);
      else this.silenced.add(id);
    }
  }

  async scenario(name: string, options?: ScenarioOptions): Promise<void> {
    const next = scenarioByName(name);
    return this.serialised(async () => {
      const now = this.clock.now();
      const previous = this.activeScenario;
      await this.run.stop(now);
      this.run = { targets: {}, stop() {} };
      this.activeScenario = 'normal';
      this.scenarioTargets = {};
      const run = await next.apply(this, this.clock, options);
      this.run = run;
      this.activeScenario = name as ScenarioName;
      this.scenarioTargets = run.targets;
      this.log.info({ scenario: name, previous, targets: run.targets }, 'scenario started');
      this.publishDue(now, false);
    });
  }

  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.serialised(() => this.advance()).catch((err: unknown) => this.fail(err, 'tick failed'));
  }

  private async advance(): Promise<void> {
    const now = this.clock.now();
    for (let t = this.lastStepAt; t < now; ) {
      const dt = Math.min(MAX_STEP_MS, now - t);
      t += dt;
      for (const model of this.models.values()) model.step(t, dt);
    }
    this.lastStepAt = Math.max(this.lastStepAt, now);
    try {
      await this.run.step?.(now);
    } catch (err) {
      this.fail(err, 'scenario step failed');
    }
    for (const [id, { bank, metrics }] of this.bindings) {
      const values = this.device(id).metrics();
      for (const m of metrics) bank.set(m, values[m] as number);
    }
    for (const [id, meter] of this.meters) {
      for (const [metric, value] of Object.entries(this.device(id).metrics())) meter.set(metric, value);
    }
    const telemetryDue = this.lastTelemetryAt === undefined || now - this.lastTelemetryAt >= this.telemetryIntervalMs;
    if (telemetryDue) this.lastTelemetryAt = now;
    this.publishDue(now, telemetryDue);
  }

  async flush(): Promise<void> {
    while (this.pendingPublishes.size > 0) await Promise.all([...this.pendingPublishes]);
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      await this.busy;
      try {
        await this.run.stop(this.clock.now());
        this.publishDue(this.clock.now(), false);
      } catch (err) {
        this.fail(err, 'scenario stop failed');
      }
      const client = this.client;
      if (client) {
        // Unacknowledged QoS 1 messages get a moment to go out; a broker that is gone gets none.
        if (client.connected) await Promise.race([this.flush(), delay(2000)]);
        await Promise.race([client.endAsync(!client.connected).catch(() => undefined), delay(2000)]);
        client.end(true);
      }
      await Promise.all([...this.slaves.values()].map((s) => s.stop().catch(() => undefined)));
      await Promise.all([...this.meterLines.values()].map((l) => l.stop().catch(() => undefined)));
      this.log.info({ published: this.published }, 'estate simulator stopped');
    })();
    return this.stopped;
  }

  private serialised(task: () => Promise<void>): Promise<void> {
    const next = this.busy.then(task);
    this.busy = next.catch(() => undefined);
    return next;
  }

  private async startSlaves(): Promise<void> {
    for (const conn of this.site.modbus.connections) {
      const banks: BankMap = new Map();
      for (const device of this.site.devices) {
        if (device.modbus?.connection === conn.id) banks.set(device.modbus.unitId, this.bindings.get(device.id)!.bank);
      }
      if (conn.tcp) {
        this.slaves.set(conn.id, await startTcpSlave({ host: conn.tcp.host, port: conn.tcp.port, banks }));
      } else if (conn.rtu) {
        const path = this.options.rtu?.[conn.id];
        if (!path) {
          this.log.warn({ connection: conn.id, devices: banks.size }, 'RTU connection not served: no serial path given for it');
          continue;
        }
        this.slaves.set(conn.id, await startRtuSlave({ path, baudRate: conn.rtu.baudRate, parity: conn.rtu.parity, banks }));
      }
    }
    for (const conn of this.site.dlt645.connections) {
      const meters: MeterMap = new Map();
      for (const device of this.site.devices) {
        if (device.dlt645?.connection === conn.id) meters.set(device.dlt645.address, this.meters.get(device.id)!);
      }
      if (conn.tcp) {
        this.meterLines.set(conn.id, await startMeterLineTcp({ host: conn.tcp.host, port: conn.tcp.port, meters }));
      } else if (conn.serial) {
        const path = this.options.rtu?.[conn.id];
        if (!path) {
          this.log.warn({ connection: conn.id, meters: meters.size }, 'DL/T 645 line not served: no serial path given for it');
          continue;
        }
        this.meterLines.set(conn.id, await startMeterLineSerial({ path, baudRate: conn.serial.baudRate, parity: conn.serial.parity, meters }));
      }
    }
  }

  private async connectBroker(): Promise<void> {
    if (this.mqttDevices.length === 0) return;
    const client = mqtt.connect(this.options.brokerUrl, {
      clientId: `${this.site.site.id}-devices-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
    });
    this.client = client;
    let wasConnected = false;
    client.on('connect', () => {
      if (wasConnected) this.log.info({ broker: this.options.brokerUrl }, 'broker connection restored');
      wasConnected = true;
    });
    client.on('offline', () => this.log.warn({ broker: this.options.brokerUrl }, 'broker unreachable; telemetry paused, events queued'));
    client.on('error', (err) => this.log.debug({ err: err.message }, 'mqtt client error'));
    const waitMs = this.options.brokerWaitMs ?? 5000;
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), waitMs);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) this.log.warn({ broker: this.options.brokerUrl, waitMs }, 'broker not reachable yet; going on and retrying');
  }

  private publishDue(now: number, telemetry: boolean): void {
    for (const model of this.mqttDevices) {
      const events = model.takeEvents?.() ?? [];
      const { config } = model;
      if (!config.mqtt || this.silenced.has(config.id)) continue;
      for (const e of events) {
        this.publish(config.mqtt.eventTopic, { ts: e.ts, event: e.event, ...e.attrs }, 'events');
        this.emit('deviceEvent', config, e);
      }
      if (!telemetry) continue;
      if (!this.client?.connected) {
        this.published.skipped++;
        continue;
      }
      this.publish(config.mqtt.telemetryTopic, { ts: now, ...model.metrics() }, 'telemetry');
    }
  }

  private publish(topic: string, payload: Record<string, unknown>, counter: 'telemetry' | 'events'): void {
    const client = this.client;
    if (!client) return;
    const done = new Promise<void>((resolve) => {
      client.publish(topic, JSON.stringify(payload), { qos: 1 }, (err) => {
        if (err) {
          this.published.errors++;
          this.log.debug({ topic, err: err.message }, 'publish failed');
        } else {
          this.published[counter]++;
        }
        resolve();
      });
    });
    this.pendingPublishes.add(done);
    void done.then(() => this.pendingPublishes.delete(done));
  }

  private fail(err: unknown, msg: string): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.log.error({ err: error.message }, msg);
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function pick(values: Record<string, number>, metrics: string[]): Record<string, number> {
  return Object.fromEntries(metrics.map((m) => [m, values[m] as number]));
}

/** Starts the simulated estate: Modbus slaves, the MQTT publisher and the scenario. */
export async function startEstate(options: EstateOptions): Promise<RunningEstate> {
  const estate = new EstateSimulator(options);
  await estate.start();
  return estate;
}
