import { EventEmitter } from 'node:events';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { Reading } from '../../common/reading.ts';
import type { DeviceConfig, SiteConfig } from '../../common/site/types.ts';
import type { ConnectionStatus } from '../../common/topics.ts';
import type { Connector, ConnectorEvents, ConnectorState, ConnectorStatus, Ingest } from '../connectors/connector.ts';
import type { ConversionProblem } from '../connectors/converter.ts';
import { DEFAULT_PRESENCE, DevicePresence, type PresencePolicy } from '../connectors/device-presence.ts';
import { handOver } from '../connectors/hand-over.ts';
import { LinkState } from '../connectors/link-state.ts';
import { PollCycle } from '../connectors/poll-cycle.ts';
import type { Counter, Gauge, MetricsRegistry } from '../../common/metrics.ts';
import { badReadings, convertRegisters, type DecodeContext } from './decode.ts';
import { ModbusConnection, ModbusRequestError, type BackoffOptions } from './modbus-connection.ts';
import { gapRegisters, planReads, pointWidth, type ReadRequest } from './read-plan.ts';

export interface ModbusConnectorOptions {
  site: SiteConfig;
  ingest: Ingest;
  metrics: MetricsRegistry;
  logger?: Logger;
  /** Default: the site's gateway.pollIntervalMs. 0: poll only when pollOnce() is called. */
  pollIntervalMs?: number;
  /** Consecutive timeouts after which a device is offline and only probed now and then. Default 3. */
  offlineAfterTimeouts?: number;
  /** An offline device is probed once every this many cycles. Default 5. */
  offlineProbeEveryCycles?: number;
  backoff?: BackoffOptions;
  /** Time of readings and of connection changes. Default: Date.now. */
  now?: () => number;
}

/** Per-connection numbers of the last poll cycle (what `npm run bench` reports). */
export interface PollCycleStats {
  connection: string;
  transport: 'tcp' | 'rtu';
  connected: boolean;
  cycles: number;
  overruns: number;
  lastCycleMs: number;
  lastRequests: number;
  lastCycleEndedAt: number;
  devices: number;
  offlineDevices: number;
}

export interface ModbusDeviceStatus {
  device: string;
  connection: string;
  unitId: number;
  online: boolean;
  consecutiveTimeouts: number;
  lastGoodAt: number | undefined;
}

/** A device's register map does not match what the device serves (Modbus exception 2). */
export class ModbusConfigError extends Error {
  constructor(
    readonly device: string,
    message: string,
  ) {
    super(message);
    this.name = 'ModbusConfigError';
  }
}

/** A device or connection problem worth the operator's attention (offline device, failed ingest). */
export class ModbusPollError extends Error {
  constructor(
    readonly connection: string,
    readonly device: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ModbusPollError';
  }
}

interface DevicePoll {
  config: DeviceConfig;
  unitId: number;
  timeoutMs: number;
  reads: ReadRequest[];
  ctx: Omit<DecodeContext, 'ts'>;
  unusable: (problem: ConversionProblem) => void;
  log: Logger;
  presence: DevicePresence;
  /** Reads already reported as not served, so the error is raised once, not every cycle. */
  reportedUnserved: Set<ReadRequest>;
  /** Reads whose gaps the device refused and that were split into gapless reads. */
  splitDone: Set<string>;
}

interface Meters {
  deviceErrors: Counter;
  deviceOnline: Gauge;
  decodeErrors: Counter;
  configErrors: Counter;
  overruns: Counter;
  cycleSeconds: Gauge;
  ingestErrors: Counter;
  readings: Counter;
}

function meters(m: MetricsRegistry): Meters {
  return {
    deviceErrors: m.counter('modbus_device_errors_total', 'Failed Modbus reads by device and reason (timeout, exception, disconnected, io)'),
    deviceOnline: m.gauge('modbus_device_online', '1 while a Modbus device answers, 0 once it is offline'),
    decodeErrors: m.counter('modbus_decode_errors_total', 'Register values that could not be used (NaN, infinite, out of range), by device and metric'),
    configErrors: m.counter('modbus_config_errors_total', 'Reads of registers the device does not serve (Illegal Data Address), by device'),
    overruns: m.counter('modbus_poll_overruns_total', 'Poll cycles skipped because the previous one was still running, by connection'),
    cycleSeconds: m.gauge('modbus_poll_cycle_seconds', 'Duration of the last poll cycle, by connection'),
    ingestErrors: m.counter('modbus_ingest_errors_total', 'Modbus readings the ingest refused'),
    readings: m.counter('modbus_readings_total', 'Readings produced by the Modbus connector, by quality'),
  };
}

