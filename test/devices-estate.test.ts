import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import ModbusSerial from 'modbus-serial';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readEnvironment } from '../common/env.ts';
import { dataItem, decodeDataItem, readAnswer, readRequest } from '../common/dlt645/data-items.ts';
import { FrameReader, encodeFrame } from '../common/dlt645/frame.ts';
import { BUILTIN_PROFILES } from '../common/profiles.ts';
import { decodeValue } from '../common/register-codec.ts';
import { parseSiteConfig } from '../common/site/load.ts';
import type { SiteConfig } from '../common/site/types.ts';
import { ManualClock } from '../devices/clock.ts';
import { startEstate, type RunningEstate } from '../devices/estate-simulator.ts';
import { runDevices } from '../devices/main.ts';
import { SCENARIO_NAMES } from '../devices/scenarios.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { waitFor } from './harness/ports.ts';
import { demoSiteOnFreePorts } from './harness/demo-site.ts';
import { hasSocat, startSerialPair, type SerialPair } from './harness/socat.ts';

interface Received {
  topic: string;
  payload: Record<string, unknown>;
  qos: number;
}

type ModbusClient = InstanceType<typeof ModbusSerial.default>;

async function modbusClient(port: number, unitId: number): Promise<ModbusClient> {
  const client = new ModbusSerial.default();
  await client.connectTCP('127.0.0.1', { port });
  client.setID(unitId);
  client.setTimeout(400);
  return client;
}

function closeClient(client: ModbusClient): Promise<void> {
  return new Promise((resolve) => (client.isOpen ? client.close(() => resolve()) : resolve()));
}

/** Reads one data item of a DL/T 645 meter through the line's TCP port, as the gateway would. */
function readMeter(port: number, address: string, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const reader = new FrameReader();
    socket.setTimeout(2000, () => socket.destroy(new Error(`meter ${address}: no answer`)));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(encodeFrame(readRequest(address, id), 4)));
    socket.on('data', (chunk) => {
      for (const e of reader.push(chunk)) {
        const answer = e.kind === 'frame' ? readAnswer(e.frame) : undefined;
        if (answer?.kind !== 'data') continue;
        socket.destroy();
        const v = decodeDataItem(dataItem(id)!, answer.data);
        if (v.ok) resolve(v.value);
        else reject(new Error(v.detail));
      }
    });
  });
}

