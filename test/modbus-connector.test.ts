import { afterEach, describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES } from '../common/profiles.ts';
import type { DeviceEvent, Reading } from '../common/reading.ts';
import { parseSiteConfig } from '../common/site/load.ts';
import type { SiteConfig } from '../common/site/types.ts';
import { startTcpSlave, type ModbusSlave } from '../devices/modbus/modbus-slave.ts';
import { RegisterBank, type RegisterBankOptions } from '../devices/modbus/register-bank.ts';
import type { ConnectorStatus, Ingest } from '../gateway/connectors/connector.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { ModbusConfigError, ModbusConnector, ModbusPollError, type ModbusConnectorOptions } from '../gateway/modbus/modbus-connector.ts';
import { freePort, waitFor } from './harness/ports.ts';

/** Collects what the connector submits; `refuse` makes it reject like a full outbox. */
class MemoryIngest implements Ingest {
  readonly readings: Reading[] = [];
  refuse = false;
  submit(readings: Reading[], _events: DeviceEvent[]): Promise<void> {
    if (this.refuse) return Promise.reject(new Error('outbox full'));
    this.readings.push(...readings);
    return Promise.resolve();
  }
  of(device: string, quality?: Reading['quality']): Reading[] {
    return this.readings.filter((r) => r.device === device && (!quality || r.quality === quality));
  }
  latest(device: string, metric: string): Reading | undefined {
    return this.readings.findLast((r) => r.device === device && r.metric === metric);
  }
}

interface DeviceSpec {
  id: string;
  kind: string;
  connection: string;
  unitId: number;
  profile: string;
  unit?: string;
}

function site(connections: { id: string; port: number; timeoutMs?: number; maxGapRegisters?: number }[], devices: DeviceSpec[], profiles: Record<string, unknown> = {}): SiteConfig {
  const units = [...new Set(devices.flatMap((d) => (d.unit ? [d.unit] : [])))].map((id) => ({ id }));
  return parseSiteConfig({
    site: { id: 'test-estate', name: 'Test estate' },
    modbus: {
      connections: connections.map((c) => ({
        id: c.id,
        tcp: { host: '127.0.0.1', port: c.port },
        timeoutMs: c.timeoutMs ?? 1000,
        ...(c.maxGapRegisters !== undefined ? { maxGapRegisters: c.maxGapRegisters } : {}),
      })),
    },
    profiles,
    buildings: [
      {
        id: 'T1',
        name: 'Tower 1',
        units,
        devices: devices.map((d) => ({
          id: d.id,
          kind: d.kind,
          ...(d.unit ? { unit: d.unit } : {}),
          modbus: { connection: d.connection, unitId: d.unitId, profile: d.profile },
        })),
      },
    ],
  });
}

const bank = (profile: string, initial: Record<string, number>, options: RegisterBankOptions = {}) =>
  new RegisterBank(BUILTIN_PROFILES[profile]!, { initial, ...options });

const running: { connectors: ModbusConnector[]; slaves: ModbusSlave[] } = { connectors: [], slaves: [] };

async function slaveWith(banks: [number, RegisterBank][]): Promise<{ slave: ModbusSlave; port: number }> {
  const port = await freePort();
  const slave = await startTcpSlave({ port, banks: new Map(banks) });
  running.slaves.push(slave);
  return { slave, port };
}

function connector(options: Omit<ModbusConnectorOptions, 'metrics'> & { metrics?: MetricsRegistry }) {
  const metrics = options.metrics ?? new MetricsRegistry();
  const c = new ModbusConnector({ ...options, metrics });
  const errors: Error[] = [];
  const statuses: ConnectorStatus[] = [];
  c.on('error', (e) => errors.push(e));
  c.on('status', (s) => statuses.push(s));
  running.connectors.push(c);
  return { c, metrics, errors, statuses };
}

const stat = (c: ModbusConnector, id: string) => c.pollCycleStats().find((s) => s.connection === id)!;

afterEach(async () => {
  await Promise.all(running.connectors.splice(0).map((c) => c.stop()));
  await Promise.all(running.slaves.splice(0).map((s) => s.stop()));
});

