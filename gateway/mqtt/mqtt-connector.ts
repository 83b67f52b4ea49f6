import { EventEmitter } from 'node:events';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { DeviceEvent, Reading } from '../../common/reading.ts';
import type { SiteConfig } from '../../common/site/types.ts';
import { parseDeviceTopic } from '../../common/topics.ts';
import type { Connector, ConnectorEvents, ConnectorStatus, Ingest } from '../connectors/connector.ts';
import type { Counter, Gauge, MetricsRegistry } from '../../common/metrics.ts';
import { ReportLimiter } from '../report-limiter.ts';
import { deferredPuback, handlePublishes, sendPubacks, type AckWhen, type DeferredPuback } from './deferred-puback.ts';
import { isPayloadError, parseDeviceMessage, type MalformedReason } from './payload.ts';
import { TopicRoutes } from './topic-routes.ts';

export interface MqttConnectorOptions {
  site: SiteConfig;
  brokerUrl: string;
  ingest: Ingest;
  metrics: MetricsRegistry;
  logger?: Logger;
  /** Fixed, so the broker keeps the persistent session. Default `{gateway id}-devices`. */
  clientId?: string;
  username?: string;
  password?: string;
  /** Default 1000 ms. */
  reconnectPeriodMs?: number;
  /** Messages per submit at most. Default 5000. */
  maxBatch?: number;
  /** Submits in flight before the connector stops reading from the broker. Default 4. */
  maxSubmitsInFlight?: number;
  /** How long start() waits for the first connection before resolving degraded. Default 5000 ms. */
  connectWaitMs?: number;
  /** Receive time of messages without `ts`. */
  now?: () => number;
}

/** A device message that could not be used; the connector counts it and goes on. */
export class MqttPayloadError extends Error {
  override name = 'MqttPayloadError';
  constructor(
    readonly topic: string,
    readonly reason: MalformedReason | 'unknown-device',
    message: string,
  ) {
    super(message);
  }
}

