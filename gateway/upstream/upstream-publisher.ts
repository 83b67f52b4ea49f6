import { EventEmitter } from 'node:events';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { Reading } from '../../common/reading.ts';
import { gatewayStatusTopic, upstreamTopic, type GatewayStatus, type GatewayStatusSections, type UpstreamEvent, type UpstreamState } from '../../common/topics.ts';
import type { Counter, Gauge, MetricsRegistry } from '../../common/metrics.ts';
import type { Batch } from '../outbox/batch-codec.ts';
import { readUpstreamStates, splitStateKey, stateKey, UpstreamStateWriter, type UpstreamStates } from './state-file.ts';

export interface UpstreamPublisherOptions {
  /** The server's broker. */
  brokerUrl: string;
  gatewayId: string;
  username?: string;
  password?: string;
  metrics: MetricsRegistry;
  logger?: Logger;
  /** Default `{gatewayId}-upstream`. */
  clientId?: string;
  /** Default 1000 ms. */
  reconnectPeriodMs?: number;
  /** deliver() rejects when the broker has not acknowledged everything by then. Default 10000 ms. */
  publishTimeoutMs?: number;
  /** How long start() waits for the first connection. Default 5000 ms. */
  connectWaitMs?: number;
  /**
   * Where the merged states are kept across restarts (the gateway: `DATA_DIR/upstream-state.json`).
   * Read at start, written after deliveries at most once per `stateWriteIntervalMs`, and on stop.
   * Unset: states live in memory only.
   */
  stateFile?: string;
  /** Default 1000 ms. */
  stateWriteIntervalMs?: number;
  /** The sections of the online status (docs/upstream.md), read each time it is published. */
  statusSections?: () => Partial<GatewayStatusSections>;
  /** The online status is published again this often, and whenever publishStatus() is called. Default 30 s. */
  statusIntervalMs?: number;
  /** Time of status messages. Default: Date.now. */
  now?: () => number;
}

/** What the gateway forwards upstream: a slice of the outbox. */
export type UpstreamBatch = Batch;

export interface UpstreamPublisherEvents {
  connected: [];
  disconnected: [reason: string];
  error: [Error];
}

/** deliver() could not hand everything to the broker; the caller keeps the batches and retries. */
export class UpstreamUnavailableError extends Error {
  override name = 'UpstreamUnavailableError';
}

/**
 * Publishes live state and events to the server's broker (docs/upstream.md): one retained
 * state message per device with the latest value of every metric, events one message each, QoS 1,
 * and a retained gateway status with a last will.
 */
export class UpstreamPublisher extends EventEmitter<UpstreamPublisherEvents> {
  private readonly log: Logger;
  private readonly states: UpstreamStates = new Map();
  private readonly stateWriter: UpstreamStateWriter | undefined;
  private statesLoaded = false;
  private readonly failPending = new Set<(err: Error) => void>();
  private client: MqttClient | undefined;
  private stopping = false;
  private lastError = '';
  /** When the current upstream connection was attempted: `since` of its statuses and of its last will. */
  private attemptAt = 0;
  private statusTimer: NodeJS.Timeout | undefined;
  private statusQueued = false;
  private readonly now: () => number;
  private readonly m: { states: Counter; events: Counter; failures: Counter; reconnects: Counter; connected: Gauge; stateFileErrors: Counter };

