import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../common/env.ts';
import { gatewayOfBuilding, siteOfItsGateway } from '../common/site/gateways.ts';
import { SiteConfigError, parseSiteConfig } from '../common/site/load.ts';
import { buildApp } from '../server/app.ts';
import { waitFor } from './harness/ports.ts';

const PASSWORDS = { 'gw-a': 'gateway-a-password', 'gw-b': 'gateway-b-password' } as const;

/** Two buildings, each with its own gateway: gw-a serves B1, gw-b serves B2. */
const rawSite = {
  site: { id: 'screening', name: 'Screening estate', demo: false },
  gateway: { id: 'gw-a', buildings: ['B1'] },
  gateways: [{ id: 'gw-b', buildings: ['B2'] }],
  modbus: { connections: [{ id: 'm1', tcp: { host: '127.0.0.1', port: 5020 } }] },
  buildings: [
    {
      id: 'B1',
      name: 'Block 1',
      devices: [
        { id: 'B1-fire', kind: 'fire-panel', mqtt: {} },
        { id: 'B1-door', kind: 'door', mqtt: {} },
        { id: 'B1-tank', kind: 'tank', params: { lowAlarmMm: 800, highAlarmMm: 3800 }, modbus: { connection: 'm1', unitId: 1, profile: 'tank-level' } },
      ],
    },
    { id: 'B2', name: 'Block 2', devices: [{ id: 'B2-fire', kind: 'fire-panel', mqtt: {} }] },
  ],
};

describe('site file: gateways and their buildings', () => {
  it('gives the file its gateway, with every building no other gateway serves by default', () => {
    const { gateway: _g, gateways: _gs, ...single } = rawSite;
    const site = parseSiteConfig(single);
    expect(site.gateways).toEqual([{ id: 'screening-gateway', buildings: ['B1', 'B2'] }]);
    expect(parseSiteConfig({ ...single, gateways: [{ id: 'gw-b', buildings: ['B2'] }] }).gateways).toEqual([
      { id: 'screening-gateway', buildings: ['B1'] },
      { id: 'gw-b', buildings: ['B2'] },
    ]);
  });

  it("gives the gateway process the devices of its own buildings only", () => {
    const site = parseSiteConfig(rawSite);
    expect(siteOfItsGateway(site).devices.map((d) => d.id)).toEqual(['B1-fire', 'B1-door', 'B1-tank']);
    const other = parseSiteConfig({ ...rawSite, gateway: { id: 'gw-b', buildings: ['B2'] }, gateways: [{ id: 'gw-a', buildings: ['B1'] }] });
    expect(siteOfItsGateway(other).devices.map((d) => d.id)).toEqual(['B2-fire']);
    expect(gatewayOfBuilding(other)).toEqual(new Map([['B2', 'gw-b'], ['B1', 'gw-a']]));
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown building', { gateways: [{ id: 'gw-b', buildings: ['B9'] }] }, /\/gateways\/0\/buildings\/0: unknown building 'B9'/],
    ['a building served twice', { gateway: { id: 'gw-a', buildings: ['B1', 'B2'] } }, /\/gateway\/buildings\/1: building 'B2' is already served by gateway 'gw-b'/],
    ['a building with devices and no gateway', { gateway: { id: 'gw-a', buildings: ['B1'] }, gateways: [] }, /\/buildings\/1\/id: building 'B2' has devices but no gateway serves it/],
    ['a gateway named twice', { gateways: [{ id: 'gw-a', buildings: ['B2'] }] }, /\/gateways\/0\/id: duplicate gateway id 'gw-a'/],
  ])('refuses %s', (_name, change, message) => {
    expect(() => parseSiteConfig({ ...rawSite, ...change })).toThrow(SiteConfigError);
    expect(() => parseSiteConfig({ ...rawSite, ...change })).toThrow(message);
  });
});

