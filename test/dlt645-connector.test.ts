import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent, Reading } from '../common/reading.ts';
import { parseSiteConfig } from '../common/site/load.ts';
import type { SiteConfig } from '../common/site/types.ts';
import { startMeterLineSerial, startMeterLineTcp, type MeterLine } from '../devices/dlt645/meter-line.ts';
import { SimulatedMeter, type SimulatedMeterOptions } from '../devices/dlt645/simulated-meter.ts';
import type { ConnectorStatus, Ingest } from '../gateway/connectors/connector.ts';
import { Dlt645Connector, type Dlt645ConnectorOptions } from '../gateway/dlt645/dlt645-connector.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { ManualClock } from './harness/manual-clock.ts';
import { freePort, waitFor } from './harness/ports.ts';
import { hasSocat, startSerialPair, type SerialPair } from './harness/socat.ts';

class MemoryIngest implements Ingest {
  readonly readings: Reading[] = [];
  submit(readings: Reading[], _events: DeviceEvent[]): Promise<void> {
    this.readings.push(...readings);
    return Promise.resolve();
  }
  of(device: string): Reading[] {
    return this.readings.filter((r) => r.device === device);
  }
  latest(device: string): Record<string, Reading> {
    return Object.fromEntries(this.of(device).map((r) => [r.metric, r]));
  }
  clear(): void {
    this.readings.length = 0;
  }
}

const ADDRESSES = ['000000000101', '000000000102', '000000000201'];
const deviceOf = (address: string) => `OB-${address.slice(-3)}-electric`;
const VALUES = [
  { energy_kwh: 1234.56, voltage_v: 221.3, current_a: 5.125, power_w: 1080.5 },
  { energy_kwh: 98765.43, voltage_v: 219.8, current_a: -0.25, power_w: -52.3 },
  { energy_kwh: 0, voltage_v: 230, current_a: 0, power_w: 0 },
];

function siteWith(line: { tcp?: { host: string; port: number }; serial?: { path: string; baudRate: number; parity: 'even' } }, timeoutMs = 1000): SiteConfig {
  return parseSiteConfig({
    site: { id: 'dlt645-test', name: 'DL/T 645 test estate' },
    dlt645: { connections: [{ id: 'OB-dlt645', ...line, timeoutMs }] },
    buildings: [
      {
        id: 'OB',
        name: 'Office block',
        type: 'office',
        units: ADDRESSES.map((a) => ({ id: `OB-${a.slice(-3)}` })),
        devices: ADDRESSES.map((a) => ({ id: deviceOf(a), kind: 'meter-electric', unit: `OB-${a.slice(-3)}`, dlt645: { connection: 'OB-dlt645', address: a } })),
      },
    ],
  });
}

function meters(options: SimulatedMeterOptions = {}): Map<string, SimulatedMeter> {
  return new Map(ADDRESSES.map((a, i) => [a, new SimulatedMeter(a, { initial: VALUES[i], ...options })]));
}

const running: { connectors: Dlt645Connector[]; lines: MeterLine[] } = { connectors: [], lines: [] };

function connector(site: SiteConfig, options: Partial<Dlt645ConnectorOptions> = {}) {
  const metrics = new MetricsRegistry();
  const ingest = new MemoryIngest();
  const c = new Dlt645Connector({ site, ingest, metrics, pollIntervalMs: 0, ...options });
  const errors: Error[] = [];
  const statuses: ConnectorStatus[] = [];
  c.on('error', (e) => errors.push(e));
  c.on('status', (s) => statuses.push(s));
  running.connectors.push(c);
  const metric = (name: string, labels: Record<string, string> = { connection: 'OB-dlt645' }) => metrics.find(name)?.get(labels) ?? 0;
  return { c, ingest, errors, statuses, metric };
}

async function tcpLine(m = meters()): Promise<{ line: MeterLine; port: number; meters: Map<string, SimulatedMeter> }> {
  const port = await freePort();
  const line = await startMeterLineTcp({ port, meters: m });
  running.lines.push(line);
  return { line, port, meters: m };
}

const tcp = (port: number) => ({ tcp: { host: '127.0.0.1', port } });

afterEach(async () => {
  await Promise.all(running.connectors.splice(0).map((c) => c.stop()));
  await Promise.all(running.lines.splice(0).map((l) => l.stop()));
});

