import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent, Reading } from '../common/reading.ts';
import { gatewayStatusTopic, type ConnectionStatus, type GatewayStatus, type UpstreamEvent, type UpstreamState } from '../common/topics.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { UpstreamPublisher, UpstreamUnavailableError } from '../gateway/upstream/upstream-publisher.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { isNewerGatewayStatus } from '../server/live/device-state.ts';
import { freePort, waitFor } from './harness/ports.ts';
import { startTcpProxy } from './harness/tcp-proxy.ts';

const T = 1732350000000;
const reading = (device: string, metric: string, value: number | null, ts: number, extra: Partial<Reading> = {}): Reading => ({
  building: 'T1',
  device,
  kind: 'tank',
  metric,
  value,
  ts,
  quality: 'good',
  ...extra,
});
const event = (device: string, name: string, ts: number, attrs: DeviceEvent['attrs'] = {}): DeviceEvent => ({
  building: 'T1',
  device,
  kind: 'fire-panel',
  event: name,
  ts,
  attrs,
});

/** A server-side observer: every message on `filter`, retained ones included. */
async function observe(url: string, filter: string): Promise<{ client: MqttClient; messages: { topic: string; body: unknown; retain: boolean }[] }> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 100 });
  const messages: { topic: string; body: unknown; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, body: JSON.parse(payload.toString()), retain: packet.retain }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, messages };
}

