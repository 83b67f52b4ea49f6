import { EventEmitter } from 'node:events';
import { errorReasons, readAnswer, readRequest } from '../../common/dlt645/data-items.ts';
import { FROM_METER, FrameReader, encodeFrame, hex, type ReadEvent } from '../../common/dlt645/frame.ts';
import type { Logger } from '../../common/logger.ts';
import type { Dlt645ConnectionConfig } from '../../common/protocols/dlt645.ts';
import type { Clock } from '../clock.ts';
import { closeByteLink, openByteLink, type ByteLink } from '../connectors/byte-link.ts';
import { Reconnector, type BackoffOptions } from '../connectors/reconnector.ts';
import type { Counter, Gauge, MetricsRegistry } from '../../common/metrics.ts';

/** Why a read got no usable answer. */
export type Dlt645FailureKind = 'timeout' | 'checksum' | 'abnormal' | 'disconnected' | 'io';

export class Dlt645RequestError extends Error {
  override name = 'Dlt645RequestError';
  constructor(
    readonly kind: Dlt645FailureKind,
    message: string,
    /** The error byte of an abnormal answer. */
    readonly code?: number,
  ) {
    super(message);
  }
}

export interface Dlt645ReadRequest {
  /** The meter's 12-digit address. */
  address: string;
  /** Data identifier DI3..DI0, e.g. `00010000`. */
  item: string;
  timeoutMs: number;
}

export interface Dlt645LineOptions {
  metrics: MetricsRegistry;
  logger: Logger;
  backoff?: BackoffOptions;
  /** How long opening the socket or port may take. Default: max(timeoutMs, 2000). */
  connectTimeoutMs?: number;
  /** TCP only: re-open the socket after this many requests in a row got no answer at all. Default 5. */
  reconnectAfterTimeouts?: number;
  /** Times the reconnect back-off. Default: the system clock. */
  clock?: Clock;
}

export interface Dlt645LineEvents {
  connected: [];
  disconnected: [reason: string];
}

interface Meters {
  requests: Counter;
  responses: Counter;
  timeouts: Counter;
  checksumErrors: Counter;
  wrongAddress: Counter;
  abnormal: Counter;
  stray: Counter;
  reconnects: Counter;
  connectFailures: Counter;
  connected: Gauge;
}

function meters(m: MetricsRegistry): Meters {
  return {
    requests: m.counter('dlt645_requests_total', 'DL/T 645 read requests sent, by connection'),
    responses: m.counter('dlt645_responses_total', 'DL/T 645 normal answers received, by connection'),
    timeouts: m.counter('dlt645_timeouts_total', 'DL/T 645 requests that got no answer in time, by connection'),
    checksumErrors: m.counter('dlt645_checksum_errors_total', 'DL/T 645 frames whose checksum did not match, by connection'),
    wrongAddress: m.counter('dlt645_wrong_address_total', 'DL/T 645 answers from another meter than the one asked, by connection'),
    abnormal: m.counter('dlt645_abnormal_replies_total', 'DL/T 645 abnormal answers, by connection and error byte'),
    stray: m.counter('dlt645_stray_frames_total', 'DL/T 645 frames that answer no pending request (late, or another data item), by connection'),
    reconnects: m.counter('dlt645_reconnects_total', 'DL/T 645 connections re-established, by connection'),
    connectFailures: m.counter('dlt645_connect_failures_total', 'Failed attempts to open a DL/T 645 connection, by connection'),
    connected: m.gauge('dlt645_connected', '1 while the DL/T 645 connection is open, by connection'),
  };
}

interface Pending {
  address: string;
  item: string;
  settle(err: Dlt645RequestError | undefined, data?: Uint8Array): void;
}

/**
 * One RS-485 line of DL/T 645 meters, reached through a serial port or a transparent TCP serial
 * converter. One request is on the wire at a time (the line is half duplex); an answer is taken
 * only from the meter asked, for the data item asked. A lost link is opened again in the
 * background (gateway/connectors/reconnector.ts); a read while it is down fails at once with kind
 * `disconnected`.
 */
export class Dlt645Line extends EventEmitter<Dlt645LineEvents> {
  readonly id: string;
  private link: ByteLink | undefined;
  private readonly reader = new FrameReader();
  private readonly reconnector: Reconnector;
  private tail: Promise<unknown> = Promise.resolve();
  private pending: Pending | undefined;
  private unansweredInARow = 0;
  private everConnected = false;
  private readonly meters: Meters;
  private readonly labels: { connection: string };
  private readonly connectTimeoutMs: number;
  private readonly reconnectAfterTimeouts: number;
  private readonly log: Logger;

  constructor(
    readonly config: Dlt645ConnectionConfig,
    options: Dlt645LineOptions,
  ) {
    super();
    this.id = config.id;
    this.labels = { connection: config.id };
    this.meters = meters(options.metrics);
    this.meters.connected.set(0, this.labels);
    this.connectTimeoutMs = options.connectTimeoutMs ?? Math.max(config.timeoutMs, 2000);
    this.reconnectAfterTimeouts = options.reconnectAfterTimeouts ?? 5;
    this.log = options.logger.child({ connection: config.id });
    this.reconnector = new Reconnector(() => this.attemptOpen(), () => this.connected, options.backoff, options.clock);
  }

  get connected(): boolean {
    return this.link !== undefined && !this.link.destroyed;
  }

  get transport(): 'tcp' | 'serial' {
    return this.config.tcp ? 'tcp' : 'serial';
  }