/** The outbox refused a batch; its messages stay unacknowledged at the broker and come again. */
export class MqttSubmitError extends Error {
  override name = 'MqttSubmitError';
  constructor(
    readonly messages: number,
    override readonly cause: unknown,
  ) {
    super(`outbox refused ${messages} MQTT messages, the broker will deliver them again: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

interface Batch {
  readings: Reading[];
  events: DeviceEvent[];
  acks: DeferredPuback[];
  messages: number;
}

const LOG_EVERY_MS = 60_000;
const ERROR_EVERY_MS = 10_000;

/**
 * Device MQTT connector (docs/devices.md). Subscribes QoS 1 with a persistent session and
 * acknowledges each message only after `ingest.submit()` resolved, so whatever the broker
 * handed over is on disk before it forgets it.
 */
export class MqttConnector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly name = 'mqtt';
  private readonly log: Logger;
  private readonly routes: TopicRoutes;
  private readonly clientId: string;
  private readonly maxBatch: number;
  private readonly maxSubmitsInFlight: number;
  private readonly now: () => number;
  private client: MqttClient | undefined;
  private current: ConnectorStatus;
  private batch: Batch = emptyBatch();
  private flushScheduled = false;
  private submitsInFlight = 0;
  private readonly settled = new Set<Promise<void>>();
  private held: (() => void)[] = [];
  private stopping = false;
  private lastError = '';
  private redeliveryTimer: NodeJS.Timeout | undefined;
  private redeliveryBackoffMs = 1000;
  private readonly limiters = new Map<string, ReportLimiter>();
  private readonly m: {
    messages: Counter;
    readings: Counter;
    events: Counter;
    malformed: Counter;
    unknown: Counter;
    submitFailures: Counter;
    staleAcks: Counter;
    reconnects: Counter;
    connected: Gauge;
  };

  constructor(private readonly options: MqttConnectorOptions) {
    super();
    this.log = (options.logger ?? createLogger('gateway')).child({ connector: 'mqtt' });
    this.clientId = options.clientId ?? `${options.site.gateway.id}-devices`;
    this.maxBatch = options.maxBatch ?? 5000;
    this.maxSubmitsInFlight = options.maxSubmitsInFlight ?? 4;
    this.now = options.now ?? Date.now;
    this.current = { connector: this.name, state: 'stopped' };
    this.routes = new TopicRoutes(options.site.devices);

    const { metrics } = options;
    this.m = {
      messages: metrics.counter('fm_mqtt_messages_total', 'Device MQTT messages received, by channel'),
      readings: metrics.counter('fm_mqtt_readings_total', 'Readings from device MQTT messages handed to the outbox'),
      events: metrics.counter('fm_mqtt_events_total', 'Events from device MQTT messages handed to the outbox'),
      malformed: metrics.counter('fm_mqtt_malformed_total', 'Device MQTT messages refused, by reason'),
      unknown: metrics.counter('fm_mqtt_unknown_device_total', 'Device MQTT messages on topics of no configured device'),
      submitFailures: metrics.counter('fm_mqtt_submit_failures_total', 'Batches the outbox refused; their messages stay unacknowledged'),
      staleAcks: metrics.counter('fm_mqtt_stale_acks_total', 'Acknowledgements not sent because the connection they belonged to was gone'),
      reconnects: metrics.counter('fm_mqtt_reconnects_total', 'Reconnections to the device broker'),
      connected: metrics.gauge('fm_mqtt_connected', '1 while connected to the device broker'),
    };
  }

  /** The topic filters the connector subscribes to. */
  topics(): readonly string[] {
    return this.routes.subscriptions;
  }

  status(): ConnectorStatus {
    return { ...this.current };
  }

  /** Connects and subscribes; resolves when running, or degraded after `connectWaitMs` while it keeps retrying. */
  async start(): Promise<void> {
    if (this.client) return;
    this.stopping = false;
    this.setStatus('starting');
    const opts: IClientOptions = {
      clientId: this.clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: this.options.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: false,
    };
    if (this.options.username !== undefined) opts.username = this.options.username;
    if (this.options.password !== undefined) opts.password = this.options.password;
    const client = connect(this.options.brokerUrl, opts);
    this.client = client;
    handlePublishes(client, (packet, next) => this.onPublish(client, packet, next));

    client.on('connect', (connack) => {
      this.lastError = '';
      this.m.connected.set(1);
      this.log.info({ broker: this.options.brokerUrl, sessionPresent: connack.sessionPresent }, 'connected to device broker');
      client.subscribe([...this.routes.subscriptions], { qos: 1 }, (err, granted) => {
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (err || refused.length > 0) {
          const reason = err ? err.message : `broker refused ${refused.join(', ')}`;
          this.setStatus('degraded', `subscribe failed: ${reason}`);
          this.report(new Error(`device broker subscription failed: ${reason}`), 'subscribe');
          return;
        }
        this.setStatus('running');
      });
    });
    client.on('reconnect', () => this.m.reconnects.inc());
    client.on('close', () => {
      this.m.connected.set(0);
      if (!this.stopping) this.setStatus('degraded', `device broker ${this.options.brokerUrl} unreachable${this.lastError ? `: ${this.lastError}` : ''}`);
    });
    client.on('error', (err) => {
      this.lastError = err.message;
      this.rateLimited('client-error', () => this.log.warn({ err: err.message }, 'device broker connection error'));
    });

    const waitMs = this.options.connectWaitMs ?? 5000;
    await new Promise<void>((resolve) => {
      const onStatus = (s: ConnectorStatus): void => {
        if (s.state === 'running' || s.state === 'stopped') done();
      };
      const done = (): void => {
        clearTimeout(timer);
        this.off('status', onStatus);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.on('status', onStatus);
    });
  }

  /** Hands what was received to the outbox, acknowledges it, then disconnects keeping the session. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    clearTimeout(this.redeliveryTimer);
    this.flush(true);
    this.releaseHeld();
    // A submit that never settles leaves its messages unacknowledged: the broker keeps them.
    await settledWithin(Promise.allSettled([...this.settled]), 10_000);
    if (!(await settledWithin(client.endAsync(false), 3000))) client.end(true);
    this.client = undefined;
    this.m.connected.set(0);
    this.setStatus('stopped');
  }

  private onPublish(client: MqttClient, packet: IPublishPacket, callback: (ack: AckWhen) => void): void {
    if (this.stopping || client !== this.client) {
      callback('later');
      return;
    }
    const topic = packet.topic;
    const route = this.routes.route(topic);
    if (!route) {
      this.m.messages.inc({ channel: parseDeviceTopic(topic)?.channel ?? 'unknown' });
      this.m.unknown.inc();
      this.rateLimited(`unknown:${topic}`, (suppressed) =>
        this.log.warn({ topic, suppressed }, 'message from a device that is not in the site file; add it or stop it publishing'),
      );
      callback('now');
      return;
    }
    const outcome = parseDeviceMessage({
      topic,
      payload: packet.payload,
      device: route.device,
      channel: route.channel,
      receivedAt: this.now(),
    });
    if (isPayloadError(outcome)) {
      this.m.messages.inc({ channel: route.channel === 'any' ? 'telemetry' : route.channel });
      this.m.malformed.inc({ reason: outcome.reason });
      this.report(new MqttPayloadError(topic, outcome.reason, outcome.error), `malformed:${topic}:${outcome.reason}`);
      callback('now');
      return;
    }
    this.m.messages.inc({ channel: outcome.events.length > 0 ? 'event' : 'telemetry' });

    const b = this.batch;
    for (const r of outcome.readings) b.readings.push(r);
    for (const e of outcome.events) b.events.push(e);
    b.messages++;
    const ack = deferredPuback(client, packet);
    if (ack) b.acks.push(ack);

    if (b.messages >= this.maxBatch) this.flush();
    else this.scheduleFlush();

    const next = (): void => callback(ack ? 'later' : 'now');
    // Backpressure: stop reading from the broker while the outbox is behind.
    if (this.submitsInFlight >= this.maxSubmitsInFlight && this.batch.messages >= this.maxBatch) this.held.push(next);
    else next();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Every packet already parsed from the socket is handled on process.nextTick, before this runs.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(force = false): void {
    const batch = this.batch;
    if (batch.messages === 0) return;
    if (!force && this.submitsInFlight >= this.maxSubmitsInFlight) return;
    this.batch = emptyBatch();
    this.submitsInFlight++;
    const p = this.options.ingest
      .submit(batch.readings, batch.events)
      .then(
        () => {
          this.m.readings.inc({}, batch.readings.length);
          this.m.events.inc({}, batch.events.length);
          this.redeliveryBackoffMs = 1000;
          this.acknowledge(batch.acks);
        },
        (err: unknown) => {
          this.m.submitFailures.inc();
          this.report(new MqttSubmitError(batch.messages, err), 'submit');
          this.scheduleRedelivery();
        },
      )
      .finally(() => {
        this.submitsInFlight--;
        this.settled.delete(p);
        if (this.batch.messages >= this.maxBatch) this.flush();
        else if (this.batch.messages > 0) this.scheduleFlush();
        if (this.submitsInFlight < this.maxSubmitsInFlight) this.releaseHeld();
      });
    this.settled.add(p);
  }

  private acknowledge(acks: DeferredPuback[]): void {
    const { stale } = this.client ? sendPubacks(this.client, acks) : { stale: acks.length };
    if (stale > 0) this.m.staleAcks.inc({}, stale);
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const next of held) next();
  }

  /**
   * MQTT 3.1.1 brokers resend unacknowledged messages only when the session resumes, so after the
   * outbox refused a batch the connection is cycled (with back-off) to have them delivered again.
   */
  private scheduleRedelivery(): void {
    if (this.redeliveryTimer || this.stopping) return;
    const delay = this.redeliveryBackoffMs;
    this.redeliveryBackoffMs = Math.min(delay * 2, 30_000);
    this.redeliveryTimer = setTimeout(() => {
      this.redeliveryTimer = undefined;
      const client = this.client;
      if (!client || this.stopping || !client.connected) return;
      if (this.submitsInFlight > 0) {
        this.scheduleRedelivery();
        return;
      }
      this.log.info({ delayMs: delay }, 'reconnecting so the broker delivers refused messages again');
      client.end(false, () => {
        if (!this.stopping && this.client === client) client.reconnect();
      });
    }, delay);
  }

  private setStatus(state: ConnectorStatus['state'], detail?: string): void {
    if (this.current.state === state && this.current.detail === detail) return;
    this.current = detail === undefined ? { connector: this.name, state } : { connector: this.name, state, detail };
    this.emit('status', this.status());
  }

  /** Reports a survivable problem through the `error` event, at most once per key every 10 s. */
  private report(err: Error, key: string): void {
    this.rateLimited(
      `error:${key}`,
      (suppressed) => {
        this.log.warn({ err: err.message, suppressed }, err.name);
        if (this.listenerCount('error') > 0) this.emit('error', err);
      },
      ERROR_EVERY_MS,
    );
  }

  private rateLimited(key: string, fn: (suppressed: number) => void, everyMs = LOG_EVERY_MS): void {
    let limiter = this.limiters.get(key);
    if (!limiter) {
      // Keys carry topics, which devices choose: a bound keeps a misbehaving one from growing the map.
      if (this.limiters.size > 10_000) this.limiters.clear();
      limiter = new ReportLimiter(everyMs);
      this.limiters.set(key, limiter);
    }
    const suppressed = limiter.take();
    if (suppressed !== undefined) fn(suppressed);
  }
}

function emptyBatch(): Batch {
  return { readings: [], events: [], acks: [], messages: 0 };
}

/** True when `p` settled within `ms`. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    p.then(done, done);
  });
}
