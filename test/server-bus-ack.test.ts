import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../common/reading.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { UpstreamConsumer, type UpstreamSink } from '../server/bus/upstream-consumer.ts';
import { LiveDeviceState } from '../server/live/device-state.ts';
import { GATEWAY, liveSite } from './fixtures/server-live/stack.ts';
import { waitFor } from './harness/ports.ts';

const CONSUMER = 'fm-server-ack-test';

/** A sink whose writes stay pending until the test releases them. */
function heldSink(log: string[]) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const sink: UpstreamSink = {
    onReading: () => undefined,
    onEvent: (e: DeviceEvent) => void log.push(`event ${e.event}`),
    onGatewayStatus: () => undefined,
    settled: () => {
      log.push('settle');
      return released;
    },
  };
  return {
    sink,
    release: () => {
      log.push('released');
      release();
    },
  };
}

describe('upstream acknowledgements', () => {
  let broker: EmbeddedBroker;
  let consumer: UpstreamConsumer;
  let gateway: MqttClient;
  let observer: MqttClient;
  const log: string[] = [];
  const held = heldSink(log);

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0 });
    broker.aedes.on('ack', (_packet, client) => {
      if (client?.id === CONSUMER) log.push('acked');
    });
    consumer = new UpstreamConsumer({ brokerUrl: broker.url, clientId: CONSUMER, liveState: new LiveDeviceState(liveSite()), sink: held.sink });
    await consumer.start();
    gateway = await mqtt.connectAsync(broker.url, { clientId: 'ack-test-gateway', reconnectPeriod: 0 });
    observer = await mqtt.connectAsync(broker.url, { clientId: 'ack-test-observer', reconnectPeriod: 0 });
  });
  afterAll(async () => {
    await gateway?.endAsync();
    await observer?.endAsync();
    await consumer?.stop();
    await broker?.close();
  });

  it('go out once what a message changed is stored, and the next message waits until then', async () => {
    const press = (event: string, ts: number) => JSON.stringify({ ts, gateway: GATEWAY.id, kind: 'emergency-button', event, attrs: {} });
    const t = Date.now();
    await gateway.publishAsync('fm/v1/B1/B1-sos/event', press('pressed', t), { qos: 1 });
    await gateway.publishAsync('fm/v1/B1/B1-sos/event', press('reset', t + 1), { qos: 1 });
    await waitFor(() => log.includes('settle'), 10_000, 'the first message processed');

    // A QoS 1 round trip of another client through the broker: an early acknowledgement, or the
    // second message read before the first is acknowledged, would have shown meanwhile.
    const probe = new Promise<void>((resolve) => observer.once('message', () => resolve()));
    await observer.subscribeAsync('probe', { qos: 1 });
    await observer.publishAsync('probe', 'round trip', { qos: 1 });
    await probe;
    expect(log).toEqual(['event pressed', 'settle']);

    held.release();
    await waitFor(() => log.filter((l) => l === 'acked').length === 2, 10_000, 'both messages acknowledged');
    const releasedAt = log.indexOf('released');
    expect(log.indexOf('acked')).toBeGreaterThan(releasedAt);
    expect(log.indexOf('event reset')).toBeGreaterThan(releasedAt);
    expect(consumer.counters.events).toBe(2);
  });

  it('handle() resolves once the writes of the message are stored', async () => {
    const order: string[] = [];
    const { sink, release } = heldSink(order);
    const direct = new UpstreamConsumer({ brokerUrl: broker.url, clientId: 'unused', liveState: new LiveDeviceState(liveSite()), sink });
    const handled = direct
      .handle('fm/v1/B1/B1-door/event', Buffer.from(JSON.stringify({ ts: Date.now(), gateway: GATEWAY.id, kind: 'door', event: 'forced', attrs: {} })))
      .then(() => order.push('handled'));
    // Only a macrotask boundary: every promise callback that could resolve `handled` early runs before it.
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['event forced', 'settle']);
    release();
    await handled;
    expect(order).toEqual(['event forced', 'settle', 'released', 'handled']);
  });
});
