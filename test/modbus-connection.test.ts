import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.ts';
import { BUILTIN_PROFILES } from '../common/profiles.ts';
import { startTcpSlave, type ModbusSlave } from '../devices/modbus/modbus-slave.ts';
import { RegisterBank } from '../devices/modbus/register-bank.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { ModbusConnection, ModbusRequestError, type ModbusConnectionOptions } from '../gateway/modbus/modbus-connection.ts';
import { ManualClock } from './harness/manual-clock.ts';
import { freePort, waitFor } from './harness/ports.ts';

const open: { conns: ModbusConnection[]; slaves: ModbusSlave[] } = { conns: [], slaves: [] };

function connection(port: number, options: Partial<ModbusConnectionOptions> = {}): ModbusConnection {
  const conn = new ModbusConnection(
    { id: 'c1', tcp: { host: '127.0.0.1', port }, timeoutMs: 200, maxGapRegisters: 16 },
    { metrics: new MetricsRegistry(), logger: createLogger('test'), ...options },
  );
  open.conns.push(conn);
  return conn;
}

afterEach(async () => {
  await Promise.all(open.conns.splice(0).map((c) => c.close()));
  await Promise.all(open.slaves.splice(0).map((s) => s.stop()));
});

describe('ModbusConnection', () => {
  it('fails a request at once while down, and retries with backoff, one attempt at a time', async () => {
    const port = await freePort();
    const clock = new ManualClock();
    const conn = connection(port, { backoff: { initialMs: 200, maxMs: 800 }, clock });
    expect(await conn.open()).toBe(false);
    expect(conn.counters.connectFailures).toBe(1);
    const reads = Array.from({ length: 100 }, () => conn.read({ unitId: 1, fc: 3, address: 0, count: 1, timeoutMs: 60_000 }).catch((e: unknown) => e));
    const results = await Promise.all(reads);
    expect(results.every((e) => e instanceof ModbusRequestError && e.kind === 'disconnected')).toBe(true);
    // One attempt waits, whatever the number of failed reads; none was made for them.
    expect(clock.pending).toHaveLength(1);
    expect(conn.counters.connectFailures).toBe(1);
    expect(conn.counters.requests).toBe(0);

    // Each delay is between half and all of its step: 200, 400, 800, then capped at 800 ms.
    const delays: number[] = [];
    for (const step of [200, 400, 800, 800]) {
      await waitFor(() => clock.pending.length === 1, 10_000, 'the next attempt to be scheduled');
      const delay = (clock.pending[0] as number) - clock.now();
      expect(delay).toBeGreaterThanOrEqual(step / 2);
      expect(delay).toBeLessThanOrEqual(step);
      delays.push(delay);
      const failures = conn.counters.connectFailures;
      clock.advance(delay);
      await waitFor(() => conn.counters.connectFailures === failures + 1, 10_000, 'the attempt to fail');
    }
    expect(conn.counters.connectFailures).toBe(5);

    const slave = await startTcpSlave({ port, banks: new Map([[1, new RegisterBank(BUILTIN_PROFILES['tank-level']!, { initial: { level_mm: 42 } })]]) });
    open.slaves.push(slave);
    await waitFor(() => clock.pending.length === 1, 10_000, 'the next attempt to be scheduled');
    clock.advance(800);
    await waitFor(() => conn.connected, 10_000, 'reconnect');
    expect(await conn.read({ unitId: 1, fc: 3, address: 0, count: 1, timeoutMs: 1000 })).toEqual([42]);
    expect(conn.counters.reconnects).toBe(1);
    expect(clock.pending).toEqual([]);
  });

  it('re-opens a TCP socket whose peer went silent', async () => {
    const port = await freePort();
    const bank = new RegisterBank(BUILTIN_PROFILES['tank-level']!, { fault: 'timeout' });
    const slave = await startTcpSlave({ port, banks: new Map([[1, bank]]) });
    open.slaves.push(slave);
    const conn = connection(port, { reconnectAfterTimeouts: 2, backoff: { initialMs: 50, maxMs: 100 } });
    expect(await conn.open()).toBe(true);
    const read = () => conn.read({ unitId: 1, fc: 3, address: 0, count: 1, timeoutMs: 100 }).catch((e: ModbusRequestError) => e.kind);
    expect(await read()).toBe('timeout');
    expect(conn.counters.reconnects).toBe(0);
    expect(await read()).toBe('timeout');
    await waitFor(() => conn.counters.reconnects === 1 && conn.connected, 10_000, 'reconnect after silence');
    bank.fault = 'none';
    expect(await read()).toEqual([0]);
  });

  it('answers exceptions with their code, and keeps going after a timeout', async () => {
    const port = await freePort();
    const bank = new RegisterBank(BUILTIN_PROFILES['meter-gas']!, { initial: { volume_m3: 65.536 } });
    const slave = await startTcpSlave({ port, banks: new Map([[7, bank]]) });
    open.slaves.push(slave);
    const conn = connection(port);
    expect(await conn.open()).toBe(true);
    const err = await conn.read({ unitId: 7, fc: 3, address: 10, count: 2, timeoutMs: 500 }).catch((e: ModbusRequestError) => e);
    expect(err).toMatchObject({ kind: 'exception', code: 2 });
    expect(await conn.read({ unitId: 8, fc: 3, address: 0, count: 2, timeoutMs: 100 }).catch((e: ModbusRequestError) => e.kind)).toBe('timeout');
    expect(await conn.read({ unitId: 7, fc: 3, address: 0, count: 2, timeoutMs: 500 })).toEqual([1, 0]);
    expect(conn.counters).toMatchObject({ requests: 3, responses: 1, timeouts: 1, exceptions: { 2: 1 } });
  });
});
