// Scenario `modbus` (docs/design.md#targets): 200 Modbus TCP devices polled every second by the gateway's
// ModbusConnector in its own process; merged reads, cycle times, CPU; then 10 dead devices.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_PROFILES } from '../../common/profiles.ts';
import { planReads } from '../../gateway/modbus/read-plan.ts';
import { forkTs, type BenchChild } from '../child-process.ts';
import { ProcessSampler, type ProcessUsage } from '../proc-sampler.ts';
import { fmt, percentile, sleep, type BenchOptions, type ScenarioResult } from '../scenario.ts';
import type { CycleSample } from './poller-process.ts';
import { DEVICE_PROFILES } from './slaves-process.ts';

const KIND = { 'meter-electric': 'meter-electric', 'tank-level': 'tank', 'meter-water': 'meter-water' } as const;
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
/** The connection of TCP device `i`, one per device. */
const tcpConnectionId = (i: number) => `tcp-${String(i + 1).padStart(3, '0')}`;
const tcp = (s: CycleSample) => s.connection.startsWith('tcp-');

export interface ModbusOptions {
  devices: number;
  busUnits: number;
  timeoutMs: number;
  maxGapRegisters: number;
  healthyMs: number;
  deadMs: number;
  deadDevices: number;
  deadBusUnits: number;
}

function siteRaw(o: ModbusOptions, ports: number[], busPort: number): Record<string, unknown> {
  const units: { id: string }[] = [];
  const devices: Record<string, unknown>[] = [];
  const connections: Record<string, unknown>[] = [];
  const device = (id: string, i: number, connection: string, unitId: number) => {
    const profile = DEVICE_PROFILES[i % DEVICE_PROFILES.length]!;
    const kind = KIND[profile];
    const d: Record<string, unknown> = { id, kind, modbus: { connection, unitId, profile } };
    if (kind !== 'tank') {
      units.push({ id: `${id}-unit` });
      d.unit = `${id}-unit`;
    }
    devices.push(d);
  };
  ports.forEach((port, i) => {
    const id = tcpConnectionId(i);
    connections.push({ id, tcp: { host: '127.0.0.1', port }, timeoutMs: o.timeoutMs, maxGapRegisters: o.maxGapRegisters });
    device(`${id}-dev`, i, id, 1);
  });
  connections.push({ id: 'bus', tcp: { host: '127.0.0.1', port: busPort }, timeoutMs: o.timeoutMs, maxGapRegisters: o.maxGapRegisters });
  for (let u = 0; u < o.busUnits; u++) device(`bus-unit-${u + 1}`, u, 'bus', u + 1);
  return {
    site: { id: 'bench-modbus', name: 'Modbus benchmark estate' },
    gateway: { id: 'gw-bench-modbus', pollIntervalMs: 1000 },
    modbus: { connections },
    buildings: [{ id: 'MB', name: 'Modbus bench building', units, devices }],
  };
}

function plannedReads(i: number, maxGapRegisters: number): number {
  return planReads(BUILTIN_PROFILES[DEVICE_PROFILES[i % DEVICE_PROFILES.length]!]!.points, { maxGapRegisters }).length;
}

interface Taken {
  samples: CycleSample[];
  readings: number;
  problems: number;
}

const stats = (xs: number[]) => ({ n: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99), max: xs.length ? Math.max(...xs) : NaN });

