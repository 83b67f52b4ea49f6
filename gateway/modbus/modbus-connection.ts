import { EventEmitter } from 'node:events';
import ModbusSerial from 'modbus-serial';
import type { FunctionCode } from '../../common/profiles.ts';
import type { Logger } from '../../common/logger.ts';
import type { ModbusConnectionConfig } from '../../common/protocols/modbus.ts';
import type { Clock } from '../clock.ts';
import { Reconnector, type BackoffOptions } from '../connectors/reconnector.ts';
import type { Counter, Gauge, MetricsRegistry } from '../../common/metrics.ts';

type ModbusClient = InstanceType<typeof ModbusSerial.default>;

/** Why a request got no usable answer. */
export type ModbusFailureKind = 'timeout' | 'exception' | 'disconnected' | 'io';

export class ModbusRequestError extends Error {
  constructor(
    readonly kind: ModbusFailureKind,
    message: string,
    /** The Modbus exception code, for kind `exception`. */
    readonly code?: number,
  ) {
    super(message);
    this.name = 'ModbusRequestError';
  }
}

export interface ModbusReadRequest {
  unitId: number;
  fc: FunctionCode;
  address: number;
  count: number;
  timeoutMs: number;
}

export type { BackoffOptions };

export interface ModbusConnectionOptions {
  metrics: MetricsRegistry;
  logger: Logger;
  backoff?: BackoffOptions;
  /** How long opening a socket or serial port may take. Default: max(timeoutMs, 2000). */
  connectTimeoutMs?: number;
  /** TCP only: re-open the socket after this many requests in a row got no answer at all. Default 5. */
  reconnectAfterTimeouts?: number;
  /** Times the reconnect back-off. Default: the system clock. */
  clock?: Clock;
}

export interface ModbusConnectionCounters {
  requests: number;
  responses: number;
  /** By Modbus exception code. */
  exceptions: Record<number, number>;
  timeouts: number;
  /** Connections re-established after a loss or a failed first attempt. */
  reconnects: number;
  connectFailures: number;
}

export interface ModbusConnectionEvents {
  connected: [];
  disconnected: [reason: string];
}

interface Meters {
  requests: Counter;
  responses: Counter;
  exceptions: Counter;
  timeouts: Counter;
  reconnects: Counter;
  connectFailures: Counter;
  connected: Gauge;
}

function meters(m: MetricsRegistry): Meters {
  return {
    requests: m.counter('modbus_requests_total', 'Modbus requests sent, by connection and function code'),
    responses: m.counter('modbus_responses_total', 'Modbus normal responses received, by connection'),
    exceptions: m.counter('modbus_exceptions_total', 'Modbus exception responses, by connection and exception code'),
    timeouts: m.counter('modbus_timeouts_total', 'Modbus requests that got no answer in time, by connection'),
    reconnects: m.counter('modbus_reconnects_total', 'Modbus connections re-established, by connection'),
    connectFailures: m.counter('modbus_connect_failures_total', 'Failed attempts to open a Modbus connection, by connection'),
    connected: m.gauge('modbus_connected', '1 when the Modbus connection is open, by connection'),
  };
}

const READERS = {
  1: 'writeFC1',
  2: 'writeFC2',
  3: 'writeFC3',
  4: 'writeFC4',
} as const;

/**
 * One Modbus TCP connection or RTU serial bus. Requests go on the wire one at a time (a serial
 * bus cannot carry two; many TCP gateways cannot either). A lost connection is re-opened in the
 * background with capped exponential backoff and jitter, one attempt at a time; a request made
 * while it is down fails at once with kind `disconnected` instead of waiting.
 */
export class ModbusConnection extends EventEmitter<ModbusConnectionEvents> {
  readonly id: string;
  readonly counters: ModbusConnectionCounters = { requests: 0, responses: 0, exceptions: {}, timeouts: 0, reconnects: 0, connectFailures: 0 };
  private client: ModbusClient | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private inFlight: ((err: ModbusRequestError) => void) | undefined;
  private readonly reconnector: Reconnector;
  private unansweredInARow = 0;
  private readonly reconnectAfterTimeouts: number;
  private everConnected = false;
  private readonly meters: Meters;
  private readonly labels: { connection: string };
  private readonly connectTimeoutMs: number;
  private readonly log: Logger;

