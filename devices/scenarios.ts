import type { Logger } from '../common/logger.ts';
import type { DeviceKind } from '../common/reading.ts';
import type { SiteConfig } from '../common/site/types.ts';
import type { Clock } from './clock.ts';
import type { RegisterBank } from './modbus/register-bank.ts';
import type { ModbusSlave } from './modbus/modbus-slave.ts';
import type { SimulatedDevice, SimulatedDeviceOf } from './models/create-model.ts';
import type { Household } from './models/household.ts';

/** What a scenario may touch in the running estate. */
export interface ScenarioTarget {
  readonly site: SiteConfig;
  readonly log: Logger;
  devices(): readonly SimulatedDevice[];
  device(id: string): SimulatedDevice;
  deviceOf<K extends DeviceKind>(id: string, kind: K): SimulatedDeviceOf<K>;
  unit(id: string): Household | undefined;
  /** Modbus: the device stops answering (timeout); MQTT: it stops publishing. */
  setOnline(id: string, online: boolean): void;
  bank(id: string): RegisterBank | undefined;
  slave(connectionId: string): ModbusSlave | undefined;
}

/** Knobs shared by the scenarios; each uses the ones that make sense to it. */
export interface ScenarioOptions {
  /** The device (or, for custody-leak, the unit; for storm, the Modbus connection that dies) to act on, instead of the first that fits. */
  target?: string;
  /** device-offline: the MQTT device that goes silent. */
  mqttTarget?: string;
  /** device-offline: how long devices stay away; modbus-faults: how long the slave stays down. */
  durationMs?: number;
  /** fire-alarm: the zone in alarm. */
  zone?: string;
  /** custody-leak: how many times faster the leaking meters count. */
  speedup?: number;
}

/** A scenario in progress; the estate calls `step` every tick and `stop` when switching away. */
export interface ScenarioRun {
  /** What the scenario acts on, for logs. */
  readonly targets: Record<string, string>;
  step?(nowMs: number): void | Promise<void>;
  stop(nowMs: number): void | Promise<void>;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  apply(estate: ScenarioTarget, clock: Clock, options?: ScenarioOptions): ScenarioRun | Promise<ScenarioRun>;
}

export const DEFAULT_OFFLINE_MS = 60_000;
export const DEFAULT_SLAVE_DOWN_MS = 30_000;
export const DEFAULT_CUSTODY_SPEEDUP = 120;

function first<K extends DeviceKind>(estate: ScenarioTarget, kind: K, id?: string): SimulatedDeviceOf<K> {
  if (id !== undefined) return estate.deviceOf(id, kind);
  const found = estate.devices().find((d): d is SimulatedDeviceOf<K> => d.kind === kind);
  if (!found) throw new Error(`the site has no device of kind '${kind}'`);
  return found;
}

const normal: Scenario = {
  name: 'normal',
  description: 'every device behaves: tanks cycle between pump setpoints, meters follow occupancy, doors see badge traffic',
  apply: () => ({ targets: {}, stop() {} }),
};

const tankLeak: Scenario = {
  name: 'tank-leak',
  description: "one tank leaks faster than its pump can refill, so its level falls steadily past the low alarm (in about 5 minutes)",
  apply(estate, _clock, options = {}) {
    const tank = first(estate, 'tank', options.target);
    tank.leakMmPerHour = tank.pumpMmPerHour + tank.heightMm * 12;
    return {
      targets: { tank: tank.config.id },
      stop() {
        tank.leakMmPerHour = 0;
      },
    };
  },
};

const fireAlarm: Scenario = {
  name: 'fire-alarm',
  description: 'one fire panel raises an alarm in one zone (e.g. T1-3F-east) and stays in alarm until the scenario ends (restore)',
  apply(estate, clock, options = {}) {
    const panel = first(estate, 'fire-panel', options.target);
    const preferred = `${panel.config.building}-3F-east`;
    const zone = options.zone ?? (panel.zones.includes(preferred) ? preferred : panel.zones[0]);
    if (zone === undefined) throw new Error(`${panel.config.id} has no zones`);
    panel.raiseAlarm(zone, clock.now());
    return {
      targets: { panel: panel.config.id, zone },
      stop(nowMs) {
        panel.restore(nowMs, zone);
      },
    };
  },
};

