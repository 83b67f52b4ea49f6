import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent, Reading } from '../common/reading.ts';
import { parseSiteConfig } from '../common/site/load.ts';
import type { Ingest } from '../gateway/connectors/connector.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { MqttConnector, MqttPayloadError, MqttSubmitError } from '../gateway/mqtt/mqtt-connector.ts';
import { startEmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { hasMosquitto, startMosquitto } from './harness/mosquitto.ts';
import { waitFor } from './harness/ports.ts';
import { startMqttTap } from './harness/mqtt-tap.ts';

const site = parseSiteConfig({
  site: { id: 'test-estate', name: 'Test estate' },
  buildings: [
    {
      id: 'T1',
      name: 'Tower 1',
      devices: [
        { id: 'T1-fire', kind: 'fire-panel', mqtt: {} },
        { id: 'T1-door-lobby', kind: 'door', mqtt: {} },
        { id: 'T1-tank-roof', kind: 'tank', mqtt: {} },
        {
          id: 'T1-door-acme',
          kind: 'door',
          mqtt: { telemetryTopic: 'vendor/acme/door-9', eventTopic: 'vendor/acme/door-9', mapping: { event: 'type', attrs: { card: 'badge.id' } } },
        },
      ],
    },
  ],
});

/** Outbox stand-in: keeps what was submitted; can hold submits until released, or refuse them. */
class MemoryIngest implements Ingest {
  readonly readings: Reading[] = [];
  readonly events: DeviceEvent[] = [];
  submits = 0;
  refuseNext = 0;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  async submit(readings: Reading[], events: DeviceEvent[]): Promise<void> {
    this.submits++;
    if (this.gate) await this.gate;
    if (this.refuseNext > 0) {
      this.refuseNext--;
      throw new Error('outbox full (reject-new)');
    }
    this.readings.push(...readings);
    this.events.push(...events);
  }
  count(metric: string, value: number): number {
    return this.readings.filter((r) => r.metric === metric && r.value === value).length;
  }
}

interface BrokerUnderTest {
  url: string;
  stop(): Promise<void>;
}

const brokers = [
  {
    broker: 'aedes',
    available: true,
    start: async (): Promise<BrokerUnderTest> => {
      const b = await startEmbeddedBroker({ port: 0 });
      return { url: b.url, stop: () => b.close() };
    },
  },
  { broker: 'mosquitto', available: hasMosquitto(), start: (): Promise<BrokerUnderTest> => startMosquitto() },
];

describe.each(brokers.filter((b) => b.available))('MqttConnector with $broker', ({ start }) => {
  let broker: BrokerUnderTest;
  let device: MqttClient;
  const cleanups: (() => Promise<unknown>)[] = [];
  let n = 0;

  beforeAll(async () => {
    broker = await start();
    device = await mqtt.connectAsync(broker.url, { clientId: `device-sim-${process.pid}`, reconnectPeriod: 200 });
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await device?.endAsync();
    await broker?.stop();
  });

  function connector(ingest: Ingest, url = broker.url): { connector: MqttConnector; metrics: MetricsRegistry; errors: Error[]; clientId: string } {
    const metrics = new MetricsRegistry();
    const clientId = `gw-test-${process.pid}-${++n}`;
    const c = new MqttConnector({ site, brokerUrl: url, ingest, metrics, clientId, reconnectPeriodMs: 100 });
    const errors: Error[] = [];
    c.on('error', (err) => errors.push(err));
    cleanups.push(() => c.stop());
    return { connector: c, metrics, errors, clientId };
  }

  const publish = (topic: string, payload: unknown, qos: 0 | 1 = 1): Promise<unknown> =>
    device.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos });

  it('turns device telemetry and events into readings and events', async () => {
    const ingest = new MemoryIngest();
    const { connector: c, metrics } = connector(ingest);
    await c.start();
    expect(c.status().state).toBe('running');

    await publish('site/T1/T1-tank-roof/telemetry', { ts: 1732350000000, level_pct: 73.2, battery_pct: 98 });
    await publish('site/T1/T1-fire/event', { ts: 1732350001000, event: 'alarm', zone: 'B1-3F-east' });
    await publish('vendor/acme/door-9', { type: 'card_denied', badge: { id: '0042' } });
    await publish('site/T1/T1-door-lobby/telemetry', { battery_pct: 55 }, 0);

    await waitFor(() => ingest.readings.length === 3 && ingest.events.length === 2, 15_000, 'readings and events');
    expect(ingest.readings).toEqual(
      expect.arrayContaining([
        { building: 'T1', device: 'T1-tank-roof', kind: 'tank', metric: 'level_pct', value: 73.2, engUnit: '%', ts: 1732350000000, quality: 'good' },
        expect.objectContaining({ device: 'T1-door-lobby', metric: 'battery_pct', value: 55 }),
      ]),
    );
    expect(ingest.events).toEqual([
      { building: 'T1', device: 'T1-fire', kind: 'fire-panel', event: 'alarm', ts: 1732350001000, attrs: { zone: 'B1-3F-east' } },
      expect.objectContaining({ device: 'T1-door-acme', event: 'card_denied', attrs: { card: '0042' } }),
    ]);
    expect(metrics.find('fm_mqtt_messages_total')?.get({ channel: 'telemetry' })).toBe(2);
    expect(metrics.find('fm_mqtt_messages_total')?.get({ channel: 'event' })).toBe(2);
    expect(metrics.find('fm_mqtt_readings_total')?.get()).toBe(3);
    expect(metrics.find('fm_mqtt_connected')?.get()).toBe(1);
  });

  it('counts malformed payloads and unknown devices with a clear error and keeps running', async () => {
    const ingest = new MemoryIngest();
    const { connector: c, metrics, errors } = connector(ingest);
    await c.start();

    await publish('site/T1/T1-tank-roof/telemetry', '{level_pct: 7');
    await publish('site/T1/T1-door-lobby/event', { event: 'exploded' });
    await publish('site/T1/T1-ghost/telemetry', { level_pct: 1 });
    await publish('site/T1/T1-tank-roof/telemetry', { level_pct: 12 });

    await waitFor(() => ingest.readings.length === 1, 15_000, 'the good reading after the bad ones');
    expect(ingest.readings[0]).toMatchObject({ device: 'T1-tank-roof', metric: 'level_pct', value: 12 });
    expect(metrics.find('fm_mqtt_malformed_total')?.get({ reason: 'json' })).toBe(1);
    expect(metrics.find('fm_mqtt_malformed_total')?.get({ reason: 'event' })).toBe(1);
    expect(metrics.find('fm_mqtt_unknown_device_total')?.get()).toBe(1);
    const payloadErrors = errors.filter((e): e is MqttPayloadError => e instanceof MqttPayloadError);
    expect(payloadErrors.map((e) => e.topic)).toEqual(['site/T1/T1-tank-roof/telemetry', 'site/T1/T1-door-lobby/event']);
    expect(payloadErrors[0]?.message).toMatch(/^site\/T1\/T1-tank-roof\/telemetry: payload is not valid JSON/);
    expect(payloadErrors[1]?.message).toContain("'exploded' is not an event of a door; send one of open, closed");
    expect(c.status().state).toBe('running');
  });

  it('acknowledges a message only after submit resolved: unacknowledged ones come again after a connection loss', async () => {
    const tap = await startMqttTap(broker.url);
    cleanups.push(() => tap.close());
    const ingest = new MemoryIngest();
    const { connector: c, metrics } = connector(ingest, tap.url);
    await c.start();

    const tank = 'site/T1/T1-tank-roof/telemetry';
    const ghost = 'site/T1/T1-ghost/telemetry';
    ingest.hold();
    await publish(tank, { level_pct: 41 });
    await waitFor(() => ingest.submits === 1, 15_000, 'the submit of the first message');
    // A message of no configured device is acknowledged as soon as it is handled. Its PUBACK goes
    // out on the same connection after any PUBACK of the first message: once it has passed, the
    // first message's would have too.
    await publish(ghost, { level_pct: 0 });
    await waitFor(() => tap.acked().includes(ghost), 15_000, 'the PUBACK of the unknown device message');
    expect(tap.acked()).toEqual([ghost]);

    tap.cut();
    await waitFor(() => ingest.submits >= 2, 15_000, 'the broker delivering the unacknowledged message again');
    ingest.release();
    await waitFor(() => ingest.count('level_pct', 41) === 2, 15_000, 'both deliveries stored');
    expect(metrics.find('fm_mqtt_stale_acks_total')?.get()).toBe(1);
    await waitFor(() => tap.acked().includes(tank), 15_000, 'the acknowledgement after submit');
    expect(tap.acked()).toEqual([ghost, tank]);

    // Acknowledged now: another connection loss must not bring it a third time.
    const reconnects = metrics.find('fm_mqtt_reconnects_total')?.get() ?? 0;
    tap.cut();
    await waitFor(
      () => (metrics.find('fm_mqtt_reconnects_total')?.get() ?? 0) > reconnects && c.status().state === 'running' && metrics.find('fm_mqtt_connected')?.get() === 1,
      15_000,
      'reconnect',
    );
    await publish('site/T1/T1-tank-roof/telemetry', { level_pct: 42 });
    await waitFor(() => ingest.count('level_pct', 42) === 1, 15_000, 'the marker message');
    expect(ingest.count('level_pct', 41)).toBe(2);
  });

  it('leaves refused batches unacknowledged and stores them when the broker delivers them again', async () => {
    const ingest = new MemoryIngest();
    ingest.refuseNext = 1;
    const { connector: c, metrics, errors } = connector(ingest);
    await c.start();

    await publish('site/T1/T1-fire/event', { event: 'fault' });
    await waitFor(() => ingest.events.length === 1, 20_000, 'the refused event delivered again');
    expect(ingest.events[0]).toMatchObject({ device: 'T1-fire', event: 'fault' });
    expect(ingest.submits).toBe(2);
    expect(metrics.find('fm_mqtt_submit_failures_total')?.get()).toBe(1);
    expect(errors.some((e) => e instanceof MqttSubmitError && /outbox full/.test(e.message))).toBe(true);
  });

  it('gets the messages published while the gateway was stopped once it starts again (persistent session)', async () => {
    const first = connector(new MemoryIngest());
    await first.connector.start();
    expect(first.connector.status().state).toBe('running');
    await first.connector.stop();
    expect(first.connector.status().state).toBe('stopped');

    for (let i = 0; i < 50; i++) await publish('site/T1/T1-tank-roof/telemetry', { ts: 1732350000000 + i, level_mm: i });

    const ingest = new MemoryIngest();
    const metrics = new MetricsRegistry();
    const again = new MqttConnector({ site, brokerUrl: broker.url, ingest, metrics, clientId: first.clientId, reconnectPeriodMs: 100 });
    cleanups.push(() => again.stop());
    await again.start();
    await waitFor(() => ingest.readings.length === 50, 15_000, '50 readings published while stopped');
    expect(ingest.readings.map((r) => r.value)).toEqual([...Array(50).keys()]);
  });
});