  constructor(private readonly options: UpstreamPublisherOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.log = (options.logger ?? createLogger('gateway')).child({ component: 'upstream' });
    const { metrics } = options;
    this.m = {
      states: metrics.counter('fm_upstream_states_total', 'Device state messages acknowledged by the upstream broker'),
      events: metrics.counter('fm_upstream_events_total', 'Event messages acknowledged by the upstream broker'),
      failures: metrics.counter('fm_upstream_failures_total', 'Deliveries upstream that failed and will be retried'),
      reconnects: metrics.counter('fm_upstream_reconnects_total', 'Reconnections to the upstream broker'),
      connected: metrics.gauge('fm_upstream_connected', '1 while connected to the upstream broker'),
      stateFileErrors: metrics.counter('fm_upstream_state_file_errors_total', 'Upstream state file writes that failed, and unreadable state files ignored at start'),
    };
    if (options.stateFile !== undefined) {
      this.stateWriter = new UpstreamStateWriter(
        options.stateFile,
        this.states,
        (err) => {
          this.m.stateFileErrors.inc();
          this.report(err);
        },
        options.stateWriteIntervalMs,
      );
    }
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** The merged state last handed to the broker for a device (or being handed). */
  state(building: string, device: string): UpstreamState | undefined {
    const s = this.states.get(stateKey(building, device));
    return s && structuredClone(s);
  }

  /** Connects; resolves once connected, or after `connectWaitMs` while it keeps retrying in the background. */
  async start(): Promise<void> {
    if (this.client) return;
    this.stopping = false;
    await this.loadStates();
    const id = this.options.gatewayId;
    this.newAttempt();
    const opts: IClientOptions = {
      clientId: this.options.clientId ?? `${id}-upstream`,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: this.options.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      will: { topic: gatewayStatusTopic(id), payload: this.willPayload(), qos: 1, retain: true },
    };
    if (this.options.username !== undefined) opts.username = this.options.username;
    if (this.options.password !== undefined) opts.password = this.options.password;
    const client = connect(this.options.brokerUrl, opts);
    this.client = client;

    client.on('connect', () => {
      this.lastError = '';
      this.m.connected.set(1);
      this.log.info({ broker: this.options.brokerUrl }, 'connected upstream');
      this.sendStatus(client);
      this.emit('connected');
    });
    client.on('reconnect', () => {
      this.m.reconnects.inc();
      // A new connection: its statuses and its will carry the time of this attempt.
      this.newAttempt();
      if (client.options.will) client.options.will.payload = this.willPayload();
    });
    client.on('close', () => {
      const wasConnected = this.m.connected.get() === 1;
      this.m.connected.set(0);
      const reason = `upstream broker ${this.options.brokerUrl} unreachable${this.lastError ? `: ${this.lastError}` : ''}`;
      for (const fail of [...this.failPending]) fail(new UpstreamUnavailableError(`connection lost before the broker acknowledged: ${reason}`));
      if (wasConnected && !this.stopping) {
        this.log.warn({ reason }, 'upstream disconnected');
        this.emit('disconnected', reason);
      }
    });
    client.on('error', (err) => {
      this.lastError = err.message;
    });

    this.statusTimer = setInterval(() => this.publishStatus(), this.options.statusIntervalMs ?? 30_000);
    this.statusTimer.unref();
    const waitMs = this.options.connectWaitMs ?? 5000;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        client.off('connect', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      client.on('connect', done);
    });
  }

  /**
   * Publishes the events and the merged device states of `batches`; resolves when the broker has
   * acknowledged every message. Rejects with UpstreamUnavailableError when not connected, when the
   * connection drops, or after `publishTimeoutMs`, so the caller can retry the same batches.
   */
  async deliver(batches: UpstreamBatch[]): Promise<void> {
    const client = this.client;
    if (!client || !client.connected || this.stopping) {
      this.m.failures.inc();
      throw new UpstreamUnavailableError(`not connected to the upstream broker ${this.options.brokerUrl}${this.lastError ? `: ${this.lastError}` : ''}`);
    }
    const gateway = this.options.gatewayId;
    const messages: { topic: string; payload: string; retain: boolean; kind: 'state' | 'event' }[] = [];
    const touched = new Set<string>();
    for (const batch of batches) {
      for (const e of batch.events) {
        const payload: UpstreamEvent = { ts: e.ts, gateway, kind: e.kind, event: e.event, attrs: e.attrs };
        if (e.unit !== undefined) payload.unit = e.unit;
        messages.push({ topic: upstreamTopic(e.building, e.device, 'event'), payload: JSON.stringify(payload), retain: false, kind: 'event' });
      }
      for (const r of batch.readings) touched.add(this.merge(r));
    }
    for (const key of touched) {
      const s = this.states.get(key)!;
      const [building, device] = splitStateKey(key);
      messages.push({ topic: upstreamTopic(building, device, 'state'), payload: JSON.stringify(s), retain: true, kind: 'state' });
    }
    if (messages.length === 0) return;

    let fail: ((err: Error) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const aborted = new Promise<never>((_, reject) => {
      fail = reject;
      timer = setTimeout(
        () => reject(new UpstreamUnavailableError(`upstream broker did not acknowledge ${messages.length} messages within ${this.options.publishTimeoutMs ?? 10_000} ms`)),
        this.options.publishTimeoutMs ?? 10_000,
      );
    });
    this.failPending.add(fail!);
    const acknowledged = Promise.all(
      messages.map(
        (msg) =>
          new Promise<void>((resolve, reject) => {
            client.publish(msg.topic, msg.payload, { qos: 1, retain: msg.retain }, (err) => {
              if (err) return reject(new UpstreamUnavailableError(`publish to ${msg.topic} failed: ${err.message}`));
              if (msg.kind === 'state') this.m.states.inc();
              else this.m.events.inc();
              resolve();
            });
          }),
      ),
    );
    try {
      await Promise.race([acknowledged, aborted]);
      if (touched.size > 0) this.stateWriter?.request();
    } catch (err) {
      this.m.failures.inc();
      acknowledged.catch(() => undefined);
      throw err;
    } finally {
      clearTimeout(timer);
      this.failPending.delete(fail!);
    }
  }

  /**
   * Publishes the online status with its sections now (several calls in one turn of the event loop
   * make one message); nothing while not connected, since every connection begins with one.
   */
  publishStatus(): void {
    if (this.statusQueued) return;
    this.statusQueued = true;
    setImmediate(() => {
      this.statusQueued = false;
      const client = this.client;
      if (client?.connected && !this.stopping) this.sendStatus(client);
    });
  }

  /** Publishes `online: false`, then disconnects cleanly (the broker then drops the last will). */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    clearInterval(this.statusTimer);
    if (client.connected) {
      await withTimeout(client.publishAsync(gatewayStatusTopic(this.options.gatewayId), this.status(false), { qos: 1, retain: true }), 2000).catch(
        (err: unknown) => this.log.warn({ err: String(err) }, 'offline status not published'),
      );
    }
    await withTimeout(client.endAsync(false), 3000).catch(() => client.end(true));
    this.client = undefined;
    this.m.connected.set(0);
    await this.stateWriter?.flush();
  }

