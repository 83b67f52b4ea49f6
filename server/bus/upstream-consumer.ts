import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { DeviceEvent, Reading } from '../../common/reading.ts';
import { UPSTREAM_SUBSCRIPTIONS, parseUpstreamTopic, type GatewayStatus } from '../../common/topics.ts';
import { redactUrl } from '../broker/redact-url.ts';
import { RefusalLog } from '../broker/refusal-log.ts';
import type { LiveDeviceState } from '../live/device-state.ts';
import { EventDedupe } from './event-dedupe.ts';
import type { UpstreamSiteView } from './site-view.ts';
import {
  MAX_UPSTREAM_MESSAGE_BYTES,
  aheadOfClock,
  isMalformed,
  parseGatewayStatus,
  parseUpstreamEvent,
  parseUpstreamState,
  screenMessage,
  screenMetrics,
  type BusRefusal,
  type Refusal,
  type UpstreamScreen,
} from './upstream-payload.ts';

/** Where upstream data goes besides the live state: the rules engine, and the gateways' own conditions. */
export interface UpstreamSink {
  onReading(r: Reading, gateway?: string): void;
  onEvent(e: DeviceEvent, gateway?: string): void;
  /** A gateway status that is news (older ones, by docs/upstream.md's order, are dropped before). */
  onGatewayStatus(status: GatewayStatus): void;
  /** Resolves once what the calls so far decided is stored (never rejects). */
  settled(): Promise<void>;
}

export interface UpstreamCounters {
  messages: number;
  states: number;
  /** Metric values newer than the last known, handed to the rules. */
  readings: number;
  events: number;
  /** Events seen before (QoS 1 redelivery, gateway replay), dropped. */
  duplicateEvents: number;
  gatewayStatus: number;
  /** Of those, statuses saying a gateway went offline (its own or its last will). */
  gatewayOffline: number;
  /** Gateway statuses older than the one known (a redelivery), dropped. */
  staleGatewayStatus: number;
  malformed: number;
  /** Messages about devices the site file does not have in that building. */
  unknownDevice: number;
  unknownTopic: number;
  /** Messages refused whole or in part (`refusals()` by reason). */
  refused: number;
  errors: number;
}

export interface UpstreamConsumerStatus {
  broker: string;
  connected: boolean;
  lastMessageAt?: number;
  lastError?: string;
  counters: UpstreamCounters;
}

export interface UpstreamConsumerEvents {
  connected: [];
  disconnected: [];
  /** A payload that could not be used; counted and skipped. */
  malformed: [info: { topic: string; reason: string }];
  /** A handler failed while processing a message; the consumer carries on. */
  error: [err: Error];
}

export interface UpstreamConsumerOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
  /** Fixed so the broker keeps the session (queued QoS 1 messages) while the server restarts. */
  clientId: string;
  liveState: LiveDeviceState;
  sink: UpstreamSink;
  logger?: Logger;
  /** Default 1000 ms. */
  reconnectPeriodMs?: number;
  /** How long start() waits for the first connection. Default 5000 ms. */
  connectWaitMs?: number;
  /** Events remembered for de-duplication. Default 50,000. */
  dedupeCapacity?: number;
  /** Who serves each building, what each device reports: checked when given. */
  site?: UpstreamSiteView;
  /** The server's clock (epoch ms). Default Date.now. */
  clock?: () => number;
  /** BUS_MAX_AHEAD_MS: how far ahead of the clock a time may be. Default 5 min. */
  maxAheadMs?: number;
}

/**
 * The server's side of the upstream contract (docs/devices.md): subscribes QoS 1 to gateway state,
 * events and status, validates each payload once, drops repeated events, and feeds the live state
 * and the rules. A message is acknowledged only after it has been processed and what it changed
 * in the records (alarms, timers, work orders) is stored; the next message waits until then.
 */