describe('estate simulator over real sockets', () => {
  let broker: EmbeddedBroker;
  let subscriber: MqttClient;
  let site: SiteConfig;
  let ports: Record<string, number>;
  let estate: RunningEstate;
  const clock = new ManualClock();
  const received: Received[] = [];
  const tmpDirs: string[] = [];
  const TELEMETRY_MS = 5000;

  const messages = (device: string, channel: 'telemetry' | 'event', since = 0) =>
    received.slice(since).filter((m) => m.topic === `site/${device.split('-')[0]}/${device}/${channel}`);

  /** Moves the clock in ticks of `stepMs` (a tick per step, as the timer would) and waits for the broker. */
  async function advance(ms: number, stepMs = 1000): Promise<void> {
    for (let done = 0; done < ms; done += stepMs) {
      clock.advance(Math.min(stepMs, ms - done));
      await estate.tick();
    }
    await estate.flush();
  }

  /** Waits until the subscriber has seen every message the estate had acknowledged. */
  async function settle(): Promise<void> {
    await estate.flush();
    const expected = estate.published.telemetry + estate.published.events;
    await waitFor(() => received.length >= expected, 10_000, `${expected} messages at the subscriber`);
  }

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0 });
    subscriber = mqtt.connect(broker.url, { clientId: 'devices-estate-test' });
    await new Promise<void>((resolve) => subscriber.once('connect', () => resolve()));
    subscriber.on('message', (topic, payload, packet) => received.push({ topic, payload: JSON.parse(payload.toString()), qos: packet.qos }));
    await subscriber.subscribeAsync('site/#', { qos: 1 });
    const demo = await demoSiteOnFreePorts();
    ports = demo.ports;
    site = parseSiteConfig(demo.raw, 'demo-estate (test ports)');
    estate = await startEstate({ site, brokerUrl: broker.url, clock, telemetryIntervalMs: TELEMETRY_MS, seed: 5 });
  });

  afterAll(async () => {
    await estate?.stop();
    await subscriber?.endAsync();
    await broker?.close();
    for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
  });

  it('publishes telemetry of every MQTT device at start and every interval, JSON with ts, QoS 1', async () => {
    const mqttDevices = site.devices.filter((d) => d.mqtt);
    expect(mqttDevices.length).toBe(16);
    await settle();
    for (const d of mqttDevices) expect(messages(d.id, 'telemetry').length).toBeGreaterThanOrEqual(1);
    const before = received.length;
    await advance(TELEMETRY_MS - 1000);
    await settle();
    expect(received.slice(before).filter((m) => m.topic.endsWith('/telemetry'))).toHaveLength(0);
    await advance(1000);
    await settle();
    const fresh = received.slice(before).filter((m) => m.topic.endsWith('/telemetry'));
    expect(fresh).toHaveLength(mqttDevices.length);
    const fire = fresh.find((m) => m.topic === 'site/T1/T1-fire/telemetry');
    expect(fire?.payload).toMatchObject({ ts: clock.now(), zones_alarm: 0, zones_fault: 0, mains_ok: 1 });
    expect(fire?.payload.battery_pct).toEqual(expect.any(Number));
    expect(fresh.find((m) => m.topic === 'site/OB/OB-door-main/telemetry')?.payload).toHaveProperty('open');
    expect(fresh.find((m) => m.topic === 'site/T2/T2-sos-lift/telemetry')?.payload).toHaveProperty('battery_pct');
    expect(fresh.every((m) => m.qos === 1)).toBe(true);
  });

  it('serves each Modbus device with its profile, holding the model values', async () => {
    const tank = estate.deviceOf('T1-tank', 'tank');
    const client = await modbusClient(ports['T1-modbus']!, 1);
    try {
      const hr = await client.readHoldingRegisters(0, 2);
      const di = await client.readDiscreteInputs(0, 2);
      expect(hr.data[0]).toBe(Math.round(tank.levelMm));
      expect(hr.data[1]).toBe(tank.pumpRunning ? 1 : 0);
      expect(di.data.slice(0, 2)).toEqual([false, false]);

      const electric = estate.deviceOf('T1-0101-electric', 'meter-electric');
      client.setID(site.devices.find((d) => d.id === 'T1-0101-electric')!.modbus!.unitId);
      const ir = await client.readInputRegisters(0, 2);
      const voltage = decodeValue(ir.data, BUILTIN_PROFILES['meter-electric']!.points[0]!);
      expect(voltage).toBeGreaterThan(205);
      expect(voltage).toBeLessThan(235);
      const energy = decodeValue((await client.readInputRegisters(0x156, 2)).data, BUILTIN_PROFILES['meter-electric']!.points[3]!);
      expect(energy).toBeCloseTo(electric.energyKwh, 1);
    } finally {
      await closeClient(client);
    }
  });

  it('serves the office block\'s DL/T 645 meters on their line, each answering its address with its model values', async () => {
    const meters = site.devices.filter((d) => d.dlt645);
    expect(meters.map((d) => d.id)).toEqual(site.buildings.find((b) => b.id === 'OB')!.units.map((u) => `${u.id}-electric`));
    for (const d of meters) {
      const model = estate.deviceOf(d.id, 'meter-electric');
      const port = ports[d.dlt645!.connection]!;
      const energy = await readMeter(port, d.dlt645!.address, '00010000');
      const voltage = await readMeter(port, d.dlt645!.address, '02010100');
      const power = await readMeter(port, d.dlt645!.address, '02030000');
      // What the meter shows: the model's values in the data items' formats (kWh .01, V .1, kW .0001).
      expect(Math.abs(energy - model.energyKwh)).toBeLessThanOrEqual(0.005 + 1e-9);
      expect(Math.abs(voltage - model.voltageV)).toBeLessThanOrEqual(0.05 + 1e-9);
      expect(Math.abs(power - model.powerW)).toBeLessThanOrEqual(0.05 + 1e-9);
      expect([energy, voltage, power]).toEqual(['00010000', '02010100', '02030000'].map((id) => estate.meter(d.id)!.get(id)));
    }
    expect(estate.meterLines.get('OB-dlt645')!.requestCount).toBeGreaterThanOrEqual(24);
  });

  it('normal: the tank stays between its pump setpoints and meter counters keep growing, as read over Modbus', async () => {
    const tank = estate.deviceOf('T2-tank', 'tank');
    const water = site.devices.find((d) => d.id === 'T2-0101-water')!;
    const tankClient = await modbusClient(ports['T2-modbus']!, 1);
    const meterClient = await modbusClient(ports['T2-modbus']!, water.modbus!.unitId);
    const volume = async () => decodeValue((await meterClient.readHoldingRegisters(0, 2)).data, BUILTIN_PROFILES['meter-water']!.points[0]!);
    try {
      let last = await volume();
      for (let i = 0; i < 12; i++) {
        await advance(15 * 60_000, 15 * 60_000);
        const level = (await tankClient.readHoldingRegisters(0, 1)).data[0]!;
        expect(level).toBeGreaterThanOrEqual(tank.pumpOnMm - 5);
        expect(level).toBeLessThanOrEqual(tank.pumpOffMm + 5);
        const v = await volume();
        expect(v).toBeGreaterThanOrEqual(last);
        last = v;
      }
    } finally {
      await closeClient(tankClient);
      await closeClient(meterClient);
    }
  });

  it('tank-leak: the first tank falls steadily past the low alarm, low float tripped', async () => {
    await estate.scenario('tank-leak');
    expect(estate.scenarioTargets).toEqual({ tank: 'T1-tank' });
    const tank = estate.deviceOf('T1-tank', 'tank');
    const client = await modbusClient(ports['T1-modbus']!, 1);
    try {
      let last = (await client.readHoldingRegisters(0, 1)).data[0]!;
      let crossed = false;
      for (let i = 0; i < 40 && !crossed; i++) {
        await advance(15_000, 5000);
        const level = (await client.readHoldingRegisters(0, 1)).data[0]!;
        expect(level).toBeLessThan(last);
        last = level;
        crossed = level < tank.lowAlarmMm;
      }
      expect(crossed).toBe(true);
      expect((await client.readDiscreteInputs(0, 2)).data.slice(0, 2)).toEqual([true, false]);
      expect((await client.readHoldingRegisters(1, 1)).data[0]).toBe(1);
    } finally {
      await closeClient(client);
      await estate.scenario('normal');
    }
    expect(tank.leakMmPerHour).toBe(0);
  });

  it('fire-alarm: one panel raises an alarm in one zone and stays in alarm until restore', async () => {
    const since = received.length;
    await estate.scenario('fire-alarm');
    await settle();
    expect(messages('T1-fire', 'event', since).map((m) => m.payload)).toEqual([{ ts: clock.now(), event: 'alarm', zone: 'T1-3F-east' }]);
    await advance(3 * TELEMETRY_MS);
    await settle();
    const telemetry = messages('T1-fire', 'telemetry', since);
    expect(telemetry.length).toBeGreaterThanOrEqual(3);
    expect(telemetry.every((m) => m.payload.zones_alarm === 1)).toBe(true);
    expect(messages('T1-fire', 'event', since)).toHaveLength(1);
    await estate.scenario('normal');
    await settle();
    expect(messages('T1-fire', 'event', since).map((m) => m.payload.event)).toEqual(['alarm', 'restore']);
    expect(messages('T1-fire', 'event', since)[1]?.payload.zone).toBe('T1-3F-east');
  });

  it('door-forced: a door reports forced, then held_open; closed when the scenario ends', async () => {
    const since = received.length;
    await estate.scenario('door-forced');
    expect(estate.scenarioTargets).toEqual({ door: 'T1-door-lobby' });
    const t0 = clock.now();
    await advance(35_000);
    await settle();
    const events = messages('T1-door-lobby', 'event', since).map((m) => m.payload);
    expect(events.map((e) => e.event)).toEqual(['forced', 'held_open']);
    expect(events[0]?.ts).toBe(t0);
    expect(events[1]?.ts).toBe(t0 + 30_000);
    expect(messages('T1-door-lobby', 'telemetry', since).at(-1)?.payload.open).toBe(1);
    await estate.scenario('normal');
    await settle();
    expect(messages('T1-door-lobby', 'event', since).at(-1)?.payload.event).toBe('closed');
  });

  it('emergency: a button is pressed, and reset when the scenario ends', async () => {
    const since = received.length;
    await estate.scenario('emergency');
    await advance(TELEMETRY_MS);
    await settle();
    expect(messages('T1-sos-lobby', 'event', since).map((m) => m.payload.event)).toEqual(['pressed']);
    expect(messages('T1-sos-lobby', 'telemetry', since).at(-1)?.payload).toMatchObject({ pressed: 1 });
    await estate.scenario('normal');
    await settle();
    expect(messages('T1-sos-lobby', 'event', since).map((m) => m.payload.event)).toEqual(['pressed', 'reset']);
  });

  it('device-offline: a Modbus device times out and an MQTT device goes silent, then both come back', async () => {
    await estate.scenario('device-offline', { durationMs: 60_000 });
    expect(estate.scenarioTargets).toMatchObject({ modbus: 'T1-tank', mqtt: 'T1-fire' });
    const client = await modbusClient(ports['T1-modbus']!, 1);
    try {
      const since = received.length;
      await expect(client.readHoldingRegisters(0, 2)).rejects.toThrow(/Timed out/);
      await advance(30_000);
      await settle();
      expect(messages('T1-fire', 'telemetry', since)).toHaveLength(0);
      expect(messages('T2-fire', 'telemetry', since).length).toBeGreaterThanOrEqual(5);
      client.setID(10);
      expect((await client.readHoldingRegisters(0, 2)).data).toHaveLength(2);

      await advance(31_000);
      await settle();
      client.setID(1);
      expect((await client.readHoldingRegisters(0, 2)).data).toHaveLength(2);
      expect(messages('T1-fire', 'telemetry', since).length).toBeGreaterThanOrEqual(1);
    } finally {
      await closeClient(client);
      await estate.scenario('normal');
    }
  });

  it('custody-leak: a vacant unit\'s water meter passes 5 m³ and electricity 20 kWh within minutes; gas stays still', async () => {
    await estate.scenario('custody-leak');
    const { unit, water, electric } = estate.scenarioTargets as { unit: string; water: string; electric: string };
    expect(estate.unit(unit)?.vacant).toBe(true);
    const unitId = (id: string) => site.devices.find((d) => d.id === id)!.modbus!.unitId;
    const gas = site.devices.find((d) => d.unit === unit && d.kind === 'meter-gas');
    const client = await modbusClient(ports[`${unit.split('-')[0]}-modbus`]!, unitId(water));
    const read = async (id: string, fc: 3 | 4, profile: string, metric: string) => {
      client.setID(unitId(id));
      const p = BUILTIN_PROFILES[profile]!.points.find((x) => x.metric === metric)!;
      const res = fc === 3 ? await client.readHoldingRegisters(p.address, 2) : await client.readInputRegisters(p.address, 2);
      return decodeValue(res.data, p);
    };
    try {
      const w0 = await read(water, 3, 'meter-water', 'volume_m3');
      const e0 = await read(electric, 4, 'meter-electric', 'energy_kwh');
      const g0 = gas ? await read(gas.id, 3, 'meter-gas', 'volume_m3') : 0;
      await advance(5 * 60_000, 5000);
      expect((await read(water, 3, 'meter-water', 'volume_m3')) - w0).toBeGreaterThan(5);
      expect((await read(electric, 4, 'meter-electric', 'energy_kwh')) - e0).toBeGreaterThan(20);
      if (gas) expect(await read(gas.id, 3, 'meter-gas', 'volume_m3')).toBe(g0);
      // The flow the meter reports stays physical; only the count is hurried.
      expect(await read(water, 3, 'meter-water', 'flow_m3h')).toBeCloseTo(2, 3);
    } finally {
      await closeClient(client);
      await estate.scenario('normal');
    }
  });

  it('modbus-faults: exceptions on one device, timeouts on another, one slave drops off and comes back', async () => {
    await estate.scenario('modbus-faults', { durationMs: 30_000 });
    const targets = estate.scenarioTargets;
    expect(targets).toMatchObject({ exception: 'T1-0101-electric', timeout: 'T1-0101-gas', slaveDown: 'OB-modbus' });
    const unitId = (id: string) => site.devices.find((d) => d.id === id)!.modbus!.unitId;
    const client = await modbusClient(ports['T1-modbus']!, unitId('T1-0101-electric'));
    try {
      await expect(client.readInputRegisters(0, 2)).rejects.toMatchObject({ modbusCode: 4 });
      client.setID(unitId('T1-0101-gas'));
      await expect(client.readHoldingRegisters(0, 2)).rejects.toThrow(/Timed out/);
      client.setID(unitId('T1-0101-water'));
      expect((await client.readHoldingRegisters(0, 4)).data).toHaveLength(4);
    } finally {
      await closeClient(client);
    }
    await expect(modbusClient(ports['OB-modbus']!, 1)).rejects.toThrow();
    await advance(31_000, 5000);
    const back = await modbusClient(ports['OB-modbus']!, 1);
    try {
      expect((await back.readHoldingRegisters(0, 2)).data).toHaveLength(2);
    } finally {
      await closeClient(back);
    }
    await estate.scenario('normal');
    const again = await modbusClient(ports['T1-modbus']!, unitId('T1-0101-electric'));
    try {
      expect((await again.readInputRegisters(0, 2)).data).toHaveLength(2);
    } finally {
      await closeClient(again);
    }
  });

  it('an unknown scenario is refused with the list of known ones, and the running one stays', async () => {
    await expect(estate.scenario('flood')).rejects.toThrow(`unknown scenario 'flood' (known: ${SCENARIO_NAMES.join(', ')})`);
    expect(estate.activeScenario).toBe('normal');
    await expect(startEstate({ site, brokerUrl: broker.url, scenario: 'flood' as never, clock })).rejects.toThrow(/known: normal, tank-leak/);
  });

  it('counts Modbus requests per slave and acknowledged publishes', async () => {
    const slave = estate.slaves.get('T2-modbus')!;
    const before = slave.requests(1, 3);
    const client = await modbusClient(ports['T2-modbus']!, 1);
    try {
      await client.readHoldingRegisters(0, 2);
    } finally {
      await closeClient(client);
    }
    expect(slave.requests(1, 3)).toBe(before + 1);
    expect(estate.published.telemetry).toBeGreaterThan(16);
    expect(estate.published.errors).toBe(0);
  });

  describe('npm run devices', () => {
    it('--help prints usage with every scenario', async () => {
      let out = '';
      const result = await runDevices(['--help'], { stdout: { write: (t: string) => (out += t) } });
      expect(result).toBeUndefined();
      expect(out).toMatch(/^Usage: npm run devices -- \[--scenario NAME\]/);
      for (const name of SCENARIO_NAMES) expect(out).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    });

    it('refuses an unknown scenario and unknown options before opening anything', async () => {
      await expect(runDevices(['--scenario', 'flood'])).rejects.toThrow(/unknown scenario 'flood' \(known: normal/);
      await expect(runDevices(['--bogus'])).rejects.toThrow(/bogus/);
    });

    it('serves the site file given by --site on its ports, the broker from MQTT_URL, and stops cleanly', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'fm-devices-'));
      tmpDirs.push(dir);
      const { raw, ports: cliPorts } = await demoSiteOnFreePorts();
      const file = join(dir, 'site.yaml');
      await writeFile(file, stringify(raw));
      const since = received.length;
      const running = await runDevices(['--site', file, '--scenario', 'emergency', '--telemetry-ms', '60000'], { environment: readEnvironment({ MQTT_URL: broker.url }) });
      try {
        expect(running?.activeScenario).toBe('emergency');
        await waitFor(() => messages('T1-sos-lobby', 'event', since).some((m) => m.payload.event === 'pressed'), 10_000, 'pressed event');
        const client = await modbusClient(cliPorts['OB-modbus']!, 1);
        try {
          expect((await client.readHoldingRegisters(0, 2)).data).toHaveLength(2);
        } finally {
          await closeClient(client);
        }
        expect(await readMeter(cliPorts['OB-dlt645']!, '000000000101', '02010100')).toBeGreaterThan(200);
      } finally {
        await running?.stop();
      }
      expect(messages('T1-sos-lobby', 'event', since).map((m) => m.payload.event)).toEqual(['pressed', 'reset']);
      await expect(modbusClient(cliPorts['OB-modbus']!, 1)).rejects.toThrow();
      await expect(readMeter(cliPorts['OB-dlt645']!, '000000000101', '02010100')).rejects.toThrow(/ECONNREFUSED/);
    });
  });
});