const doorForced: Scenario = {
  name: 'door-forced',
  description: 'a door reports forced, then held_open once it has stood open past its limit (30 s); closed when the scenario ends',
  apply(estate, clock, options = {}) {
    const door = first(estate, 'door', options.target);
    door.force(clock.now());
    return {
      targets: { door: door.config.id },
      stop(nowMs) {
        door.close(nowMs);
      },
    };
  },
};

const emergency: Scenario = {
  name: 'emergency',
  description: 'an emergency button is pressed and stays latched; reset when the scenario ends',
  apply(estate, clock, options = {}) {
    const button = first(estate, 'emergency-button', options.target);
    button.press(clock.now());
    return {
      targets: { button: button.config.id },
      stop(nowMs) {
        button.reset(nowMs);
      },
    };
  },
};

const deviceOffline: Scenario = {
  name: 'device-offline',
  description: 'one Modbus device stops answering (timeouts) and one MQTT device stops publishing for durationMs (60 s), then both come back',
  apply(estate, clock, options = {}) {
    const modbusDevice = options.target !== undefined ? estate.device(options.target) : estate.devices().find((d) => d.config.modbus);
    const mqttDevice = options.mqttTarget !== undefined ? estate.device(options.mqttTarget) : estate.devices().find((d) => d.config.mqtt);
    const ids = [modbusDevice, mqttDevice].filter((d) => d !== undefined).map((d) => d.config.id);
    if (ids.length === 0) throw new Error('the site has no device to take offline');
    const until = clock.now() + (options.durationMs ?? DEFAULT_OFFLINE_MS);
    let away = true;
    for (const id of ids) estate.setOnline(id, false);
    const comeBack = (): void => {
      if (!away) return;
      away = false;
      for (const id of ids) estate.setOnline(id, true);
      estate.log.info({ devices: ids }, 'devices back online');
    };
    return {
      targets: { ...(modbusDevice ? { modbus: modbusDevice.config.id } : {}), ...(mqttDevice ? { mqtt: mqttDevice.config.id } : {}), until: new Date(until).toISOString() },
      step(nowMs) {
        if (nowMs >= until) comeBack();
      },
      stop: comeBack,
    };
  },
};

const custodyLeak: Scenario = {
  name: 'custody-leak',
  description: 'a vacant unit in custody has a burst pipe and a heater left on: its meters count at an accelerated rate, past 5 m³ water within ~2 minutes and 20 kWh within ~4',
  apply(estate, _clock, options = {}) {
    const meters = (unit: string) => {
      const inUnit = estate.devices().filter((d) => d.config.unit === unit);
      return {
        water: inUnit.find((d): d is SimulatedDeviceOf<'meter-water'> => d.kind === 'meter-water'),
        electric: inUnit.find((d): d is SimulatedDeviceOf<'meter-electric'> => d.kind === 'meter-electric'),
      };
    };
    const candidates = estate.site.buildings.flatMap((b) => b.units.map((u) => u.id)).filter((u) => {
      const m = meters(u);
      return m.water && m.electric;
    });
    const unitId = options.target ?? candidates.find((u) => estate.unit(u)?.vacant) ?? candidates[0];
    if (unitId === undefined) throw new Error('the site has no unit with both a water and an electricity meter');
    const household = estate.unit(unitId);
    if (!household) throw new Error(`no unit '${unitId}' in the site`);
    const { water, electric } = meters(unitId);
    if (!water || !electric) throw new Error(`unit '${unitId}' needs a water and an electricity meter`);
    const wasVacant = household.vacant;
    const speedup = options.speedup ?? DEFAULT_CUSTODY_SPEEDUP;
    household.vacant = true;
    water.leakM3h = 2;
    water.speedup = speedup;
    electric.leakW = 3000;
    electric.speedup = speedup;
    return {
      targets: { unit: unitId, water: water.config.id, electric: electric.config.id },
      stop() {
        household.vacant = wasVacant;
        water.leakM3h = 0;
        water.speedup = 1;
        electric.leakW = 0;
        electric.speedup = 1;
      },
    };
  },
};