function readKey(r: ReadRequest): string {
  return `${r.fc}:${r.address}:${r.count}`;
}

/** What a poller hands back to its connector. */
interface PollerHost {
  submit(readings: Reading[], connection: string): void;
  report(err: Error): void;
  now(): number;
}

class ConnectionPoller {
  readonly devices: DevicePoll[] = [];
  readonly loop: PollCycle;
  lastRequests = 0;

  constructor(
    readonly conn: ModbusConnection,
    private readonly owner: PollerHost,
    private readonly meters: Meters,
    private readonly probeEvery: number,
    readonly link: LinkState,
  ) {
    this.loop = new PollCycle((n) => this.cycle(n), {
      overrun: () => this.meters.overruns.inc({ connection: this.conn.id }),
      cycleEnded: (ms) => this.meters.cycleSeconds.set(ms / 1000, { connection: this.conn.id }),
    });
  }

  stats(): PollCycleStats {
    return {
      connection: this.conn.id,
      transport: this.conn.transport,
      connected: this.conn.connected,
      cycles: this.loop.cycles,
      overruns: this.loop.overruns,
      lastCycleMs: this.loop.lastCycleMs,
      lastRequests: this.lastRequests,
      lastCycleEndedAt: this.loop.lastCycleEndedAt,
      devices: this.devices.length,
      offlineDevices: this.devices.filter((d) => d.presence.offline).length,
    };
  }

  private get stopped(): boolean {
    return this.loop.stopped;
  }

  private async cycle(n: number): Promise<void> {
    const requestsBefore = this.conn.counters.requests;
    for (const d of this.devices) {
      if (this.stopped) break;
      try {
        await this.pollDevice(d, n);
      } catch (err) {
        this.owner.report(new ModbusPollError(this.conn.id, d.config.id, `poll of ${d.config.id} failed: ${(err as Error).message}`));
      }
    }
    this.lastRequests = this.conn.counters.requests - requestsBefore;
  }

  private async pollDevice(d: DevicePoll, cycle: number): Promise<void> {
    if (!d.presence.due(cycle)) return;
    const readings: Reading[] = [];
    const device = d.config.id;
    const reads = [...d.reads];
    for (let i = 0; i < reads.length; i++) {
      const r = reads[i]!;
      try {
        const words = await this.conn.read({ unitId: d.unitId, fc: r.fc, address: r.address, count: r.count, timeoutMs: d.timeoutMs });
        const ts = this.owner.now();
        const converted = convertRegisters({ block: { fc: r.fc, address: r.address, words }, points: r.points }, d.config, ts);
        readings.push(...converted.readings);
        for (const p of converted.problems) d.unusable(p);
        this.answered(d, ts);
        d.reportedUnserved.delete(r);
      } catch (err) {
        // Interrupted by stop(): what was read is real, the interrupted read is not a device failure.
        if (this.stopped) break;
        const e = err instanceof ModbusRequestError ? err : new ModbusRequestError('io', String(err));
        this.meters.deviceErrors.inc({ device, reason: e.kind });
        if (e.kind === 'exception') {
          readings.push(...badReadings(r.points, { ...d.ctx, ts: this.owner.now() }));
          this.answered(d, undefined);
          if (e.code === 2) this.unserved(d, r);
          continue;
        }
        if (e.kind === 'io') {
          readings.push(...badReadings(r.points, { ...d.ctx, ts: this.owner.now() }));
          continue;
        }
        // A timeout or a lost connection: the rest of this device's reads would fail the same way,
        // and each would cost the bus another timeout.
        const ts = this.owner.now();
        for (const rest of reads.slice(i)) readings.push(...badReadings(rest.points, { ...d.ctx, ts }));
        if (e.kind === 'timeout') this.timedOut(d, cycle);
        break;
      }
    }
    this.owner.submit(readings, this.conn.id);
  }