export class UpstreamConsumer extends EventEmitter<UpstreamConsumerEvents> {
  readonly counters: UpstreamCounters = {
    messages: 0,
    states: 0,
    readings: 0,
    events: 0,
    duplicateEvents: 0,
    gatewayStatus: 0,
    gatewayOffline: 0,
    staleGatewayStatus: 0,
    malformed: 0,
    unknownDevice: 0,
    unknownTopic: 0,
    refused: 0,
    errors: 0,
  };
  private readonly log: Logger;
  private readonly dedupe: EventDedupe;
  private client: MqttClient | undefined;
  private lastMessageAt: number | undefined;
  private lastError: string | undefined;
  private lastMalformedLog = 0;
  private readonly refusalLog: RefusalLog;
  private readonly clock: () => number;

  constructor(private readonly options: UpstreamConsumerOptions) {
    super();
    this.log = options.logger ?? createLogger('bus');
    this.dedupe = new EventDedupe(options.dedupeCapacity);
    this.refusalLog = new RefusalLog(this.log);
    this.clock = options.clock ?? Date.now;
  }

  /** Refused messages by reason, for /metrics. */
  refusals(): { reason: BusRefusal; n: number }[] {
    return this.refusalLog.entries().map(({ reason, n }) => ({ reason: reason as BusRefusal, n }));
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  status(): UpstreamConsumerStatus {
    const s: UpstreamConsumerStatus = { broker: redactUrl(this.options.brokerUrl), connected: this.connected, counters: { ...this.counters } };
    if (this.lastMessageAt !== undefined) s.lastMessageAt = this.lastMessageAt;
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  /** Connects and subscribes; resolves once subscribed, or after connectWaitMs while it keeps retrying. */
  async start(): Promise<void> {
    if (this.client) return;
    const opts: IClientOptions = {
      clientId: this.options.clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: this.options.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      keepalive: 30,
    };
    if (this.options.username !== undefined) opts.username = this.options.username;
    if (this.options.password !== undefined) opts.password = this.options.password;
    const client = mqtt.connect(this.options.brokerUrl, opts);
    this.client = client;
    const subscribed = new Promise<void>((resolve) => {
      client.on('connect', (connack) => {
        this.lastError = undefined;
        this.log.info({ broker: redactUrl(this.options.brokerUrl), sessionPresent: connack.sessionPresent }, 'upstream consumer connected');
        this.emit('connected');
        // A kept session already has the subscriptions; subscribing again also brings the retained states.
        client.subscribe(UPSTREAM_SUBSCRIPTIONS, { qos: 1 }, (err, granted) => {
          if (err) return this.fail(new Error(`subscribe failed: ${err.message}`));
          const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
          if (refused.length > 0) this.fail(new Error(`broker refused the subscriptions ${refused.join(', ')}`));
          resolve();
        });
      });
    });
    client.on('close', () => {
      if (this.client === client) this.emit('disconnected');
    });
    client.on('error', (err) => {
      this.lastError = err.message;
      this.log.warn({ err: err.message }, 'upstream consumer connection problem');
    });
    client.on('message', (topic, payload) => this.process(topic, payload));
    // mqtt.js sends the PUBACK, and reads the next message, when this calls back: after the writes.
    client.handleMessage = (_packet, acknowledge) => {
      void this.options.sink.settled().then(() => acknowledge());
    };
    const waitMs = this.options.connectWaitMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([subscribed, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    if (!this.connected) this.log.warn({ broker: redactUrl(this.options.brokerUrl), waitMs }, 'upstream broker not reachable yet; retrying in the background');
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    await Promise.race([client.endAsync(false), new Promise((resolve) => setTimeout(resolve, 2000).unref())]).catch(() => undefined);
    client.end(true);
  }

  /** Processes one upstream message; resolves once its writes are stored. For callers that receive messages by other means. */
  async handle(topic: string, payload: Buffer): Promise<void> {
    this.process(topic, payload);
    await this.options.sink.settled();
  }

  private process(topic: string, payload: Buffer): void {
    this.counters.messages++;
    this.lastMessageAt = Date.now();
    const t = parseUpstreamTopic(topic);
    if (!t) {
      this.counters.unknownTopic++;
      return;
    }
    const { liveState, sink, site } = this.options;
    if (payload.length > MAX_UPSTREAM_MESSAGE_BYTES) return this.refuse(topic, { reason: 'too-large', detail: `${payload.length} bytes, at most ${MAX_UPSTREAM_MESSAGE_BYTES}` });
    try {
      if (t.type === 'gateway-status') {
        const s = parseGatewayStatus(payload, t.gatewayId);
        if (isMalformed(s)) return this.malformed(topic, s.malformed);
        if (site && !site.knowsGateway(s.gateway)) return this.refuse(topic, { reason: 'unknown-gateway', detail: `gateway ${s.gateway} is not in the site file` });
        const refusal = aheadOfClock(s.ts, { now: this.clock(), maxAheadMs: this.maxAheadMs });
        if (refusal) return this.refuse(topic, refusal);
        this.counters.gatewayStatus++;
        if (!s.online) this.counters.gatewayOffline++;
        if (!liveState.setGatewayStatus(s)) {
          this.counters.staleGatewayStatus++;
          return;
        }
        sink.onGatewayStatus(s);
        return;
      }
      if (liveState.buildingOf(t.device) !== t.building) {
        this.counters.unknownDevice++;
        return;
      }
      const screen = this.screen(t.building, t.device);
      if (t.type === 'state') {
        const s = parseUpstreamState(payload);
        if (isMalformed(s)) return this.malformed(topic, s.malformed);
        const refusal = screenMessage(s, screen);
        if (refusal) return this.refuse(topic, refusal);
        const { kept, dropped } = screenMetrics(s.metrics, screen);
        for (const d of dropped) this.refuse(topic, d);
        this.counters.states++;
        const readings = liveState.applyState(t.device, { ...s, metrics: kept });
        this.counters.readings += readings.length;
        for (const r of readings) sink.onReading(r, s.gateway);
        return;
      }
      const e = parseUpstreamEvent(payload);
      if (isMalformed(e)) return this.malformed(topic, e.malformed);
      const refusal = screenMessage(e, screen);
      if (refusal) return this.refuse(topic, refusal);
      const event: DeviceEvent = { building: t.building, device: t.device, kind: e.kind, event: e.event, ts: e.ts, attrs: e.attrs };
      if (e.unit !== undefined) event.unit = e.unit;
      if (!this.dedupe.firstTime(event)) {
        this.counters.duplicateEvents++;
        return;
      }
      this.counters.events++;
      liveState.applyEvent(event, e.gateway);
      sink.onEvent(event, e.gateway);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)), topic);
    }
  }

  private get maxAheadMs(): number {
    return this.options.maxAheadMs ?? 5 * 60_000;
  }

  private screen(building: string, deviceId: string): UpstreamScreen {
    const screen: UpstreamScreen = { now: this.clock(), maxAheadMs: this.maxAheadMs };
    const site = this.options.site;
    if (!site) return screen;
    const gateway = site.gatewayOf(building);
    const device = site.device(deviceId);
    if (gateway !== undefined) screen.gateway = gateway;
    if (device) {
      screen.kind = device.kind;
      screen.metrics = device.metrics;
      if (device.events) screen.events = device.events;
    }
    return screen;
  }

  /** A message, or part of one, the server does not take: counted by reason, logged once per reason and topic. */
  private refuse(topic: string, refusal: Refusal): void {
    this.counters.refused++;
    this.refusalLog.refuse('messages', refusal.reason, topic, { topic, detail: refusal.detail }, 'upstream message refused');
  }

  private malformed(topic: string, reason: string): void {
    this.counters.malformed++;
    const now = Date.now();
    // One log line per 10 s at most: a misconfigured gateway must not flood the log.
    if (now - this.lastMalformedLog > 10_000) {
      this.lastMalformedLog = now;
      this.log.warn({ topic, reason, malformed: this.counters.malformed }, 'malformed upstream message skipped');
    }
    if (this.listenerCount('malformed') > 0) this.emit('malformed', { topic, reason });
  }

  private fail(err: Error, topic?: string): void {
    this.counters.errors++;
    this.lastError = err.message;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.log.error({ err, topic }, 'upstream message processing failed');
  }
}