describe('ModbusConnector against a real TCP slave', () => {
  it('one poll cycle of the demo devices sends exactly the planned requests and decodes them', async () => {
    const { slave, port } = await slaveWith([
      [1, bank('tank-level', { level_mm: 1500, pump_running: 1, float_low: 0, float_high: 1 })],
      [10, bank('meter-water', { volume_m3: 1234.567, flow_m3h: 0.75 })],
      [11, bank('meter-electric', { voltage_v: 230.5, current_a: 4.25, power_w: 979.5, energy_kwh: 1234.5 })],
      [12, bank('meter-gas', { volume_m3: 88.123 })],
    ]);
    const cfg = site(
      [{ id: 'T1-modbus', port }],
      [
        { id: 'T1-tank', kind: 'tank', connection: 'T1-modbus', unitId: 1, profile: 'tank-level' },
        { id: 'T1-0101-water', kind: 'meter-water', connection: 'T1-modbus', unitId: 10, profile: 'meter-water', unit: 'T1-0101' },
        { id: 'T1-0101-electric', kind: 'meter-electric', connection: 'T1-modbus', unitId: 11, profile: 'meter-electric', unit: 'T1-0101' },
        { id: 'T1-0101-gas', kind: 'meter-gas', connection: 'T1-modbus', unitId: 12, profile: 'meter-gas', unit: 'T1-0101' },
      ],
    );
    const ingest = new MemoryIngest();
    const { c, errors } = connector({ site: cfg, ingest, pollIntervalMs: 0 });
    await c.start();
    expect(c.status().state).toBe('running');
    await c.pollOnce();

    expect(slave.requests(1, 3)).toBe(1);
    expect(slave.requests(1, 2)).toBe(1);
    expect(slave.requests(11, 4)).toBe(2);
    expect(slave.requests(10)).toBe(1);
    expect(slave.requests(12)).toBe(1);
    expect(slave.requestCount).toBe(6);
    expect(stat(c, 'T1-modbus')).toMatchObject({ cycles: 1, lastRequests: 6, connected: true, overruns: 0 });

    await waitFor(() => ingest.readings.length === 11, 5000, '11 readings');
    expect(ingest.readings.every((r) => r.quality === 'good')).toBe(true);
    const value = (device: string, metric: string) => ingest.latest(device, metric)?.value;
    expect(value('T1-tank', 'level_mm')).toBe(1500);
    expect(value('T1-tank', 'pump_running')).toBe(1);
    expect(value('T1-tank', 'float_low')).toBe(0);
    expect(value('T1-tank', 'float_high')).toBe(1);
    expect(value('T1-0101-water', 'volume_m3')).toBe(1234.567);
    expect(value('T1-0101-water', 'flow_m3h')).toBe(0.75);
    expect(value('T1-0101-electric', 'voltage_v')).toBe(230.5);
    expect(value('T1-0101-electric', 'current_a')).toBe(4.25);
    expect(value('T1-0101-electric', 'power_w')).toBe(979.5);
    expect(value('T1-0101-electric', 'energy_kwh')).toBe(1234.5);
    expect(value('T1-0101-gas', 'volume_m3')).toBe(88.123);
    expect(ingest.latest('T1-0101-electric', 'energy_kwh')).toMatchObject({ building: 'T1', kind: 'meter-electric', unit: 'T1-0101', engUnit: 'kWh' });
    expect(errors).toEqual([]);
  });

  it('a dead device costs its own bus at most one timeout per cycle, goes offline, and never slows another connection', async () => {
    const dead = bank('meter-electric', {}, { fault: 'timeout' });
    const a = await slaveWith([
      [1, bank('tank-level', { level_mm: 2000 })],
      [2, dead],
    ]);
    const b = await slaveWith([[1, bank('meter-electric', { voltage_v: 229 })]]);
    const cfg = site(
      [
        { id: 'A', port: a.port, timeoutMs: 300 },
        { id: 'B', port: b.port, timeoutMs: 300 },
      ],
      [
        { id: 'A-tank', kind: 'tank', connection: 'A', unitId: 1, profile: 'tank-level' },
        { id: 'A-dead', kind: 'meter-electric', connection: 'A', unitId: 2, profile: 'meter-electric' },
        { id: 'B-meter', kind: 'meter-electric', connection: 'B', unitId: 1, profile: 'meter-electric' },
      ],
    );
    const ingest = new MemoryIngest();
    const { c, errors, metrics } = connector({ site: cfg, ingest, pollIntervalMs: 100, offlineAfterTimeouts: 3, offlineProbeEveryCycles: 5 });
    await c.start();

    // A's cycles wait 300 ms on the dead device; B's do not wait on A.
    await waitFor(() => stat(c, 'A').cycles >= 3, 20_000, 'three cycles on A');
    expect(stat(c, 'B').cycles).toBeGreaterThan(stat(c, 'A').cycles);
    await waitFor(() => stat(c, 'A').cycles >= 12, 30_000, 'twelve cycles on A');
    await c.stop();

    const cycles = stat(c, 'A').cycles;
    // Online for cycles 1-3 (one timed-out request each, the second read is skipped), then probed every 5th cycle.
    expect(a.slave.requests(2)).toBeGreaterThanOrEqual(3);
    expect(a.slave.requests(2)).toBeLessThanOrEqual(3 + Math.ceil((cycles - 3) / 5));
    expect(a.slave.requests(1)).toBeGreaterThanOrEqual(2 * (cycles - 1));
    expect(stat(c, 'A').overruns).toBeGreaterThan(0);
    expect(stat(c, 'A').offlineDevices).toBe(1);
    expect(c.deviceStatus().find((d) => d.device === 'A-dead')).toMatchObject({ online: false });
    expect(metrics.find('modbus_device_online')!.get({ device: 'A-dead' })).toBe(0);
    expect(metrics.find('modbus_timeouts_total')!.get({ connection: 'A' })).toBe(a.slave.requests(2));
    expect(errors.some((e) => e instanceof ModbusPollError && e.device === 'A-dead')).toBe(true);

    const deadReadings = ingest.of('A-dead');
    expect(deadReadings.length).toBeGreaterThan(0);
    expect(deadReadings.every((r) => r.quality === 'bad' && r.value === null)).toBe(true);
    expect(new Set(deadReadings.map((r) => r.metric))).toEqual(new Set(['voltage_v', 'current_a', 'power_w', 'energy_kwh']));
    expect(ingest.of('A-tank', 'good').length).toBeGreaterThan(0);
    expect(ingest.of('B-meter', 'bad')).toEqual([]);
    expect(ingest.latest('B-meter', 'voltage_v')?.value).toBe(229);
  });

  it('a device that comes back is polled again by itself', async () => {
    const flaky = bank('tank-level', { level_mm: 700 }, { fault: 'timeout' });
    const { port } = await slaveWith([[5, flaky]]);
    const cfg = site([{ id: 'A', port, timeoutMs: 150 }], [{ id: 'tank', kind: 'tank', connection: 'A', unitId: 5, profile: 'tank-level' }]);
    const ingest = new MemoryIngest();
    const { c } = connector({ site: cfg, ingest, pollIntervalMs: 0, offlineAfterTimeouts: 2, offlineProbeEveryCycles: 3 });
    await c.start();
    for (let i = 0; i < 3; i++) await c.pollOnce();
    expect(c.deviceStatus()[0]).toMatchObject({ online: false });
    flaky.fault = 'none';
    for (let i = 0; i < 3; i++) await c.pollOnce();
    expect(c.deviceStatus()[0]).toMatchObject({ online: true, consecutiveTimeouts: 0 });
    await waitFor(() => ingest.latest('tank', 'level_mm')?.quality === 'good', 5000, 'good level reading');
    expect(ingest.latest('tank', 'level_mm')?.value).toBe(700);
  });

  it('an exception device yields bad readings and counts exceptions by code', async () => {
    const { port } = await slaveWith([
      [1, bank('meter-electric', {}, { fault: 'exception' })],
      [2, bank('meter-gas', { volume_m3: 5 })],
    ]);
    const cfg = site(
      [{ id: 'A', port }],
      [
        { id: 'broken', kind: 'meter-electric', connection: 'A', unitId: 1, profile: 'meter-electric' },
        { id: 'gas', kind: 'meter-gas', connection: 'A', unitId: 2, profile: 'meter-gas' },
      ],
    );
    const ingest = new MemoryIngest();
    const { c, metrics } = connector({ site: cfg, ingest, pollIntervalMs: 0 });
    await c.start();
    await c.pollOnce();
    await waitFor(() => ingest.readings.length === 5, 5000, '5 readings');
    expect(ingest.of('broken').map((r) => [r.metric, r.value, r.quality])).toEqual([
      ['voltage_v', null, 'bad'],
      ['current_a', null, 'bad'],
      ['power_w', null, 'bad'],
      ['energy_kwh', null, 'bad'],
    ]);
    // Both reads were tried: an exception proves the device is alive, unlike a timeout.
    expect(metrics.find('modbus_exceptions_total')!.get({ connection: 'A', code: '4' })).toBe(2);
    expect(metrics.find('modbus_device_errors_total')!.get({ device: 'broken', reason: 'exception' })).toBe(2);
    expect(ingest.latest('gas', 'volume_m3')).toMatchObject({ value: 5, quality: 'good' });
    expect(c.deviceStatus().find((d) => d.device === 'broken')).toMatchObject({ online: true });
  });

  it('reconnects with backoff after the slave restarts, and readings resume by themselves', async () => {
    const tank = bank('tank-level', { level_mm: 1000 });
    const { slave, port } = await slaveWith([[1, tank]]);
    const cfg = site([{ id: 'A', port, timeoutMs: 300 }], [{ id: 'tank', kind: 'tank', connection: 'A', unitId: 1, profile: 'tank-level' }]);
    const ingest = new MemoryIngest();
    const { c, metrics, statuses } = connector({ site: cfg, ingest, pollIntervalMs: 100, backoff: { initialMs: 100, maxMs: 400 } });
    await c.start();
    await waitFor(() => ingest.of('tank', 'good').length > 0, 10_000, 'first good reading');

    await slave.restart(600);
    tank.set('level_mm', 1234);
    const back = Date.now();
    await waitFor(() => ingest.readings.some((r) => r.metric === 'level_mm' && r.value === 1234 && r.ts >= back), 15_000, 'readings after restart');

    expect(statuses.map((s) => s.state)).toContain('degraded');
    expect(statuses.at(-1)).toMatchObject({ state: 'running' });
    expect(metrics.find('modbus_reconnects_total')!.get({ connection: 'A' })).toBeGreaterThanOrEqual(1);
    expect(metrics.find('modbus_connect_failures_total')!.get({ connection: 'A' })).toBeGreaterThanOrEqual(1);
    expect(metrics.find('modbus_connected')!.get({ connection: 'A' })).toBe(1);
    // While the slave was away, polls failed fast with bad readings instead of waiting.
    expect(ingest.of('tank', 'bad').length).toBeGreaterThan(0);
    expect(metrics.find('modbus_device_errors_total')!.get({ device: 'tank', reason: 'disconnected' })).toBeGreaterThan(0);
  });

  it('reports each connection down when its converter dies or nothing on it answers, and up once a device answers again', async () => {
    const tank = bank('tank-level', { level_mm: 1000 });
    const silent = bank('meter-gas', { volume_m3: 1 }, { fault: 'timeout' });
    const a = await slaveWith([[1, tank]]);
    const b = await slaveWith([[1, silent]]);
    const cfg = site(
      [
        { id: 'A', port: a.port, timeoutMs: 150 },
        { id: 'B', port: b.port, timeoutMs: 150 },
      ],
      [
        { id: 'A-tank', kind: 'tank', connection: 'A', unitId: 1, profile: 'tank-level' },
        { id: 'B-gas', kind: 'meter-gas', connection: 'B', unitId: 1, profile: 'meter-gas' },
      ],
    );
    let now = 1_000;
    const { c } = connector({ site: cfg, ingest: new MemoryIngest(), pollIntervalMs: 0, offlineAfterTimeouts: 2, backoff: { initialMs: 50, maxMs: 100 }, now: () => now });
    let changes = 0;
    c.on('connections', () => changes++);
    const state = (id: string) => c.connections().find((s) => s.id === id);
    await c.start();
    // Unknown until the first poll shows whether anything on the link answers.
    expect(c.connections()).toEqual([]);
    await c.pollOnce();
    expect(state('A')).toEqual({ id: 'A', protocol: 'modbus', state: 'up', since: 1_000, devices: ['A-tank'] });
    expect(state('B')).toBeUndefined();
    now = 2_000;
    await c.pollOnce();
    // B's socket is open, but its only device stopped answering: as good as a dead converter.
    expect(state('B')).toEqual({ id: 'B', protocol: 'modbus', state: 'down', since: 2_000, devices: ['B-gas'] });

    now = 3_000;
    const before = changes;
    await a.slave.powerOff();
    await waitFor(() => state('A')?.state === 'down', 10_000, 'A down');
    expect(state('A')!.since).toBe(3_000);
    expect(changes).toBe(before + 1);
    await a.slave.restart(0);
    now = 4_000;
    await waitFor(async () => {
      await c.pollOnce();
      return state('A')?.state === 'up';
    }, 10_000, 'A up again');
    expect(state('A')!.since).toBe(4_000);
  });

  it('a profile pointing at unmapped registers raises one clear error and a counter; the rest keeps running', async () => {
    const { port } = await slaveWith([
      [1, bank('tank-level', { level_mm: 900, pump_running: 1 })],
      [2, bank('meter-gas', { volume_m3: 12 })],
    ]);
    const cfg = site(
      [{ id: 'A', port }],
      [
        { id: 'T1-tank', kind: 'tank', connection: 'A', unitId: 1, profile: 'tank-wrong' },
        { id: 'gas', kind: 'meter-gas', connection: 'A', unitId: 2, profile: 'meter-gas' },
      ],
      {
        'tank-wrong': {
          kind: 'tank',
          points: [
            { metric: 'pump_running', function: 3, address: 1, type: 'uint16' },
            { metric: 'level_mm', function: 3, address: 100, type: 'uint16' },
          ],
        },
      },
    );
    const ingest = new MemoryIngest();
    const { c, errors, metrics } = connector({ site: cfg, ingest, pollIntervalMs: 0 });
    await c.start();
    await c.pollOnce();
    await c.pollOnce();

    const configErrors = errors.filter((e) => e instanceof ModbusConfigError);
    expect(configErrors).toHaveLength(1);
    expect(configErrors[0]!.message).toMatch(/T1-tank/);
    expect(configErrors[0]!.message).toMatch(/tank-wrong/);
    expect(configErrors[0]!.message).toMatch(/address 100/);
    expect(configErrors[0]!.message).toMatch(/Illegal Data Address/);
    expect(metrics.find('modbus_config_errors_total')!.get({ device: 'T1-tank' })).toBe(2);
    await waitFor(() => ingest.readings.length === 6, 5000, '6 readings');
    expect(ingest.latest('T1-tank', 'pump_running')).toMatchObject({ value: 1, quality: 'good' });
    expect(ingest.latest('T1-tank', 'level_mm')).toMatchObject({ value: null, quality: 'bad' });
    expect(ingest.latest('gas', 'volume_m3')).toMatchObject({ value: 12, quality: 'good' });
    expect(c.status().state).toBe('running');
  });

  it('a device that refuses unmapped gap registers gets its merged read split, without a config error', async () => {
    const strict = bank('meter-electric', { voltage_v: 231, current_a: 1.5, power_w: 346.5, energy_kwh: 10 }, { fillGaps: false });
    const { slave, port } = await slaveWith([[3, strict]]);
    const cfg = site([{ id: 'A', port }], [{ id: 'm', kind: 'meter-electric', connection: 'A', unitId: 3, profile: 'meter-electric' }]);
    const ingest = new MemoryIngest();
    const { c, errors } = connector({ site: cfg, ingest, pollIntervalMs: 0 });
    await c.start();
    await c.pollOnce();
    expect(slave.requests(3)).toBe(2);
    slave.resetCounts();
    await c.pollOnce();
    expect(slave.requests(3)).toBe(4);
    await waitFor(() => ingest.of('m').length === 8, 5000, 'two cycles of readings');
    // First cycle: the merged read is refused (3 bad), 0x0156 is fine; second cycle: all good.
    expect(ingest.of('m', 'bad').map((r) => r.metric)).toEqual(['voltage_v', 'current_a', 'power_w']);
    expect(ingest.latest('m', 'current_a')).toMatchObject({ value: 1.5, quality: 'good' });
    expect(ingest.latest('m', 'power_w')).toMatchObject({ value: 346.5, quality: 'good' });
    expect(errors.filter((e) => e instanceof ModbusConfigError)).toEqual([]);
  });

  it('an ingest that refuses readings is counted and reported, and polling goes on', async () => {
    const { port } = await slaveWith([[1, bank('meter-gas', { volume_m3: 3 })]]);
    const cfg = site([{ id: 'A', port }], [{ id: 'gas', kind: 'meter-gas', connection: 'A', unitId: 1, profile: 'meter-gas' }]);
    const ingest = new MemoryIngest();
    ingest.refuse = true;
    const { c, errors, metrics } = connector({ site: cfg, ingest, pollIntervalMs: 0 });
    await c.start();
    await c.pollOnce();
    await waitFor(() => metrics.find('modbus_ingest_errors_total')!.get() === 1, 5000, 'ingest error counted');
    expect(errors.some((e) => /ingest refused/.test(e.message))).toBe(true);
    ingest.refuse = false;
    await c.pollOnce();
    await waitFor(() => ingest.latest('gas', 'volume_m3')?.value === 3, 5000, 'reading after the ingest recovers');
  });
});