const modbusFaults: Scenario = {
  name: 'modbus-faults',
  description: 'one Modbus device answers with exceptions, another times out, and one slave drops off for durationMs (30 s) and comes back',
  async apply(estate, clock, options = {}) {
    const modbusDevices = estate.devices().filter((d) => d.config.modbus);
    const failing = options.target !== undefined ? estate.device(options.target) : (modbusDevices.find((d) => d.kind === 'meter-electric') ?? modbusDevices[0]);
    const silent = modbusDevices.find((d) => d.kind === 'meter-gas' && d !== failing) ?? modbusDevices.find((d) => d !== failing);
    const failingBank = failing ? estate.bank(failing.config.id) : undefined;
    const silentBank = silent ? estate.bank(silent.config.id) : undefined;
    if (failingBank) failingBank.fault = 'exception';
    if (silentBank) silentBank.fault = 'timeout';

    const busy = new Set([failing?.config.modbus?.connection, silent?.config.modbus?.connection]);
    const connections = estate.site.modbus.connections.filter((c) => estate.slave(c.id));
    const dropped = [...connections].reverse().find((c) => !busy.has(c.id)) ?? connections.at(-1);
    const slave = dropped ? estate.slave(dropped.id) : undefined;
    const until = clock.now() + (options.durationMs ?? DEFAULT_SLAVE_DOWN_MS);
    let down = false;
    if (slave) {
      await slave.powerOff();
      down = true;
    }
    const bringBack = async (): Promise<void> => {
      if (!down || !slave) return;
      // Stays down (and is retried next tick) if the port cannot be opened again.
      await slave.restart(0);
      down = false;
      estate.log.info({ connection: dropped?.id }, 'modbus slave back');
    };
    return {
      targets: {
        ...(failing ? { exception: failing.config.id } : {}),
        ...(silent ? { timeout: silent.config.id } : {}),
        ...(dropped && slave ? { slaveDown: dropped.id, until: new Date(until).toISOString() } : {}),
      },
      async step(nowMs) {
        if (nowMs >= until) await bringBack();
      },
      async stop() {
        if (failingBank) failingBank.fault = 'none';
        if (silentBank) silentBank.fault = 'none';
        await bringBack();
      },
    };
  },
};

/** When each fault of the `storm` scenario starts, in ms after the scenario does. */
export const STORM_TIMELINE = {
  converterDies: 0,
  doorChatters: 20_000,
  tankFlaps: 30_000,
  meterBackwards: 60_000,
  fireFirstZone: 90_000,
  fireSecondZone: 210_000,
  tankSettles: 255_000,
} as const;

const DOOR_FORCED_EVERY_MS = 15_000;
const DOOR_FORCED_TIMES = 5;
const DOOR_OPEN_MS = 5_000;
const TANK_PHASE_MS = 45_000;