describe('DL/T 645 connector over a TCP serial converter', () => {
  it('reads every data item of every meter, one request on the line at a time, and the values land right', async () => {
    // A slow turnaround keeps each answer pending a while, so a request sent too early would be seen.
    const { line, port } = await tcpLine(meters({ responseDelayMs: 10 }));
    const { c, ingest, errors, statuses, metric } = connector(siteWith(tcp(port)));
    await c.start();
    expect(c.status().state).toBe('running');
    await c.pollOnce();
    expect(line.requestCount).toBe(12);
    expect(line.overlappingRequests).toBe(0);
    ADDRESSES.forEach((a, i) => {
      const latest = ingest.latest(deviceOf(a));
      for (const [m, v] of Object.entries(VALUES[i]!)) expect(latest[m], `${a} ${m}`).toMatchObject({ value: v, quality: 'good' });
    });
    expect(ingest.latest('OB-101-electric').energy_kwh).toEqual({
      building: 'OB', device: 'OB-101-electric', kind: 'meter-electric', unit: 'OB-101', metric: 'energy_kwh', value: 1234.56, engUnit: 'kWh', ts: expect.any(Number), quality: 'good',
    });
    expect(metric('dlt645_requests_total')).toBe(12);
    expect(metric('dlt645_responses_total')).toBe(12);
    expect(metric('dlt645_readings_total', { quality: 'good' })).toBe(12);
    expect(errors).toEqual([]);
    await c.stop();
    expect(statuses.map((s) => s.state)).toEqual(['starting', 'running', 'stopped']);
  });

  it('counts a wrong checksum, gives bad readings for that meter, and reads it again once it answers right', async () => {
    const { meters: m, port } = await tcpLine();
    const { c, ingest, metric } = connector(siteWith(tcp(port)));
    await c.start();
    m.get('000000000102')!.fault = 'bad-checksum';
    await c.pollOnce();
    expect(metric('dlt645_checksum_errors_total')).toBe(4);
    expect(metric('dlt645_device_errors_total', { device: 'OB-102-electric', reason: 'checksum' })).toBe(4);
    expect(ingest.of('OB-102-electric').map((r) => [r.metric, r.quality, r.value])).toEqual([
      ['energy_kwh', 'bad', null],
      ['voltage_v', 'bad', null],
      ['current_a', 'bad', null],
      ['power_w', 'bad', null],
    ]);
    expect(ingest.of('OB-201-electric').every((r) => r.quality === 'good')).toBe(true);
    // A garbled answer is still an answer: the meter stays online.
    expect(metric('dlt645_device_online', { device: 'OB-102-electric' })).toBe(1);

    m.get('000000000102')!.fault = 'none';
    ingest.clear();
    await c.pollOnce();
    expect(ingest.of('OB-102-electric').map((r) => r.quality)).toEqual(['good', 'good', 'good', 'good']);
    expect(metric('dlt645_checksum_errors_total')).toBe(4);
  });

  it('counts a frame from the wrong address, ignores it, and times the read out', async () => {
    const { meters: m, port } = await tcpLine();
    const { c, ingest, metric } = connector(siteWith(tcp(port), 200));
    await c.start();
    m.get('000000000101')!.fault = 'wrong-address';
    await c.pollOnce();
    // The first read gets the other meter's answer and no answer of its own; the rest of the meter is skipped.
    expect(metric('dlt645_wrong_address_total')).toBe(1);
    expect(metric('dlt645_timeouts_total')).toBe(1);
    expect(m.get('000000000101')!.requests).toBe(1);
    expect(ingest.of('OB-101-electric').map((r) => r.quality)).toEqual(['bad', 'bad', 'bad', 'bad']);
    expect(ingest.of('OB-102-electric').map((r) => r.quality)).toEqual(['good', 'good', 'good', 'good']);
    m.get('000000000101')!.fault = 'none';
    ingest.clear();
    await c.pollOnce();
    expect(ingest.of('OB-101-electric').map((r) => r.quality)).toEqual(['good', 'good', 'good', 'good']);
  });

  it('takes a silent meter offline after 3 timeouts, probes it every 5 cycles, and brings it back when it answers', async () => {
    const { meters: m, port } = await tcpLine();
    const { c, ingest, errors, metric } = connector(siteWith(tcp(port), 150));
    await c.start();
    const silent = m.get('000000000201')!;
    silent.fault = 'silent';
    for (let i = 0; i < 3; i++) await c.pollOnce();
    expect(silent.requests).toBe(3);
    expect(metric('dlt645_timeouts_total')).toBe(3);
    expect(metric('dlt645_device_online', { device: 'OB-201-electric' })).toBe(0);
    expect(c.meterStatus().find((s) => s.device === 'OB-201-electric')).toMatchObject({ online: false, consecutiveTimeouts: 3 });
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/OB-201-electric \(address 000000000201 on OB-dlt645\) did not answer 3 times in a row; probing it every 5 cycles/)]);

    // Cycles 4 to 7 leave it alone while the others are read; cycle 8 probes it.
    const othersBefore = m.get('000000000101')!.requests;
    for (let i = 0; i < 4; i++) await c.pollOnce();
    expect(m.get('000000000101')!.requests).toBe(othersBefore + 16);
    expect(silent.requests).toBe(3);
    silent.fault = 'none';
    ingest.clear();
    await c.pollOnce();
    expect(silent.requests).toBe(7);
    expect(ingest.of('OB-201-electric').map((r) => r.quality)).toEqual(['good', 'good', 'good', 'good']);
    expect(metric('dlt645_device_online', { device: 'OB-201-electric' })).toBe(1);
  });

  it('gives a bad reading for a data item the meter refuses (abnormal answer), counted by error byte and reported once', async () => {
    const { port } = await tcpLine(meters({ serves: ['00010000', '02010100'] }));
    const { c, ingest, errors, metric } = connector(siteWith(tcp(port)));
    await c.start();
    await c.pollOnce();
    await c.pollOnce();
    expect(metric('dlt645_abnormal_replies_total', { connection: 'OB-dlt645', code: '02' })).toBe(12);
    const latest = ingest.latest('OB-101-electric');
    expect(latest.energy_kwh).toMatchObject({ value: 1234.56, quality: 'good' });
    expect(latest.voltage_v).toMatchObject({ value: 221.3, quality: 'good' });
    expect(latest.current_a).toMatchObject({ value: null, quality: 'bad', engUnit: 'A' });
    expect(latest.power_w).toMatchObject({ value: null, quality: 'bad', engUnit: 'W' });
    expect(metric('dlt645_device_online', { device: 'OB-101-electric' })).toBe(1);
    expect(errors).toHaveLength(6);
    expect(errors[0]!.message).toBe('device OB-101-electric: meter 000000000101 refused data item 02020100: no requested data (error byte 02H); check dataItems of the device in the site file');
  });

  it('is degraded while the converter is gone, fails reads at once, and reads again once it is back', async () => {
    const { line, port } = await tcpLine();
    const clock = new ManualClock();
    const { c, ingest, statuses, metric } = connector(siteWith(tcp(port)), { clock });
    await c.start();
    await line.stop();
    await waitFor(() => statuses.at(-1)?.state === 'degraded', 10_000, 'degraded status');
    expect(c.status()).toEqual({ connector: 'dlt645', state: 'degraded', detail: 'DL/T 645 connection down: OB-dlt645' });
    ingest.clear();
    await c.pollOnce();
    expect(ingest.readings).toHaveLength(12);
    expect(ingest.readings.every((r) => r.quality === 'bad')).toBe(true);
    expect(metric('dlt645_device_errors_total', { device: 'OB-101-electric', reason: 'disconnected' })).toBe(1);
    // Twelve failed reads, one reconnect attempt waiting.
    expect(clock.pending).toHaveLength(1);

    await line.restart();
    clock.advance(clock.pending[0]! - clock.now());
    await waitFor(() => c.status().state === 'running', 10_000, 'reconnected');
    expect(metric('dlt645_reconnects_total')).toBe(1);
    ingest.clear();
    await c.pollOnce();
    expect(ingest.readings.every((r) => r.quality === 'good')).toBe(true);
  });
});

