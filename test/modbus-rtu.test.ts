import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.ts';
import { BUILTIN_PROFILES } from '../common/profiles.ts';
import type { Reading } from '../common/reading.ts';
import { parseSiteConfig } from '../common/site/load.ts';
import { startRtuSlave, type ModbusSlave } from '../devices/modbus/modbus-slave.ts';
import { RegisterBank } from '../devices/modbus/register-bank.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { ModbusConnection } from '../gateway/modbus/modbus-connection.ts';
import { ModbusConnector } from '../gateway/modbus/modbus-connector.ts';
import { waitFor } from './harness/ports.ts';
import { hasSocat, startSerialPair, type SerialPair } from './harness/socat.ts';

describe.skipIf(!hasSocat())('Modbus RTU over a socat serial pair', () => {
  let line: SerialPair;
  let slave: ModbusSlave;
  let masterPath: string;
  // A slow device keeps each request pending for a while, so a second one sent too early would be seen.
  const tank = new RegisterBank(BUILTIN_PROFILES['tank-level']!, { initial: { level_mm: 2500, pump_running: 1, float_low: 0, float_high: 1 }, responseDelayMs: 15 });
  const meter = new RegisterBank(BUILTIN_PROFILES['meter-electric']!, { initial: { voltage_v: 229.5, current_a: 3.5, power_w: 803.25, energy_kwh: 4321.5 }, responseDelayMs: 15 });

  beforeAll(async () => {
    line = await startSerialPair();
    masterPath = line.gatewayPath;
    slave = await startRtuSlave({ path: line.devicePath, baudRate: 9600, banks: new Map([[1, tank], [2, meter]]) });
  });

  afterAll(async () => {
    await slave?.stop();
    await line?.stop();
  });

  it('polls a tank and an electric meter on one bus, one request at a time, and decodes them', async () => {
    slave.resetCounts();
    const site = parseSiteConfig({
      site: { id: 'rtu-estate', name: 'RTU estate' },
      modbus: { connections: [{ id: 'bus-1', rtu: { path: masterPath, baudRate: 9600 }, timeoutMs: 1000 }] },
      buildings: [
        {
          id: 'B1',
          name: 'Block 1',
          units: [{ id: 'B1-101' }],
          devices: [
            { id: 'B1-tank', kind: 'tank', modbus: { connection: 'bus-1', unitId: 1, profile: 'tank-level' } },
            { id: 'B1-101-electric', kind: 'meter-electric', unit: 'B1-101', modbus: { connection: 'bus-1', unitId: 2, profile: 'meter-electric' } },
          ],
        },
      ],
    });
    const readings: Reading[] = [];
    const connector = new ModbusConnector({
      site,
      ingest: { submit: async (r) => void readings.push(...r) },
      metrics: new MetricsRegistry(),
      pollIntervalMs: 0,
    });
    const errors: Error[] = [];
    connector.on('error', (e) => errors.push(e));
    try {
      await connector.start();
      expect(connector.status().state).toBe('running');
      await connector.pollOnce();
      await connector.pollOnce();
      expect(slave.requestCount).toBe(8);
      expect(slave.requests(1)).toBe(4);
      expect(slave.requests(2, 4)).toBe(4);
      expect(slave.overlappingRequests).toBe(0);
      await waitFor(() => readings.length === 16, 5000, '16 readings');
      const latest = (metric: string) => readings.findLast((r) => r.metric === metric);
      expect(readings.every((r) => r.quality === 'good')).toBe(true);
      expect(latest('level_mm')?.value).toBe(2500);
      expect(latest('float_high')?.value).toBe(1);
      expect(latest('float_low')?.value).toBe(0);
      expect(latest('voltage_v')?.value).toBe(229.5);
      expect(latest('power_w')?.value).toBe(803.25);
      expect(latest('energy_kwh')).toMatchObject({ value: 4321.5, unit: 'B1-101', device: 'B1-101-electric', engUnit: 'kWh' });
      expect(errors).toEqual([]);
    } finally {
      await connector.stop();
    }
  });

  it('queues concurrent reads on the bus: none reaches the slave while another is pending', async () => {
    slave.resetCounts();
    const conn = new ModbusConnection(
      { id: 'bus-2', rtu: { path: masterPath, baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 }, timeoutMs: 1000, maxGapRegisters: 16 },
      { metrics: new MetricsRegistry(), logger: createLogger('test') },
    );
    try {
      expect(await conn.open()).toBe(true);
      const reads = [
        conn.read({ unitId: 1, fc: 3, address: 0, count: 2, timeoutMs: 1000 }),
        conn.read({ unitId: 2, fc: 4, address: 0x156, count: 2, timeoutMs: 1000 }),
        conn.read({ unitId: 1, fc: 2, address: 0, count: 2, timeoutMs: 1000 }),
        conn.read({ unitId: 2, fc: 4, address: 0, count: 2, timeoutMs: 1000 }),
        conn.read({ unitId: 1, fc: 3, address: 0, count: 1, timeoutMs: 1000 }),
      ];
      const results = await Promise.all(reads);
      expect(results).toEqual([[2500, 1], [0x4587, 0x0c00], [0, 1], [0x4365, 0x8000], [2500]]);
      expect(slave.requestCount).toBe(5);
      expect(slave.overlappingRequests).toBe(0);
      expect(conn.counters).toMatchObject({ requests: 5, responses: 5, timeouts: 0 });
    } finally {
      await conn.close();
    }
  });
});