const storm: Scenario = {
  name: 'storm',
  description:
    "one tower's Modbus converter dies, a door chatters (forced and closed every 15 s), a tank level flaps around its low limit, a meter counts backwards, and a fire starts in one zone then in a second, all within 4 minutes",
  async apply(estate, clock, options = {}) {
    const start = clock.now();
    const modbus = estate.site.modbus.connections.filter((c) => estate.slave(c.id));
    const devicesOn = (id: string) => estate.site.devices.filter((d) => d.modbus?.connection === id).length;
    const polledElsewhere = <K extends 'tank' | 'meter-water'>(kind: K, dead: string) =>
      estate.devices().find((d): d is SimulatedDeviceOf<K> => d.kind === kind && d.config.modbus !== undefined && d.config.modbus.connection !== dead);
    // By default the busiest converter (the later one of equals) that leaves a tank and a water meter on another.
    let dead = options.target !== undefined ? modbus.find((c) => c.id === options.target) : undefined;
    if (options.target === undefined) {
      for (const c of modbus) {
        if (polledElsewhere('tank', c.id) && polledElsewhere('meter-water', c.id) && (!dead || devicesOn(c.id) >= devicesOn(dead.id))) dead = c;
      }
    }
    if (!dead) throw new Error(options.target !== undefined ? `no Modbus connection '${options.target}' served by the simulator` : 'the site has no Modbus connection to fail');
    const tank = polledElsewhere('tank', dead.id);
    const meter = polledElsewhere('meter-water', dead.id);
    const door = first(estate, 'door');
    const panel = first(estate, 'fire-panel');
    if (!tank || !meter) throw new Error(`storm needs a tank and a water meter on a Modbus connection other than ${dead.id}`);
    const pick = (preferred: string, fallback: number) => (panel.zones.includes(preferred) ? preferred : panel.zones[fallback]);
    const zones = [pick(`${panel.config.building}-3F-east`, 0), pick(`${panel.config.building}-5F-west`, 1)];
    if (zones[0] === undefined || zones[1] === undefined || zones[0] === zones[1]) throw new Error(`${panel.config.id} needs two zones`);
    const slave = estate.slave(dead.id)!;
    await slave.powerOff();
    let converterDown = true;
    const done = new Set<string>();
    const once = (what: string, at: number, now: number, act: () => void): void => {
      if (now < start + at || done.has(what)) return;
      done.add(what);
      act();
    };
    const below = tank.lowAlarmMm - 40;
    const above = tank.lowAlarmMm + 70;
    const tankFlapping = (now: number): boolean => now >= start + STORM_TIMELINE.tankFlaps && now < start + STORM_TIMELINE.tankSettles;
    const settleTank = (): void => {
      tank.pumpAvailable = true;
      tank.levelMm = Math.max(tank.levelMm, tank.pumpOnMm);
    };
    return {
      targets: { converter: dead.id, door: door.config.id, tank: tank.config.id, meter: meter.config.id, panel: panel.config.id, zones: zones.join(', ') },
      step(now) {
        for (let i = 0; i < DOOR_FORCED_TIMES; i++) {
          const at = STORM_TIMELINE.doorChatters + i * DOOR_FORCED_EVERY_MS;
          once(`door-forced-${i}`, at, now, () => door.force(start + at));
          once(`door-closed-${i}`, at + DOOR_OPEN_MS, now, () => door.close(start + at + DOOR_OPEN_MS));
        }
        if (tankFlapping(now)) {
          tank.pumpAvailable = false;
          const phase = Math.floor((now - start - STORM_TIMELINE.tankFlaps) / TANK_PHASE_MS);
          tank.levelMm = phase % 2 === 0 ? below : above;
        }
        once('tank-settles', STORM_TIMELINE.tankSettles, now, settleTank);
        once('meter-backwards', STORM_TIMELINE.meterBackwards, now, () => {
          meter.volumeM3 = Math.max(0, meter.volumeM3 - 2);
        });
        once('fire-first-zone', STORM_TIMELINE.fireFirstZone, now, () => panel.raiseAlarm(zones[0]!, start + STORM_TIMELINE.fireFirstZone));
        once('fire-second-zone', STORM_TIMELINE.fireSecondZone, now, () => panel.raiseAlarm(zones[1]!, start + STORM_TIMELINE.fireSecondZone));
      },
      async stop(now) {
        door.close(now);
        settleTank();
        panel.restore(now);
        if (converterDown) {
          await slave.restart(0);
          converterDown = false;
        }
      },
    };
  },
};

/** The scenarios by name, in the order `--help` lists them. */
export const SCENARIOS = {
  normal,
  'tank-leak': tankLeak,
  'fire-alarm': fireAlarm,
  'door-forced': doorForced,
  emergency,
  'device-offline': deviceOffline,
  'custody-leak': custodyLeak,
  'modbus-faults': modbusFaults,
  storm,
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

export class UnknownScenarioError extends Error {
  override name = 'UnknownScenarioError';
  constructor(readonly scenario: string) {
    super(`unknown scenario '${scenario}' (known: ${SCENARIO_NAMES.join(', ')})`);
  }
}

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}

export function scenarioByName(name: string): Scenario {
  if (!isScenarioName(name)) throw new UnknownScenarioError(name);
  return SCENARIOS[name];
}