describe('UpstreamPublisher', () => {
  let broker: EmbeddedBroker;
  const cleanups: (() => Promise<unknown>)[] = [];
  let n = 0;

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0 });
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  afterAll(async () => {
    await broker?.close();
  });

  function publisher(
    brokerUrl = broker.url,
    extra: Partial<Pick<ConstructorParameters<typeof UpstreamPublisher>[0], 'publishTimeoutMs' | 'statusSections' | 'statusIntervalMs' | 'now'>> = {},
  ): { publisher: UpstreamPublisher; metrics: MetricsRegistry; gatewayId: string } {
    const metrics = new MetricsRegistry();
    const gatewayId = `gw-${process.pid}-${++n}`;
    const p = new UpstreamPublisher({ brokerUrl, gatewayId, metrics, reconnectPeriodMs: 100, ...extra });
    cleanups.push(() => p.stop());
    return { publisher: p, metrics, gatewayId };
  }

  it('keeps one retained state per device, merged with what was published before', async () => {
    const { publisher: p, metrics, gatewayId } = publisher();
    await p.start();
    await p.deliver([
      { readings: [reading('T1-tank-a', 'level_pct', 70, T, { engUnit: '%' }), reading('T1-tank-a', 'pump_running', 1, T)], events: [] },
      { readings: [reading('T1-tank-b', 'level_pct', 20, T)], events: [] },
    ]);
    await p.deliver([
      {
        readings: [
          reading('T1-tank-a', 'level_pct', 72, T + 1000, { engUnit: '%' }),
          // Older than what was published: must not replace it.
          reading('T1-tank-a', 'pump_running', 0, T - 1000),
          reading('T1-tank-a', 'high_float', null, T + 500, { quality: 'bad' }),
        ],
        events: [],
      },
    ]);

    const expected: UpstreamState = {
      ts: T + 1000,
      gateway: gatewayId,
      kind: 'tank',
      metrics: {
        level_pct: { value: 72, quality: 'good', ts: T + 1000, engUnit: '%' },
        pump_running: { value: 1, quality: 'good', ts: T },
        high_float: { value: null, quality: 'bad', ts: T + 500 },
      },
    };
    // A subscriber arriving later gets the retained, complete state.
    const late = await observe(broker.url, 'fm/v1/T1/+/state');
    cleanups.push(() => late.client.endAsync());
    await waitFor(() => late.messages.length === 2, 10_000, 'two retained states');
    const a = late.messages.find((m) => m.topic === 'fm/v1/T1/T1-tank-a/state');
    expect(a).toEqual({ topic: 'fm/v1/T1/T1-tank-a/state', body: expected, retain: true });
    expect(p.state('T1', 'T1-tank-a')).toEqual(expected);
    expect(metrics.find('fm_upstream_states_total')?.get()).toBe(3);
  });

  it('publishes events one message each, in order', async () => {
    const { publisher: p, metrics, gatewayId } = publisher();
    const server = await observe(broker.url, 'fm/v1/+/+/event');
    cleanups.push(() => server.client.endAsync());
    await p.start();
    await p.deliver([
      { readings: [], events: [event('T1-fire', 'alarm', T, { zone: 'B1-3F-east' })] },
      { readings: [], events: [event('T1-fire', 'restore', T + 60_000, { zone: 'B1-3F-east' }), { ...event('T1-door', 'card_denied', T + 1, { card: '0042' }), kind: 'door', unit: 'T1-0101' }] },
    ]);
    await waitFor(() => server.messages.length === 3, 10_000, 'three events');
    const alarm: UpstreamEvent = { ts: T, gateway: gatewayId, kind: 'fire-panel', event: 'alarm', attrs: { zone: 'B1-3F-east' } };
    expect(server.messages.map((m) => m.body)).toEqual([
      alarm,
      { ...alarm, ts: T + 60_000, event: 'restore' },
      { ts: T + 1, gateway: gatewayId, kind: 'door', unit: 'T1-0101', event: 'card_denied', attrs: { card: '0042' } },
    ]);
    expect(server.messages.map((m) => m.topic)).toEqual(['fm/v1/T1/T1-fire/event', 'fm/v1/T1/T1-fire/event', 'fm/v1/T1/T1-door/event']);
    expect(server.messages.every((m) => !m.retain)).toBe(true);
    expect(metrics.find('fm_upstream_events_total')?.get()).toBe(3);
  });

  it('announces itself online, and the broker publishes the last will when the connection dies without a goodbye', async () => {
    const proxy = await startTcpProxy(broker.url);
    cleanups.push(() => proxy.close());
    const { publisher: p, gatewayId } = publisher(proxy.url);
    const server = await observe(broker.url, gatewayStatusTopic(gatewayId));
    cleanups.push(() => server.client.endAsync());
    await p.start();
    const statuses = (): GatewayStatus[] => server.messages.map((m) => m.body as GatewayStatus);
    await waitFor(() => statuses().length === 1, 10_000, 'online status');
    expect(statuses()[0]).toMatchObject({ gateway: gatewayId, online: true });

    proxy.cut();
    await waitFor(() => statuses().length >= 2, 10_000, 'the last will');
    expect(statuses()[1]).toMatchObject({ gateway: gatewayId, online: false });
    expect(server.messages[1]?.retain).toBe(false);
    // The will belongs to the connection it was set for: the same since, and it ends that connection.
    expect(statuses()[1]!.since).toBe(statuses()[0]!.since);
    expect(isNewerGatewayStatus(statuses()[0], statuses()[1]!)).toBe(true);
    // The will is retained: a subscriber arriving now learns the gateway is offline, unless it is already back.
    await waitFor(() => statuses().length >= 3, 10_000, 'online again after reconnecting');
    expect(statuses()[2]).toMatchObject({ gateway: gatewayId, online: true });
    expect(statuses()[2]!.since).toBeGreaterThan(statuses()[1]!.since!);
    expect(isNewerGatewayStatus(statuses()[1], statuses()[2]!)).toBe(true);

    await p.stop();
    await waitFor(() => statuses().length >= 4, 10_000, 'offline status on stop');
    expect(statuses()[3]).toMatchObject({ gateway: gatewayId, online: false });
    const later = await observe(broker.url, gatewayStatusTopic(gatewayId));
    cleanups.push(() => later.client.endAsync());
    await waitFor(() => later.messages.length === 1, 10_000, 'retained status');
    expect(later.messages[0]).toMatchObject({ retain: true, body: { gateway: gatewayId, online: false } });
  });

  it('publishes its status with its sections when asked (once per turn) and periodically; the will carries none', async () => {
    let now = T;
    let connections: ConnectionStatus[] = [{ id: 'T1-modbus', protocol: 'modbus', state: 'up', since: T, devices: ['T1-tank'] }];
    const { publisher: p, gatewayId } = publisher(broker.url, { now: () => now, statusIntervalMs: 200, statusSections: () => ({ connections }) });
    const server = await observe(broker.url, gatewayStatusTopic(gatewayId));
    cleanups.push(() => server.client.endAsync());
    await p.start();
    const statuses = (): GatewayStatus[] => server.messages.map((m) => m.body as GatewayStatus);
    await waitFor(() => statuses().length >= 1, 10_000, 'online status');
    expect(statuses()[0]).toEqual({ gateway: gatewayId, online: true, ts: T, since: T, connections });

    now = T + 5000;
    connections = [{ ...connections[0]!, state: 'down', since: T + 5000 }];
    const before = statuses().length;
    p.publishStatus();
    p.publishStatus();
    await waitFor(() => statuses().some((s) => s.connections?.[0]?.state === 'down'), 10_000, 'the change');
    const changed = statuses().slice(before);
    expect(changed[0]).toEqual({ gateway: gatewayId, online: true, ts: T + 5000, since: T, connections });
    // Then again every statusIntervalMs, with what is true then.
    now = T + 6000;
    await waitFor(() => statuses().some((s) => s.ts === T + 6000), 10_000, 'a periodic status');
    await p.stop();
    await waitFor(() => statuses().at(-1)?.online === false, 10_000, 'offline on stop');
    expect(statuses().at(-1)).toEqual({ gateway: gatewayId, online: false, ts: T + 6000, since: T });
  });

  it('rejects deliveries while the broker is down and delivers once it is back', async () => {
    const port = await freePort();
    let own = await startEmbeddedBroker({ port });
    cleanups.push(() => own.close());
    const { publisher: p, metrics, gatewayId } = publisher(own.url);
    await p.start();
    await p.deliver([{ readings: [reading('T1-tank-a', 'level_pct', 50, T)], events: [] }]);

    await own.close();
    await waitFor(() => !p.connected, 10_000, 'publisher noticing the broker is gone');
    const down = [{ readings: [reading('T1-tank-a', 'battery_pct', 90, T + 1)], events: [event('T1-fire', 'fault', T + 1)] }];
    await expect(p.deliver(down)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(metrics.find('fm_upstream_failures_total')?.get()).toBe(1);

    own = await startEmbeddedBroker({ port });
    const server = await observe(own.url, 'fm/v1/#');
    cleanups.push(() => server.client.endAsync());
    await waitFor(() => p.connected, 15_000, 'publisher reconnecting');
    await p.deliver(down);
    await waitFor(() => server.messages.some((m) => m.topic.endsWith('/state')), 10_000, 'state on the new broker');
    // The new broker never saw the first state: the merged state still carries every metric.
    const state = server.messages.find((m) => m.topic === 'fm/v1/T1/T1-tank-a/state')?.body as UpstreamState;
    expect(Object.keys(state.metrics).sort()).toEqual(['battery_pct', 'level_pct']);
    expect(server.messages.some((m) => m.topic === 'fm/v1/T1/T1-fire/event')).toBe(true);
    expect(server.messages.some((m) => m.topic === gatewayStatusTopic(gatewayId) && (m.body as GatewayStatus).online)).toBe(true);
  });

  it('rejects a delivery the broker does not acknowledge in time', async () => {
    let holdPublishes = false;
    const slow = await startEmbeddedBroker({
      port: 0,
      authorizePublish: (_client, packet, callback) => {
        // Never answer for state publishes while held: the broker then sends no PUBACK.
        if (holdPublishes && packet.topic.endsWith('/state')) return;
        callback(null);
      },
    });
    cleanups.push(() => slow.close());
    const { publisher: p } = publisher(slow.url, { publishTimeoutMs: 300 });
    await p.start();
    holdPublishes = true;
    await expect(p.deliver([{ readings: [reading('T1-tank-a', 'level_pct', 1, T)], events: [] }])).rejects.toThrow(/did not acknowledge 1 messages within 300 ms/);
  });
});
