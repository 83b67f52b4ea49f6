import { EventEmitter } from 'node:events';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { Dlt645DeviceConfig } from '../../common/protocols/dlt645.ts';
import type { Reading } from '../../common/reading.ts';
import type { DeviceConfig, SiteConfig } from '../../common/site/types.ts';
import type { ConnectionStatus } from '../../common/topics.ts';
import type { Clock } from '../clock.ts';
import type { Connector, ConnectorEvents, ConnectorState, ConnectorStatus, Ingest } from '../connectors/connector.ts';
import { deviceReading } from '../connectors/converter.ts';
import { DEFAULT_PRESENCE, DevicePresence, type PresencePolicy } from '../connectors/device-presence.ts';
import { handOver } from '../connectors/hand-over.ts';
import { LinkState } from '../connectors/link-state.ts';
import { PollCycle } from '../connectors/poll-cycle.ts';
import type { BackoffOptions } from '../connectors/reconnector.ts';
import type { Counter, Gauge, MetricsRegistry } from '../../common/metrics.ts';
import { convertDataItem } from './convert.ts';
import { Dlt645Line, Dlt645RequestError } from './dlt645-line.ts';

export interface Dlt645ConnectorOptions {
  site: SiteConfig;
  ingest: Ingest;
  metrics: MetricsRegistry;
  logger?: Logger;
  /** Default: the site's gateway.pollIntervalMs. 0: poll only when pollOnce() is called. */
  pollIntervalMs?: number;
  /** Consecutive timeouts after which a meter is offline and only probed now and then. Default 3. */
  offlineAfterTimeouts?: number;
  /** An offline meter is probed once every this many cycles. Default 5. */
  offlineProbeEveryCycles?: number;
  backoff?: BackoffOptions;
  /** Times the reconnect back-off of the lines. Default: the system clock. */
  clock?: Clock;
  /** Time of readings and of line changes. Default: Date.now. */
  now?: () => number;
}