  /** First attempt to open the line; resolves whether it succeeded. On failure it keeps trying in the background. */
  open(): Promise<boolean> {
    return this.reconnector.open();
  }

  async close(): Promise<void> {
    await this.reconnector.close();
    await this.drop('closed');
  }

  /** The data bytes of one data item (after its identifier, 33H taken off). Rejects with Dlt645RequestError. */
  read(req: Dlt645ReadRequest): Promise<Uint8Array> {
    if (!this.connected) return Promise.reject(this.notConnected());
    const run = this.tail.then(() => this.execute(req));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private notConnected(): Dlt645RequestError {
    this.reconnector.schedule();
    return new Dlt645RequestError('disconnected', `connection ${this.id} is down`);
  }

  private execute(req: Dlt645ReadRequest): Promise<Uint8Array> {
    const link = this.link;
    if (!link || !this.connected) return Promise.reject(this.notConnected());
    this.meters.requests.inc(this.labels);
    // Bytes of an earlier, timed-out answer must not join this one.
    this.reader.reset();
    const what = `meter ${req.address} data item ${req.item}`;
    return new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        this.meters.timeouts.inc(this.labels);
        pending.settle(new Dlt645RequestError('timeout', `${what}: no answer within ${req.timeoutMs} ms`));
        this.unansweredInARow++;
        if (this.transport === 'tcp' && this.unansweredInARow >= this.reconnectAfterTimeouts && this.link === link) {
          // A converter that vanished without closing the socket (power cut, cable pulled) only shows as silence.
          this.unansweredInARow = 0;
          void this.lost(`no answer to ${this.reconnectAfterTimeouts} requests in a row`);
        }
      }, req.timeoutMs);
      const pending: Pending = {
        address: req.address,
        item: req.item,
        settle: (err, data) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (this.pending === pending) this.pending = undefined;
          if (err) reject(err);
          else resolve(data!);
        },
      };
      this.pending = pending;
      const frame = encodeFrame(readRequest(req.address, req.item), this.config.wakeUp ? 4 : 0);
      link.write(frame, (err) => {
        if (err) pending.settle(new Dlt645RequestError('io', `${what}: ${err.message}`));
      });
    });
  }

  private received(event: ReadEvent): void {
    const p = this.pending;
    if (event.kind === 'checksum') {
      this.meters.checksumErrors.inc(this.labels);
      // Someone answered, garbled: waiting longer would not bring a good answer.
      this.unansweredInARow = 0;
      p?.settle(new Dlt645RequestError('checksum', `meter ${p.address} data item ${p.item}: answer with checksum ${hex(event.received)}, its bytes sum to ${hex(event.expected)}`));
      return;
    }
    const frame = event.frame;
    // A master's frame: the request echoed back by the converter, or another master on the line.
    if ((frame.control & FROM_METER) === 0) return;
    if (!p) {
      this.meters.stray.inc(this.labels);
      return;
    }
    if (frame.address !== p.address) {
      this.meters.wrongAddress.inc(this.labels);
      this.log.debug({ asked: p.address, answered: frame.address }, 'answer from another meter ignored');
      return;
    }
    const answer = readAnswer(frame);
    if (answer.kind === 'error') {
      this.unansweredInARow = 0;
      this.meters.abnormal.inc({ ...this.labels, code: answer.code.toString(16).padStart(2, '0') });
      p.settle(new Dlt645RequestError('abnormal', `meter ${p.address} refused data item ${p.item}: ${errorReasons(answer.code).join(', ')} (error byte ${hex(answer.code)})`, answer.code));
      return;
    }
    if (answer.kind === 'data' && answer.id === p.item) {
      this.unansweredInARow = 0;
      this.meters.responses.inc(this.labels);
      p.settle(undefined, answer.data);
      return;
    }
    this.meters.stray.inc(this.labels);
  }

  private async attemptOpen(): Promise<boolean> {
    let link: ByteLink;
    try {
      link = await openByteLink(this.config, this.connectTimeoutMs);
    } catch (err) {
      this.meters.connectFailures.inc(this.labels);
      this.log.warn({ err: (err as Error).message, attempt: this.reconnector.attempt }, 'DL/T 645 connection failed');
      return false;
    }
    if (this.reconnector.closed) {
      await closeByteLink(link);
      return false;
    }
    if (this.everConnected || this.reconnector.attempt > 0) {
      this.meters.reconnects.inc(this.labels);
    }
    this.everConnected = true;
    this.link = link;
    this.reader.reset();
    link.on('data', (chunk: Buffer) => {
      if (this.link !== link) return;
      for (const event of this.reader.push(chunk)) this.received(event);
    });
    link.on('error', (err) => this.log.warn({ err: err.message }, 'DL/T 645 link error'));
    link.on('close', () => {
      if (this.link === link) void this.lost('closed by peer');
    });
    this.meters.connected.set(1, this.labels);
    this.log.info({ transport: this.transport }, 'DL/T 645 connection open');
    this.emit('connected');
    return true;
  }

  private async lost(reason: string): Promise<void> {
    this.log.warn({ reason }, 'DL/T 645 connection lost');
    await this.drop(reason);
    this.reconnector.schedule();
  }

  private async drop(reason: string): Promise<void> {
    const link = this.link;
    this.link = undefined;
    this.pending?.settle(new Dlt645RequestError('disconnected', `connection ${this.id} lost: ${reason}`));
    if (!link) return;
    this.meters.connected.set(0, this.labels);
    this.emit('disconnected', reason);
    await closeByteLink(link);
  }
}