describe.skipIf(!hasSocat())('DL/T 645 connector on a serial line (socat pty pair)', () => {
  let pair: SerialPair;
  let line: MeterLine;
  const m = meters({ responseDelayMs: 10 });

  beforeAll(async () => {
    pair = await startSerialPair();
    line = await startMeterLineSerial({ path: pair.devicePath, baudRate: 2400, parity: 'even', meters: m });
  });

  afterAll(async () => {
    await line?.stop();
    await pair?.stop();
  });

  it('reads every meter at 2400 baud 8E1, one request at a time, values right', async () => {
    const { c, ingest, errors, metric } = connector(siteWith({ serial: { path: pair.gatewayPath, baudRate: 2400, parity: 'even' } }));
    await c.start();
    expect(c.status().state).toBe('running');
    await c.pollOnce();
    expect(line.requestCount).toBe(12);
    expect(line.overlappingRequests).toBe(0);
    ADDRESSES.forEach((a, i) => {
      const latest = ingest.latest(deviceOf(a));
      for (const [name, v] of Object.entries(VALUES[i]!)) expect(latest[name], `${a} ${name}`).toMatchObject({ value: v, quality: 'good' });
    });
    expect(metric('dlt645_responses_total')).toBe(12);
    expect(errors).toEqual([]);
  });
});