/** A meter or line problem worth the operator's attention (offline meter, refused data item, failed ingest). */
export class Dlt645PollError extends Error {
  override name = 'Dlt645PollError';
  constructor(
    readonly connection: string,
    readonly device: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface Dlt645MeterStatus {
  device: string;
  connection: string;
  address: string;
  online: boolean;
  consecutiveTimeouts: number;
  lastGoodAt: number | undefined;
}

interface MeterPoll {
  config: DeviceConfig;
  meter: Dlt645DeviceConfig;
  presence: DevicePresence;
  log: Logger;
  /** Data items the meter refused, so each is reported once, not every cycle. */
  refused: Set<string>;
}

interface LinePoll {
  line: Dlt645Line;
  loop: PollCycle;
  meters: MeterPoll[];
  link: LinkState;
}

interface Meters {
  deviceErrors: Counter;
  deviceOnline: Gauge;
  decodeErrors: Counter;
  overruns: Counter;
  cycleSeconds: Gauge;
  ingestErrors: Counter;
  readings: Counter;
}

function meters(m: MetricsRegistry): Meters {
  return {
    deviceErrors: m.counter('dlt645_device_errors_total', 'Failed DL/T 645 reads by device and reason (timeout, checksum, abnormal, disconnected, io)'),
    deviceOnline: m.gauge('dlt645_device_online', '1 while a DL/T 645 meter answers, 0 once it is offline'),
    decodeErrors: m.counter('dlt645_decode_errors_total', 'DL/T 645 data that could not be used (not BCD, wrong length), by device and metric'),
    overruns: m.counter('dlt645_poll_overruns_total', 'DL/T 645 poll cycles skipped because the previous one was still running, by connection'),
    cycleSeconds: m.gauge('dlt645_poll_cycle_seconds', 'Duration of the last DL/T 645 poll cycle, by connection'),
    ingestErrors: m.counter('dlt645_ingest_errors_total', 'DL/T 645 readings the ingest refused'),
    readings: m.counter('dlt645_readings_total', 'Readings produced by the DL/T 645 connector, by quality'),
  };
}

/**
 * Polls the DL/T 645 meters of the site (docs/gateway.md). Each line runs its own poll cycle, so
 * lines are read in parallel; on a line the meters are read in turn, one data item per request,
 * one request on the wire at a time. Failed reads become `bad` readings; nothing is thrown out of
 * the loop.
 */
export class Dlt645Connector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly name = 'dlt645';
  private readonly lines: LinePoll[] = [];
  private readonly meters: Meters;
  private readonly log: Logger;
  private readonly pollIntervalMs: number;
  private readonly presence: PresencePolicy;
  private state: ConnectorState = 'stopped';
  /** While stop() closes the connections, their closing is not news. */
  private stopping = false;
  private lastStatus: ConnectorStatus | undefined;
  private readonly now: () => number;

  constructor(private readonly options: Dlt645ConnectorOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.meters = meters(options.metrics);
    this.log = (options.logger ?? createLogger('gateway')).child({ connector: 'dlt645' });
    this.pollIntervalMs = options.pollIntervalMs ?? options.site.gateway.pollIntervalMs;
    this.presence = {
      offlineAfterTimeouts: options.offlineAfterTimeouts ?? DEFAULT_PRESENCE.offlineAfterTimeouts,
      probeEveryCycles: options.offlineProbeEveryCycles ?? DEFAULT_PRESENCE.probeEveryCycles,
    };
    for (const c of options.site.dlt645.connections) {
      const line = new Dlt645Line(c, {
        metrics: options.metrics,
        logger: this.log,
        ...(options.backoff ? { backoff: options.backoff } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
      });
      const link = new LinkState(
        c.id,
        'dlt645',
        options.site.devices.filter((d) => d.dlt645?.connection === c.id).map((d) => d.id),
        this.now,
        () => {
          if (this.state === 'running' && !this.stopping) this.emit('connections');
        },
      );
      line.on('connected', () => {
        link.link(true);
        this.updateStatus();
      });
      line.on('disconnected', () => {
        if (this.stopping) return;
        link.link(false);
        this.updateStatus();
      });
      const polls: MeterPoll[] = options.site.devices
        .filter((d) => d.dlt645?.connection === c.id)
        .map((d) => {
          this.meters.deviceOnline.set(1, { device: d.id });
          return { config: d, meter: d.dlt645!, presence: new DevicePresence(this.presence), log: this.log.child({ device: d.id, address: d.dlt645!.address }), refused: new Set<string>() };
        });
      const entry: LinePoll = {
        line,
        link,
        meters: polls,
        loop: new PollCycle((n) => this.cycle(entry, n), {
          overrun: () => this.meters.overruns.inc({ connection: c.id }),
          cycleEnded: (ms) => this.meters.cycleSeconds.set(ms / 1000, { connection: c.id }),
        }),
      };
      this.lines.push(entry);
    }
  }

  async start(): Promise<void> {
    this.state = 'starting';
    this.updateStatus();
    await Promise.all(
      this.lines.map(async (l) => {
        if (!(await l.line.open())) l.link.link(false);
      }),
    );
    this.state = 'running';
    this.updateStatus();
    if (this.pollIntervalMs > 0) for (const l of this.lines) l.loop.start(this.pollIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.lines.map(async (l) => {
        const cycleDone = l.loop.stop();
        await l.line.close();
        await cycleDone;
      }),
    );
    this.state = 'stopped';
    this.stopping = false;
    this.updateStatus();
  }

  /** Runs one poll cycle on every line (a cycle already running is awaited, not doubled). */
  async pollOnce(): Promise<void> {
    await Promise.all(this.lines.map((l) => l.loop.tick()));
  }

  status(): ConnectorStatus {
    if (this.state !== 'running') return { connector: this.name, state: this.state };
    const down = this.lines.filter((l) => !l.line.connected).map((l) => l.line.id);
    if (down.length === 0) return { connector: this.name, state: 'running' };
    return { connector: this.name, state: 'degraded', detail: `DL/T 645 connection down: ${down.join(', ')}` };
  }

  connections(): ConnectionStatus[] {
    return this.lines.map((l) => l.link.status()).filter((s) => s !== undefined);
  }

  meterStatus(): Dlt645MeterStatus[] {
    return this.lines.flatMap((l) =>
      l.meters.map((m) => ({
        device: m.config.id,
        connection: l.line.id,
        address: m.meter.address,
        online: !m.presence.offline,
        consecutiveTimeouts: m.presence.consecutiveTimeouts,
        lastGoodAt: m.presence.lastGoodAt,
      })),
    );
  }

  private async cycle(l: LinePoll, n: number): Promise<void> {
    for (const m of l.meters) {
      if (l.loop.stopped) break;
      try {
        await this.pollMeter(l, m, n);
      } catch (err) {
        this.report(new Dlt645PollError(l.line.id, m.config.id, `poll of ${m.config.id} failed: ${(err as Error).message}`));
      }
    }
  }

  private async pollMeter(l: LinePoll, m: MeterPoll, cycle: number): Promise<void> {
    const { line, loop } = l;
    if (!m.presence.due(cycle)) return;
    const readings: Reading[] = [];
    const device = m.config.id;
    const items = m.meter.dataItems;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      try {
        const data = await line.read({ address: m.meter.address, item: item.id, timeoutMs: m.meter.timeoutMs });
        const ts = this.now();
        const converted = convertDataItem({ item, data }, m.config, ts);
        readings.push(...converted.readings);
        for (const p of converted.problems) {
          this.meters.decodeErrors.inc({ device, metric: p.metric, reason: p.reason });
          m.log.warn({ metric: p.metric, reason: p.reason, detail: p.detail }, 'DL/T 645 value unusable');
        }
        this.answered(l, m, converted.problems.length === 0 ? ts : undefined);
        m.refused.delete(item.id);
      } catch (err) {
        // Interrupted by stop(): what was read is real, the interrupted read is not a meter failure.
        if (loop.stopped) break;
        const e = err instanceof Dlt645RequestError ? err : new Dlt645RequestError('io', String(err));
        this.meters.deviceErrors.inc({ device, reason: e.kind });
        const ts = this.now();
        if (e.kind === 'abnormal' || e.kind === 'checksum' || e.kind === 'io') {
          readings.push(deviceReading(m.config, item.metric, null, ts, item.engUnit));
          if (e.kind !== 'io') this.answered(l, m, undefined);
          if (e.kind === 'abnormal' && !m.refused.has(item.id)) {
            m.refused.add(item.id);
            this.report(new Dlt645PollError(line.id, device, `device ${device}: ${e.message}; check dataItems of the device in the site file`));
          }
          continue;
        }
        // A timeout or a lost line: the meter's other items would fail the same way, each costing the line another timeout.
        for (const rest of items.slice(i)) readings.push(deviceReading(m.config, rest.metric, null, ts, rest.engUnit));
        if (e.kind === 'timeout') this.timedOut(l, m, cycle);
        break;
      }
    }
    handOver(this.options.ingest, readings, this.meters, (err) =>
      this.report(new Dlt645PollError(line.id, undefined, `ingest refused ${readings.length} DL/T 645 readings: ${(err as Error)?.message ?? String(err)}`)),
    );
  }

  private answered(l: LinePoll, m: MeterPoll, goodAt: number | undefined): void {
    l.link.answered();
    if (m.presence.answered(goodAt)) {
      this.meters.deviceOnline.set(1, { device: m.config.id });
      m.log.info({}, 'DL/T 645 meter answers again');
    }
  }

  private timedOut({ line, link, meters }: LinePoll, m: MeterPoll, cycle: number): void {
    if (!m.presence.timedOut(cycle)) return;
    if (meters.every((x) => x.presence.offline)) link.silent();
    this.meters.deviceOnline.set(0, { device: m.config.id });
    this.report(
      new Dlt645PollError(
        line.id,
        m.config.id,
        `meter ${m.config.id} (address ${m.meter.address} on ${line.id}) did not answer ${m.presence.consecutiveTimeouts} times in a row; probing it every ${this.presence.probeEveryCycles} cycles`,
      ),
    );
  }

  /** Emits a survivable problem; logged when nobody listens, so it never throws. */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.log.error({ err: err.message }, 'DL/T 645 connector problem');
  }

  private updateStatus(): void {
    const s = this.status();
    if (this.lastStatus && this.lastStatus.state === s.state && this.lastStatus.detail === s.detail) return;
    this.lastStatus = s;
    this.emit('status', s);
  }
}