  private answered(d: DevicePoll, goodAt: number | undefined): void {
    this.link.answered();
    if (d.presence.answered(goodAt)) {
      this.meters.deviceOnline.set(1, { device: d.config.id });
      d.log.info({}, 'Modbus device answers again');
    }
  }

  private timedOut(d: DevicePoll, cycle: number): void {
    if (d.presence.timedOut(cycle)) {
      if (this.devices.every((x) => x.presence.offline)) this.link.silent();
      this.meters.deviceOnline.set(0, { device: d.config.id });
      this.owner.report(
        new ModbusPollError(this.conn.id, d.config.id, `device ${d.config.id} (unit ${d.unitId} on ${this.conn.id}) did not answer ${d.presence.consecutiveTimeouts} times in a row; probing it every ${this.probeEvery} cycles`),
      );
    }
  }

  /** Exception 2: either the device refuses the unmapped gap registers of a merged read, or the profile is wrong. */
  private unserved(d: DevicePoll, r: ReadRequest): void {
    if (r.points.length > 1 && gapRegisters(r) > 0 && !d.splitDone.has(readKey(r))) {
      d.splitDone.add(readKey(r));
      const split = planReads(r.points, { maxGapRegisters: 0 });
      d.reads.splice(d.reads.indexOf(r), 1, ...split);
      d.log.info({ fc: r.fc, address: r.address, count: r.count, reads: split.length }, 'device refuses unmapped registers between points; reading them separately');
      return;
    }
    this.meters.configErrors.inc({ device: d.config.id });
    if (d.reportedUnserved.has(r)) return;
    d.reportedUnserved.add(r);
    const last = r.address + r.count - 1;
    this.owner.report(
      new ModbusConfigError(
        d.config.id,
        `device ${d.config.id}: profile '${d.config.modbus!.profile.name}' reads FC${r.fc} address ${r.address}${last > r.address ? `..${last}` : ''} (${r.points.map((p) => p.metric).join(', ')}), which unit ${d.unitId} on ${this.conn.id} does not serve (Modbus exception 2, Illegal Data Address); check the addresses in the profile`,
      ),
    );
  }
}

/**
 * Polls every Modbus device of the site. Each connection runs its own cycle, so TCP connections
 * are polled in parallel; inside a connection the devices are read in turn, one request at a
 * time. Failed reads become `bad` readings; nothing is thrown out of the loop.
 */