  /** A restarted gateway must not replace a device's complete retained state with the few metrics read since. */
  private async loadStates(): Promise<void> {
    const path = this.options.stateFile;
    if (path === undefined || this.statesLoaded) return;
    this.statesLoaded = true;
    let loaded: UpstreamStates | undefined;
    try {
      loaded = await readUpstreamStates(path);
    } catch (err) {
      this.m.stateFileErrors.inc();
      this.report(new Error(`upstream state file ignored, states start empty: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
    if (!loaded) return;
    for (const [key, state] of loaded) this.states.set(key, { ...state, gateway: this.options.gatewayId });
    this.log.info({ path, devices: loaded.size }, 'upstream states loaded');
  }

  private merge(r: Reading): string {
    const key = stateKey(r.building, r.device);
    let s = this.states.get(key);
    // A kind that changed with the site file makes the metrics kept from before meaningless.
    if (!s || s.kind !== r.kind) {
      s = { ts: r.ts, gateway: this.options.gatewayId, kind: r.kind, metrics: {} };
      if (r.unit !== undefined) s.unit = r.unit;
      this.states.set(key, s);
    } else if (s.unit !== r.unit) {
      if (r.unit === undefined) delete s.unit;
      else s.unit = r.unit;
    }
    const prev = s.metrics[r.metric];
    // The outbox may hand over older readings after newer ones (retries); the state keeps the newest.
    if (!prev || r.ts >= prev.ts) {
      const m: UpstreamState['metrics'][string] = { value: r.value, quality: r.quality, ts: r.ts };
      if (r.engUnit !== undefined) m.engUnit = r.engUnit;
      s.metrics[r.metric] = m;
    }
    if (r.ts > s.ts) s.ts = r.ts;
    return key;
  }

  private sendStatus(client: MqttClient): void {
    client.publish(gatewayStatusTopic(this.options.gatewayId), this.status(true), { qos: 1, retain: true }, (err) => {
      if (err) this.report(new UpstreamUnavailableError(`gateway status not published: ${err.message}`));
    });
  }

  private status(online: boolean): string {
    const s: GatewayStatus = { gateway: this.options.gatewayId, online, ts: this.now(), since: this.attemptAt };
    if (online) Object.assign(s, this.options.statusSections?.());
    return JSON.stringify(s);
  }

  /** Each connection attempt a `since` of its own, later than the one before whatever the clock does. */
  private newAttempt(): void {
    this.attemptAt = Math.max(this.now(), this.attemptAt + 1);
  }

  /** The last will, composed when the connection is attempted. */
  private willPayload(): string {
    const s: GatewayStatus = { gateway: this.options.gatewayId, online: false, ts: this.attemptAt, since: this.attemptAt };
    return JSON.stringify(s);
  }

  private report(err: Error): void {
    this.log.warn({ err: err.message }, err.name);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