export async function runModbus(bench: BenchOptions, overrides: Partial<ModbusOptions> = {}): Promise<ScenarioResult> {
  const phaseMs = bench.durationS ? bench.durationS * 1000 : bench.quick ? 5_000 : 30_000;
  const o: ModbusOptions = {
    devices: 200,
    busUnits: 10,
    timeoutMs: 300,
    maxGapRegisters: 16,
    healthyMs: Math.round(phaseMs / 1000) * 1000,
    deadMs: bench.quick ? 6_000 : 15_000,
    deadDevices: 10,
    deadBusUnits: 1,
    ...overrides,
  };
  let slaves: BenchChild | undefined;
  let poller: BenchChild | undefined;
  const dataDir = await mkdtemp(join(tmpdir(), 'fm-bench-modbus-'));
  try {
    slaves = forkTs(here('./slaves-process.ts'));
    await slaves.next('ready');
    const { ports, busPort } = await slaves.request<{ ports: number[]; busPort: number }>({ cmd: 'start', devices: o.devices, busUnits: o.busUnits });
    poller = forkTs(here('./poller-process.ts'), { args: [dataDir] });
    await poller.next('ready');
    await poller.request({ cmd: 'start', site: siteRaw(o, ports, busPort) });
    await sleep(3_000);

    // Healthy: every device answers. The window runs from the middle of one second to the middle
    // of another, so the slaves count exactly healthyMs / 1000 cycles of every connection.
    const warm = await poller.request<Taken>({ cmd: 'take' });
    const cycleStart = Math.min(...warm.samples.filter(tcp).map((s) => s.startedAt));
    await sleep(1000 - ((Date.now() - cycleStart - 500) % 1000 + 1000) % 1000);
    await poller.request({ cmd: 'phase', phase: 'healthy' });
    await poller.request({ cmd: 'take' });
    await slaves.request({ cmd: 'reset' });
    const sampler = new ProcessSampler({ poller: poller.pid, simulators: slaves.pid });
    sampler.start();
    await sleep(o.healthyMs);
    const usage: Record<string, ProcessUsage> = sampler.stop();
    const counts = await slaves.request<{ devices: number[]; bus: number }>({ cmd: 'counts' });
    const healthy = await poller.request<Taken>({ cmd: 'take' });

    // Dead: some devices stop answering (no response at all, the worst case for a poller).
    const dead = Array.from({ length: o.deadDevices }, (_, k) => Math.floor((k * o.devices) / o.deadDevices));
    const deadUnits = Array.from({ length: o.deadBusUnits }, (_, k) => k + 2);
    await slaves.request({ cmd: 'fault', fault: 'timeout', devices: dead, busUnits: deadUnits });
    await poller.request({ cmd: 'phase', phase: 'dead' });
    await sleep(o.deadMs);
    const afterFault = await poller.request<Taken>({ cmd: 'take' });

    const deadIds = new Set(dead.map(tcpConnectionId));
    const h = healthy.samples;
    const cyclesPerConnection = o.healthyMs / 1000;
    const connectionRequestsPerCycle = h.filter(tcp).reduce((a, s) => a + s.requests, 0) / (h.filter(tcp).length / o.devices);
    const tcpRequests = counts.devices.reduce((a, b) => a + b, 0);
    const planned = Array.from({ length: o.devices }, (_, i) => plannedReads(i, o.maxGapRegisters)).reduce((a, b) => a + b, 0);
    const plannedBus = Array.from({ length: o.busUnits }, (_, u) => plannedReads(u, o.maxGapRegisters)).reduce((a, b) => a + b, 0);
    const healthyCycles = stats(h.filter(tcp).map((s) => s.ms));
    const busHealthy = stats(h.filter((s) => s.connection === 'bus').map((s) => s.ms));
    const othersAfter = stats(afterFault.samples.filter((s) => tcp(s) && !deadIds.has(s.connection)).map((s) => s.ms));
    const deadAfter = stats(afterFault.samples.filter((s) => deadIds.has(s.connection)).map((s) => s.ms));
    const busAfter = stats(afterFault.samples.filter((s) => s.connection === 'bus').map((s) => s.ms));
    const overruns = Math.max(0, ...afterFault.samples.map((s) => s.overruns));
    const requestsPerCycle = tcpRequests / cyclesPerConnection;
    const busRequestsPerCycle = counts.bus / cyclesPerConnection;
    const poll = usage.poller;
    // "Unaffected": within 10 ms or twice the healthy p99, whichever is larger (two cores shared with 201 simulators).
    const unaffectedLimit = Math.max(healthyCycles.p99 + 10, healthyCycles.p99 * 2);
    const busLimit = busHealthy.p99 + o.timeoutMs * o.deadBusUnits + 50;
    const details = { options: o, planned, plannedBus, tcpRequests, busRequests: counts.bus, cyclesPerConnection, requestsPerCycle, connectionRequestsPerCycle, busRequestsPerCycle, healthyCycles, busHealthy, othersAfter, deadAfter, busAfter, overruns, usage, readingsHealthy: healthy.readings, problems: afterFault.problems };
    return {
      scenario: 'modbus',
      status: 'ok',
      rows: [
        { measure: `requests per cycle, ${o.devices} TCP devices: slaves' counters (gateway's; planned reads)`, value: `${requestsPerCycle.toFixed(1)} (${connectionRequestsPerCycle.toFixed(1)}; ${planned})`, target: `= planned`, pass: Math.abs(requestsPerCycle - planned) <= planned * 0.02 },
        { measure: `requests per cycle, bus of ${o.busUnits} unit ids (planned)`, value: `${busRequestsPerCycle.toFixed(1)} (${plannedBus})` },
        { measure: 'poll cycle per TCP connection, p50 / p99', value: `${fmt.ms(healthyCycles.p50)} / ${fmt.ms(healthyCycles.p99)}`, target: '< 1,000 ms', pass: healthyCycles.p99 < 1000 },
        { measure: `gateway CPU, ${o.devices + o.busUnits} devices at 1 s (% of one core)`, value: poll ? `${fmt.pct(poll.meanCpuPct)} mean, ${fmt.pct(poll.peakCpuPct)} peak` : 'n/a', target: '< 25 %', pass: poll ? poll.meanCpuPct < 25 : false },
        { measure: 'gateway peak RSS', value: poll ? fmt.mb(poll.peakRssMb) : 'n/a' },
        { measure: 'simulators CPU (201 TCP slaves, one process)', value: usage.simulators ? fmt.pct(usage.simulators.meanCpuPct) : 'n/a' },
        { measure: `${o.deadDevices} devices dead: other TCP connections' cycle p50 / p99 / max`, value: `${fmt.ms(othersAfter.p50)} / ${fmt.ms(othersAfter.p99)} / ${fmt.ms(othersAfter.max)}`, target: `p99 ≤ ${fmt.ms(unaffectedLimit)}`, pass: othersAfter.p99 <= unaffectedLimit },
        { measure: `dead devices' own connections, cycle max (timeout ${o.timeoutMs} ms)`, value: fmt.ms(deadAfter.max) },
        { measure: `shared bus, ${o.deadBusUnits} of ${o.busUnits} units dead: cycle p50 / max (healthy p99 ${fmt.ms(busHealthy.p99)})`, value: `${fmt.ms(busAfter.p50)} / ${fmt.ms(busAfter.max)}`, target: `max ≤ healthy + timeout`, pass: busAfter.max <= busLimit },
        { measure: 'poll overruns (cycles skipped)', value: String(overruns), target: '0', pass: overruns === 0 },
      ],
      details,
    };
  } catch (err) {
    return { scenario: 'modbus', status: 'failed', reason: (err as Error).stack ?? String(err), rows: [] };
  } finally {
    await poller?.stop(30_000);
    await slaves?.stop(10_000);
    await rm(dataDir, { recursive: true, force: true });
  }
}