export class ModbusConnector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly name = 'modbus';
  private readonly pollers: ConnectionPoller[] = [];
  private readonly meters: Meters;
  private readonly log: Logger;
  private readonly pollIntervalMs: number;
  private readonly presence: PresencePolicy;
  private readonly startupErrors: Error[] = [];
  private state: ConnectorState = 'stopped';
  /** While stop() closes the connections, their closing is not news. */
  private stopping = false;
  private lastStatus: ConnectorStatus | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ModbusConnectorOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.meters = meters(options.metrics);
    this.log = options.logger ?? createLogger('modbus');
    this.pollIntervalMs = options.pollIntervalMs ?? options.site.gateway.pollIntervalMs;
    this.presence = {
      offlineAfterTimeouts: options.offlineAfterTimeouts ?? DEFAULT_PRESENCE.offlineAfterTimeouts,
      probeEveryCycles: options.offlineProbeEveryCycles ?? DEFAULT_PRESENCE.probeEveryCycles,
    };
    const host: PollerHost = { submit: (r, c) => this.submit(r, c), report: (e) => this.report(e), now: this.now };
    for (const c of options.site.modbus.connections) {
      const conn = new ModbusConnection(c, {
        metrics: options.metrics,
        logger: this.log,
        ...(options.backoff ? { backoff: options.backoff } : {}),
      });
      const onConnection = options.site.devices.filter((d) => d.modbus?.connection === c.id);
      const link = new LinkState(c.id, 'modbus', onConnection.map((d) => d.id), this.now, () => {
        if (this.state === 'running' && !this.stopping) this.emit('connections');
      });
      conn.on('connected', () => {
        link.link(true);
        this.updateStatus();
      });
      conn.on('disconnected', () => {
        if (this.stopping) return;
        link.link(false);
        this.updateStatus();
      });
      const poller = new ConnectionPoller(conn, host, this.meters, this.presence.probeEveryCycles, link);
      for (const d of onConnection) poller.devices.push(this.devicePoll(d, c.maxGapRegisters));
      this.pollers.push(poller);
    }
  }

  async start(): Promise<void> {
    this.state = 'starting';
    this.updateStatus();
    for (const e of this.startupErrors) this.report(e);
    await Promise.all(
      this.pollers.map(async (p) => {
        if (!(await p.conn.open())) p.link.link(false);
      }),
    );
    this.state = 'running';
    this.updateStatus();
    if (this.pollIntervalMs > 0) for (const p of this.pollers) p.loop.start(this.pollIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.pollers.map(async (p) => {
      const cycleDone = p.loop.stop();
      await p.conn.close();
      await cycleDone;
    }));
    this.state = 'stopped';
    this.stopping = false;
    this.updateStatus();
  }

  /** Runs one poll cycle on every connection (a cycle already running is awaited, not doubled). */
  async pollOnce(): Promise<void> {
    await Promise.all(this.pollers.map((p) => p.loop.tick()));
  }

  status(): ConnectorStatus {
    if (this.state !== 'running') return { connector: this.name, state: this.state };
    const down = this.pollers.filter((p) => !p.conn.connected).map((p) => p.conn.id);
    if (down.length === 0) return { connector: this.name, state: 'running' };
    return { connector: this.name, state: 'degraded', detail: `Modbus connection down: ${down.join(', ')}` };
  }

  connections(): ConnectionStatus[] {
    return this.pollers.map((p) => p.link.status()).filter((s) => s !== undefined);
  }

  pollCycleStats(): PollCycleStats[] {
    return this.pollers.map((p) => p.stats());
  }

  deviceStatus(): ModbusDeviceStatus[] {
    return this.pollers.flatMap((p) =>
      p.devices.map((d) => ({
        device: d.config.id,
        connection: p.conn.id,
        unitId: d.unitId,
        online: !d.presence.offline,
        consecutiveTimeouts: d.presence.consecutiveTimeouts,
        lastGoodAt: d.presence.lastGoodAt,
      })),
    );
  }

  /** Hands readings to the ingest without waiting; a refusal is counted and reported. */
  private submit(readings: Reading[], connection: string): void {
    handOver(this.options.ingest, readings, this.meters, (err) =>
      this.report(new ModbusPollError(connection, undefined, `ingest refused ${readings.length} Modbus readings: ${(err as Error)?.message ?? String(err)}`)),
    );
  }

  /** Emits a survivable problem; logged when nobody listens, so it never throws. */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.log.error({ err: err.message }, 'Modbus connector problem');
  }

  private devicePoll(d: DeviceConfig, maxGapRegisters: number): DevicePoll {
    const m = d.modbus!;
    const points = m.profile.points.filter((p) => {
      if (p.address + pointWidth(p) <= 0x10000) return true;
      this.meters.configErrors.inc({ device: d.id });
      this.startupErrors.push(new ModbusConfigError(d.id, `device ${d.id}: profile '${m.profile.name}' point ${p.metric} at address ${p.address} runs past the last Modbus address 65535; it is not polled`));
      return false;
    });
    const log = this.log.child({ device: d.id, unitId: m.unitId });
    const ctx: Omit<DecodeContext, 'ts'> = { building: d.building, device: d.id, kind: d.kind };
    if (d.unit !== undefined) ctx.unit = d.unit;
    const unusable = (p: ConversionProblem) => {
      this.meters.decodeErrors.inc({ device: d.id, metric: p.metric, reason: p.reason });
      log.warn({ metric: p.metric, reason: p.reason, detail: p.detail }, 'Modbus value unusable');
    };
    this.meters.deviceOnline.set(1, { device: d.id });
    return {
      config: d,
      unitId: m.unitId,
      timeoutMs: m.timeoutMs,
      reads: planReads(points, { maxGapRegisters }),
      ctx,
      unusable,
      log,
      presence: new DevicePresence(this.presence),
      reportedUnserved: new Set(),
      splitDone: new Set(),
    };
  }

  private updateStatus(): void {
    const s = this.status();
    if (this.lastStatus && this.lastStatus.state === s.state && this.lastStatus.detail === s.detail) return;
    this.lastStatus = s;
    this.emit('status', s);
  }
}