describe('what the server takes from the bus', () => {
  let app: FastifyInstance;
  let dir: string;
  const clients: MqttClient[] = [];
  let gwA: MqttClient;
  const now = Date.now();
  const counters = () => app.bus.counters;
  const metricsText = async () => (await app.inject({ url: '/metrics' })).body;
  const gateway = async (id: keyof typeof PASSWORDS): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(app.broker.url, { clientId: `${id}-upstream`, username: id, password: PASSWORDS[id], reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  const send = (c: MqttClient, topic: string, body: unknown) => c.publishAsync(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 });
  const tankState = (metrics: Record<string, { value: number; ts: number }>, ts = now) => ({
    ts,
    gateway: 'gw-a',
    kind: 'tank',
    metrics: Object.fromEntries(Object.entries(metrics).map(([k, m]) => [k, { ...m, quality: 'good' }])),
  });
  /** A door event from gw-a the consumer processes after whatever came before it on that connection. */
  let markers = 0;
  const marker = async (): Promise<void> => {
    const events = counters().events;
    await send(gwA, 'fm/v1/B1/B1-door/event', { ts: now + ++markers, gateway: 'gw-a', kind: 'door', event: 'open', attrs: {} });
    await waitFor(() => counters().events > events, 10_000, 'the marker event');
  };
  const level = () => app.liveState.get('B1-tank')!.metrics.level_mm;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fm-screening-'));
    const env = readEnvironment({
      GATEWAY_CREDENTIALS: Object.entries(PASSWORDS).map(([id, p]) => `${id}:${p}`).join(','),
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: 'admin-password-1',
      DATA_DIR: dir,
      MQTT_PORT: '0',
      LOG_LEVEL: 'silent',
    });
    app = await buildApp({ site: parseSiteConfig(rawSite), env });
    await waitFor(() => app.bus.connected, 10_000, 'consumer connected');
    gwA = await gateway('gw-a');
    await send(gwA, 'fm/v1/B1/B1-tank/state', tankState({ level_mm: { value: 2000, ts: now } }));
    await waitFor(() => level()?.value === 2000, 10_000, 'the first tank state');
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a fire alarm from a gateway that does not serve the building', async () => {
    const gwB = await gateway('gw-b');
    const dropped = new Promise<void>((resolve) => gwB.once('close', () => resolve()));
    gwB.publish('fm/v1/B1/B1-fire/event', JSON.stringify({ ts: now, gateway: 'gw-b', kind: 'fire-panel', event: 'alarm', attrs: { zone: 'B1-1F-east' } }), { qos: 1 });
    await dropped;
    await marker();
    expect(app.alarms.listActive()).toEqual([]);
    expect(await metricsText()).toMatch(/^fm_broker_refused_total\{reason="building",what="publishes"\} 1$/m);
  });

  it('refuses a message whose payload names another gateway than the one serving the building', async () => {
    await send(gwA, 'fm/v1/B1/B1-fire/event', { ts: now, gateway: 'gw-b', kind: 'fire-panel', event: 'alarm', attrs: { zone: 'B1-1F-east' } });
    await marker();
    expect(app.alarms.listActive()).toEqual([]);
    expect(await metricsText()).toMatch(/^fm_bus_refused_total\{reason="gateway"\} 1$/m);
  });

  it('refuses a state stamped in 2099, so later readings still count', async () => {
    const y2099 = Date.UTC(2099, 0, 1);
    const refused = counters().refused;
    await send(gwA, 'fm/v1/B1/B1-tank/state', tankState({ level_mm: { value: 9, ts: y2099 } }, y2099));
    await send(gwA, 'fm/v1/B1/B1-tank/state', tankState({ level_mm: { value: 9, ts: y2099 } }));
    await send(gwA, 'fm/v1/B1/B1-tank/state', tankState({ level_mm: { value: 2100, ts: now + 1000 } }));
    await waitFor(() => level()?.value === 2100, 10_000, 'the reading after the 2099 ones');
    expect(counters().refused - refused).toBe(2);
    expect(await metricsText()).toMatch(/^fm_bus_refused_total\{reason="future"\} 2$/m);
  });

  it('refuses 10,000 metrics in one message (the broker closes the connection of a packet that large), more than 256 whole, and drops metric names the device does not report', async () => {
    const invented = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, { value: i, ts: now + 2000 }]));
    const gw = await gateway('gw-a');
    const dropped = new Promise<void>((resolve) => gw.once('close', () => resolve()));
    gw.publish('fm/v1/B1/B1-tank/state', JSON.stringify(tankState({ ...invented(10_000), level_mm: { value: 1, ts: now + 2000 } })), { qos: 1 });
    await dropped;
    gwA = await gateway('gw-a');
    await send(gwA, 'fm/v1/B1/B1-tank/state', tankState({ ...invented(300), level_mm: { value: 1, ts: now + 2000 } }));
    await send(gwA, 'fm/v1/B1/B1-tank/state', tankState({ level_mm: { value: 2200, ts: now + 3000 }, rssi_x: { value: 1, ts: now + 3000 }, made_up: { value: 2, ts: now + 3000 } }));
    await waitFor(() => level()?.value === 2200, 10_000, 'the state with two invented metrics');
    expect(Object.keys(app.liveState.get('B1-tank')!.metrics)).toEqual(['level_mm']);
    const text = await metricsText();
    expect(text).toMatch(/^fm_broker_refused_total\{reason="packet-size",what="packets"\} 1$/m);
    expect(text).toMatch(/^fm_bus_refused_total\{reason="too-many-metrics"\} 1$/m);
    expect(text).toMatch(/^fm_bus_refused_total\{reason="unknown-metric"\} 1$/m);
  });

  it('refuses a message over 64 KiB, an event its kind does not send, a kind other than the site file says', async () => {
    await send(gwA, 'fm/v1/B1/B1-door/event', { ts: now, gateway: 'gw-a', kind: 'door', event: 'open', attrs: { pad: 'x'.repeat(70_000) } });
    await send(gwA, 'fm/v1/B1/B1-door/event', { ts: now, gateway: 'gw-a', kind: 'door', event: 'alarm', attrs: {} });
    await send(gwA, 'fm/v1/B1/B1-door/event', { ts: now, gateway: 'gw-a', kind: 'fire-panel', event: 'alarm', attrs: {} });
    await marker();
    expect(app.alarms.listActive()).toEqual([]);
    const text = await metricsText();
    for (const reason of ['too-large', 'unknown-event', 'kind']) expect(text).toMatch(new RegExp(`^fm_bus_refused_total\\{reason="${reason}"\\} 1$`, 'm'));
  });

  it('refuses the status of a gateway the site file does not name, and a status stamped in 2099', async () => {
    const statuses = counters().gatewayStatus;
    const refused = counters().refused;
    await app.bus.handle('fm/v1/gateway/gw-z/status', Buffer.from(JSON.stringify({ gateway: 'gw-z', online: false, ts: now })));
    await app.bus.handle('fm/v1/gateway/gw-b/status', Buffer.from(JSON.stringify({ gateway: 'gw-b', online: false, ts: Date.UTC(2099, 0, 1) })));
    expect(counters().gatewayStatus).toBe(statuses);
    expect(counters().refused).toBe(refused + 2);
    expect(app.liveState.gateways().find((g) => g.id === 'gw-b')).toBeUndefined();
    expect(app.liveState.gateways().map((g) => g.id)).not.toContain('gw-z');
    expect(app.alarms.listActive()).toEqual([]);
  });
});