  constructor(
    readonly config: ModbusConnectionConfig,
    options: ModbusConnectionOptions,
  ) {
    super();
    this.id = config.id;
    this.labels = { connection: config.id };
    this.meters = meters(options.metrics);
    this.meters.connected.set(0, this.labels);
    this.reconnector = new Reconnector(() => this.attemptConnect(), () => this.connected, options.backoff, options.clock);
    this.connectTimeoutMs = options.connectTimeoutMs ?? Math.max(config.timeoutMs, 2000);
    this.reconnectAfterTimeouts = options.reconnectAfterTimeouts ?? 5;
    this.log = options.logger.child({ connection: config.id });
  }

  get connected(): boolean {
    return this.client !== undefined && this.client.isOpen === true;
  }

  get transport(): 'tcp' | 'rtu' {
    return this.config.tcp ? 'tcp' : 'rtu';
  }

  /** First connection attempt; resolves whether it succeeded. On failure it keeps trying in the background. */
  open(): Promise<boolean> {
    return this.reconnector.open();
  }

  async close(): Promise<void> {
    await this.reconnector.close();
    await this.dropClient('closed');
  }

  /** Words (FC3/4) or bits as 0/1 (FC1/2). Rejects with ModbusRequestError. */
  read(req: ModbusReadRequest): Promise<number[]> {
    if (!this.connected) return Promise.reject(this.notConnected());
    const run = this.tail.then(() => this.execute(req));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private notConnected(): ModbusRequestError {
    // modbus-serial does not always report a socket the peer closed; finding it closed counts as losing it.
    if (this.client && !this.client.isOpen) {
      void this.lost('found closed');
      return new ModbusRequestError('disconnected', `connection ${this.id} is down`);
    }
    this.reconnector.schedule();
    return new ModbusRequestError('disconnected', `connection ${this.id} is down`);
  }

  private execute(req: ModbusReadRequest): Promise<number[]> {
    const client = this.client;
    if (!client || !this.connected) return Promise.reject(this.notConnected());
    this.counters.requests++;
    this.meters.requests.inc({ ...this.labels, fc: String(req.fc) });
    return new Promise<number[]>((resolve, reject) => {
      let settled = false;
      const settle = (err: ModbusRequestError | undefined, data?: number[]) => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        this.inFlight = undefined;
        if (err) reject(err);
        else resolve(data!);
      };
      const timedOut = () => {
        if (settled) return;
        this.counters.timeouts++;
        this.meters.timeouts.inc(this.labels);
        settle(new ModbusRequestError('timeout', `unit ${req.unitId} FC${req.fc} ${req.address}+${req.count}: no answer within ${req.timeoutMs} ms`));
        this.unansweredInARow++;
        if (this.transport === 'tcp' && this.unansweredInARow >= this.reconnectAfterTimeouts && this.client === client) {
          // A peer that vanished without closing the socket (power cut, cable pulled) only shows as silence.
          this.unansweredInARow = 0;
          void this.lost(`no answer to ${this.reconnectAfterTimeouts} requests in a row`);
        }
      };
      // modbus-serial's own timer is cancelled when a port is destroyed; this one always fires.
      const guard = setTimeout(timedOut, req.timeoutMs + 250);
      this.inFlight = settle;
      client.setTimeout(req.timeoutMs);
      const method = READERS[req.fc];
      try {
        client[method](req.unitId, req.address, req.count, (e: NodeJS.ErrnoException, res: { data: (number | boolean)[] }) => {
          // modbus-serial errors carry `errno` as a string ('ETIMEDOUT') and `modbusCode` for exceptions.
          const err = e as unknown as { message: string; errno?: unknown; modbusCode?: unknown } | null;
          if (settled) return;
          if (!err || typeof err.modbusCode === 'number') this.unansweredInARow = 0;
          if (err) {
            if (typeof err.modbusCode === 'number') {
              this.counters.exceptions[err.modbusCode] = (this.counters.exceptions[err.modbusCode] ?? 0) + 1;
              this.meters.exceptions.inc({ ...this.labels, code: String(err.modbusCode) });
              settle(new ModbusRequestError('exception', `unit ${req.unitId} FC${req.fc} ${req.address}+${req.count}: ${err.message}`, err.modbusCode));
            } else if (err.errno === 'ETIMEDOUT') {
              timedOut();
            } else if (err.errno === 'ECONNREFUSED' && !this.connected) {
              settle(new ModbusRequestError('disconnected', `connection ${this.id} is down`));
            } else {
              settle(new ModbusRequestError('io', `unit ${req.unitId} FC${req.fc}: ${err.message}`));
            }
            return;
          }
          this.counters.responses++;
          this.meters.responses.inc(this.labels);
          // FC1/2 answers are padded to whole bytes.
          settle(undefined, res.data.slice(0, req.count).map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v)));
        });
      } catch (err) {
        settle(new ModbusRequestError('io', `unit ${req.unitId} FC${req.fc}: ${(err as Error).message}`));
      }
    });
  }

  private async attemptConnect(): Promise<boolean> {
    const client = new ModbusSerial.default();
    client.on('error', (err) => this.log.warn({ err }, 'Modbus port error'));
    let timer: NodeJS.Timeout | undefined;
    try {
      const opening = this.config.tcp
        ? client.connectTCP(this.config.tcp.host, { port: this.config.tcp.port })
        : client.connectRTUBuffered(this.config.rtu!.path, {
            baudRate: this.config.rtu!.baudRate,
            parity: this.config.rtu!.parity,
            dataBits: this.config.rtu!.dataBits,
            stopBits: this.config.rtu!.stopBits,
          });
      await Promise.race([
        opening,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no connection within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
        }),
      ]);
    } catch (err) {
      clearTimeout(timer);
      this.counters.connectFailures++;
      this.meters.connectFailures.inc(this.labels);
      this.log.warn({ err: (err as Error).message, attempt: this.reconnector.attempt }, 'Modbus connection failed');
      await closeClient(client, this.transport);
      return false;
    }
    clearTimeout(timer);
    if (this.reconnector.closed) {
      await closeClient(client, this.transport);
      return false;
    }
    if (this.everConnected || this.reconnector.attempt > 0) {
      this.counters.reconnects++;
      this.meters.reconnects.inc(this.labels);
    }
    this.everConnected = true;
    this.client = client;
    client.on('close', () => {
      if (this.client === client) void this.lost('closed by peer');
    });
    this.meters.connected.set(1, this.labels);
    this.log.info({}, 'Modbus connection open');
    this.emit('connected');
    return true;
  }

  private async lost(reason: string): Promise<void> {
    this.log.warn({ reason }, 'Modbus connection lost');
    await this.dropClient(reason);
    this.reconnector.schedule();
  }

  private async dropClient(reason: string): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.inFlight?.(new ModbusRequestError('disconnected', `connection ${this.id} lost: ${reason}`));
    if (!client) return;
    this.meters.connected.set(0, this.labels);
    this.emit('disconnected', reason);
    await closeClient(client, this.transport);
  }

}

function closeClient(client: ModbusClient, transport: 'tcp' | 'rtu'): Promise<void> {
  return new Promise((resolve) => {
    const done = setTimeout(resolve, 1000);
    const finish = () => {
      clearTimeout(done);
      resolve();
    };
    try {
      // TcpPort.destroy() drops the socket at once; the RTU port has no destroy and is closed instead.
      if (transport === 'tcp') client.destroy(finish);
      else if (client.isOpen) client.close(finish);
      else finish();
    } catch {
      finish();
    }
  });
}
