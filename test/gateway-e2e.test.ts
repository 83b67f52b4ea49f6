import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.ts';
import { DEMO_SITE_FILE, parseSiteConfig } from '../common/site/load.ts';
import type { SiteConfig } from '../common/site/types.ts';
import { gatewayStatusTopic, parseUpstreamTopic, type GatewayStatus, type UpstreamEvent, type UpstreamState } from '../common/topics.ts';
import { startEstate, type RunningEstate } from '../devices/estate-simulator.ts';
import { Gateway } from '../gateway/gateway.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { demoSiteOnFreePorts } from './harness/demo-site.ts';
import { waitFor } from './harness/ports.ts';
import { startTcpProxy, type TcpProxy } from './harness/tcp-proxy.ts';

interface Message {
  topic: string;
  payload: unknown;
  retain: boolean;
  at: number;
}

/** Subscribes and records every message (retained ones included) until closed. */
async function record(url: string, filters: string[]): Promise<{ client: MqttClient; messages: Message[] }> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const messages: Message[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload: JSON.parse(payload.toString()), retain: packet.retain, at: Date.now() }));
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, messages };
}

describe('gateway with the demo estate: every device, events and state upstream', () => {
  let site: SiteConfig;
  let broker: EmbeddedBroker;
  let proxy: TcpProxy;
  let gateway: Gateway;
  let estate: RunningEstate;
  let upstream: { client: MqttClient; messages: Message[] };
  let dataDir: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    site = parseSiteConfig((await demoSiteOnFreePorts()).raw, DEMO_SITE_FILE);
    dataDir = await mkdtemp(join(tmpdir(), 'fm-gateway-e2e-'));
    broker = await startEmbeddedBroker({ port: 0 });
    // The gateway reaches the upstream broker through a hop the test can cut.
    proxy = await startTcpProxy(broker.url);
    upstream = await record(broker.url, ['fm/v1/+/+/event', gatewayStatusTopic(site.gateway.id)]);
    gateway = new Gateway({ site, dataDir, deviceBrokerUrl: broker.url, upstreamBrokerUrl: proxy.url, logger: createLogger('gateway') });
    await gateway.start();
    estate = await startEstate({ site, brokerUrl: broker.url, logger: createLogger('devices') });
  });

  afterAll(async () => {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    await upstream?.client.endAsync().catch(() => undefined);
    await gateway?.stop();
    await estate?.stop();
    await proxy?.close();
    await broker?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('stores readings of every device of the site (179) in the SQLite store', async () => {
    expect(site.devices).toHaveLength(179);
    expect(gateway.readingStore.backend).toBe('sqlite');
    const ids = new Set(site.devices.map((d) => d.id));
    const seen = await waitFor(
      async () => {
        const latest = new Set((await gateway.readingStore.latest()).map((r) => r.device));
        return [...ids].every((id) => latest.has(id)) ? latest : undefined;
      },
      30_000,
      'a stored reading of every device',
      500,
    );
    expect([...seen].sort()).toEqual([...ids].sort());
    const latest = await gateway.readingStore.latest({ device: 'T1-tank' });
    expect(latest.map((r) => r.metric)).toEqual(expect.arrayContaining(['level_mm', 'pump_running']));
    await waitFor(() => gateway.health().ok, 10_000, 'gateway health ok');
  });

  it('stores a fire alarm and publishes it upstream on fm/v1/{building}/{device}/event', async () => {
    const since = Date.now() - 1000;
    await estate.scenario('fire-alarm');
    const panel = estate.scenarioTargets.panel!;
    const zone = estate.scenarioTargets.zone!;
    const building = site.devices.find((d) => d.id === panel)!.building;

    const stored = await waitFor(
      async () => (await gateway.readingStore.events({ device: panel, from: since, to: Date.now() + 60_000 })).find((e) => e.event === 'alarm'),
      15_000,
      `the alarm of ${panel} in the store`,
      200,
    );
    expect(stored).toMatchObject({ building, device: panel, kind: 'fire-panel', event: 'alarm', attrs: { zone } });

    const published = await waitFor(
      () => upstream.messages.find((m) => m.topic === `fm/v1/${building}/${panel}/event` && (m.payload as UpstreamEvent).event === 'alarm'),
      15_000,
      'the alarm upstream',
    );
    expect(published.payload).toMatchObject({ gateway: site.gateway.id, kind: 'fire-panel', event: 'alarm', ts: stored.ts, attrs: { zone } });
  });

  it('keeps a retained state of every device on fm/v1/{building}/{device}/state', async () => {
    // A late subscriber gets the retained state of each device at once.
    const late = await record(broker.url, ['fm/v1/+/+/state']);
    clients.push(late.client);
    const states = await waitFor(
      () => {
        const byDevice = new Map<string, Message>();
        for (const m of late.messages) {
          const t = parseUpstreamTopic(m.topic);
          if (t?.type === 'state' && m.retain) byDevice.set(t.device, m);
        }
        return byDevice.size >= site.devices.length ? byDevice : undefined;
      },
      15_000,
      'a retained state of every device',
    );
    expect([...states.keys()].sort()).toEqual(site.devices.map((d) => d.id).sort());
    const tank = states.get('T1-tank')!;
    expect(tank.topic).toBe('fm/v1/T1/T1-tank/state');
    const s = tank.payload as UpstreamState;
    expect(s).toMatchObject({ gateway: site.gateway.id, kind: 'tank' });
    expect(s.metrics.level_mm).toMatchObject({ quality: 'good', engUnit: 'mm' });
    expect(typeof s.metrics.level_mm!.value).toBe('number');
  });

  it('shows the gateway online, and offline through its last will when the upstream connection is cut', async () => {
    const topic = gatewayStatusTopic(site.gateway.id);
    const statuses = () => upstream.messages.filter((m) => m.topic === topic).map((m) => m.payload as GatewayStatus);
    await waitFor(() => statuses().some((s) => s.online), 10_000, 'gateway online');
    expect(statuses().at(-1)).toMatchObject({ gateway: site.gateway.id, online: true });

    const before = statuses().length;
    proxy.cut();
    await waitFor(() => statuses().slice(before).some((s) => !s.online), 10_000, 'the last will (online false)');
    // It reconnects through the proxy and says so.
    await waitFor(() => statuses().slice(before).at(-1)?.online === true, 15_000, 'gateway online again');
    await waitFor(() => gateway.health().upstream.connected, 10_000, 'upstream connected again');
  });
});