describe.skipIf(!hasSocat())('estate simulator on a Modbus RTU line (socat pty pair)', () => {
  let line: SerialPair | undefined;
  let estate: RunningEstate | undefined;
  let client: ModbusClient | undefined;

  beforeAll(async () => {
    line = await startSerialPair();
    const { devicePath: slavePath, gatewayPath: masterPath } = line;
    const site = parseSiteConfig({
      site: { id: 'rtu-estate', name: 'RTU estate' },
      modbus: { connections: [{ id: 'pump-room', rtu: { path: masterPath, baudRate: 19200, parity: 'even' } }] },
      buildings: [
        {
          id: 'B1',
          name: 'Block 1',
          units: [{ id: 'B1-0101', floor: 1 }],
          devices: [
            { id: 'B1-tank', kind: 'tank', params: { heightMm: 3000, lowAlarmMm: 500, highAlarmMm: 2800 }, modbus: { connection: 'pump-room', unitId: 1, profile: 'tank-level' } },
            { id: 'B1-0101-water', kind: 'meter-water', unit: 'B1-0101', modbus: { connection: 'pump-room', unitId: 2, profile: 'meter-water' } },
          ],
        },
      ],
    });
    estate = await startEstate({ site, brokerUrl: 'mqtt://127.0.0.1:1', clock: new ManualClock(), rtu: { 'pump-room': slavePath } });
    client = new ModbusSerial.default();
    await client.connectRTUBuffered(masterPath, { baudRate: 19200, parity: 'even' });
    client.setTimeout(1000);
  });

  afterAll(async () => {
    if (client) await closeClient(client);
    await estate?.stop();
    await line?.stop();
  });

  it('answers each unit id on the serial line with its model values', async () => {
    const tank = estate!.deviceOf('B1-tank', 'tank');
    client!.setID(1);
    expect((await client!.readHoldingRegisters(0, 1)).data[0]).toBe(Math.round(tank.levelMm));
    client!.setID(2);
    const volume = decodeValue((await client!.readHoldingRegisters(0, 2)).data, BUILTIN_PROFILES['meter-water']!.points[0]!);
    expect(volume).toBeCloseTo(estate!.deviceOf('B1-0101-water', 'meter-water').volumeM3, 2);
    expect(estate!.slaves.get('pump-room')!.requests(2, 3)).toBe(1);
  });
});
