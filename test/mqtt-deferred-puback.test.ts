import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import mqtt, { MqttClient, type IPublishPacket } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deferredPuback, handlePublishes, sendPubacks, type AckWhen, type DeferredPuback } from '../gateway/mqtt/deferred-puback.ts';
import { startEmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { hasMosquitto, startMosquitto } from './harness/mosquitto.ts';
import { startMqttTap, type MqttTap } from './harness/mqtt-tap.ts';
import { waitFor } from './harness/ports.ts';

// gateway/mqtt/deferred-puback.ts relies on mqtt.js internals; these tests fail the day they change.

describe('the mqtt.js internals deferred PUBACKs rely on', () => {
  it('mqtt is pinned to the exact version installed', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const installed = (createRequire(import.meta.url)('mqtt/package.json') as { version: string }).version;
    expect(pkg.dependencies.mqtt, 'package.json must pin mqtt exactly (no ^ or ~)').toMatch(/^\d+\.\d+\.\d+$/);
    expect(installed).toBe(pkg.dependencies.mqtt);
  });

  it('MqttClient has _sendPacket(packet, cb, cbStorePut, noStore) and an overridable handleMessage(packet, callback)', () => {
    const proto = MqttClient.prototype as unknown as Record<string, unknown>;
    expect(typeof proto._sendPacket).toBe('function');
    expect((proto._sendPacket as (...args: unknown[]) => void).length).toBe(4);
    expect(typeof proto.handleMessage).toBe('function');
    expect((proto.handleMessage as (...args: unknown[]) => void).length).toBe(2);
  });
});

const brokers = [
  {
    broker: 'aedes',
    available: true,
    start: async () => {
      const b = await startEmbeddedBroker({ port: 0 });
      return { url: b.url, stop: () => b.close() };
    },
  },
  { broker: 'mosquitto', available: hasMosquitto(), start: () => startMosquitto() },
];

describe.each(brokers.filter((b) => b.available))('deferred PUBACKs with $broker', ({ start }) => {
  let broker: { url: string; stop(): Promise<void> };
  let device: MqttClient;
  const cleanups: (() => Promise<unknown>)[] = [];
  let n = 0;

  beforeAll(async () => {
    broker = await start();
    device = await mqtt.connectAsync(broker.url, { clientId: `deferred-device-${process.pid}` });
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await device?.endAsync();
    await broker?.stop();
  });

  /**
   * A client through a tap with a persistent session: messages on `later/#` get their PUBACK only
   * through sendPubacks, any other message at once.
   */
  async function subscriber(): Promise<{ client: MqttClient; tap: MqttTap; held: DeferredPuback[]; received: string[] }> {
    const tap = await startMqttTap(broker.url);
    const client = mqtt.connect(tap.url, { clientId: `deferred-sub-${process.pid}-${++n}`, clean: false, reconnectPeriod: 50 });
    cleanups.push(async () => {
      await client.endAsync(true);
      await tap.close();
    });
    const held: DeferredPuback[] = [];
    const received: string[] = [];
    handlePublishes(client, (packet: IPublishPacket, next: (ack: AckWhen) => void) => {
      received.push(`${packet.topic} ${packet.payload.toString()}`);
      const ack = packet.topic.startsWith('later/') ? deferredPuback(client, packet) : undefined;
      if (ack) held.push(ack);
      next(ack ? 'later' : 'now');
    });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await client.subscribeAsync(['later/#', 'now/#'], { qos: 1 });
    return { client, tap, held, received };
  }

  it('withholds the PUBACK of a message until sendPubacks, then sends it on the same connection', async () => {
    const { client, tap, held } = await subscriber();
    await device.publishAsync('later/a', 'a', { qos: 1 });
    await device.publishAsync('now/b', 'b', { qos: 1 });
    // The second message's PUBACK follows any PUBACK of the first on the connection.
    await waitFor(() => tap.acked().includes('now/b'), 10_000, 'the PUBACK of now/b');
    expect(tap.acked()).toEqual(['now/b']);
    expect(held).toHaveLength(1);

    expect(sendPubacks(client, held)).toEqual({ sent: 1, stale: 0 });
    await waitFor(() => tap.acked().includes('later/a'), 10_000, 'the PUBACK of later/a');
    expect(tap.acked()).toEqual(['now/b', 'later/a']);
  });

  it('does not send a PUBACK on a later connection; the broker delivers that message again', async () => {
    const { client, tap, held, received } = await subscriber();
    await device.publishAsync('later/c', 'c', { qos: 1 });
    await waitFor(() => held.length === 1, 10_000, 'later/c');
    const reconnected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
    tap.cut();
    await reconnected;
    await waitFor(() => held.length === 2, 10_000, 'later/c delivered again on the new connection');
    expect(received).toEqual(['later/c c', 'later/c c']);

    expect(sendPubacks(client, held)).toEqual({ sent: 1, stale: 1 });
    await device.publishAsync('now/d', 'd', { qos: 1 });
    await waitFor(() => tap.acked().includes('now/d'), 10_000, 'the PUBACK of now/d');
    expect(tap.acked()).toEqual(['later/c', 'now/d']);
  });
});
