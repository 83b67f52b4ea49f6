import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../common/metrics.ts';
import { UpstreamPublisher, UpstreamUnavailableError } from '../gateway/upstream/upstream-publisher.ts';
import type { BrokerIdentity } from '../server/broker/broker-identity.ts';
import { EnvironmentError, readEnvironment, type EnvironmentVariables } from '../common/env.ts';
import { DEMO_GATEWAY_PASSWORD, brokerPolicy } from '../server/broker/broker-policy.ts';
import { startSecuredBroker, type SecuredBroker } from '../server/broker/secured-broker.ts';
import { mayPublish, maySubscribe } from '../server/broker/topic-acl.ts';
import { waitFor } from './harness/ports.ts';

const gateway: BrokerIdentity = { role: 'gateway', id: 'gw-1', buildings: new Set(['T1']) };
const device: BrokerIdentity = { role: 'device', id: 'anon', anonymous: true };
const server: BrokerIdentity = { role: 'server', id: 'fm-server' };

describe.each([
  [gateway, 'fm/v1/T1/T1-tank/state', true],
  [gateway, 'fm/v1/T1/T1-fire/event', true],
  [gateway, 'fm/v1/T2/T2-fire/event', false],
  [gateway, 'fm/v1/T2/T2-tank/state', false],
  [gateway, 'fm/v1/gateway/gw-1/status', true],
  [gateway, 'fm/v1/gateway/gw-2/status', false],
  [gateway, 'fm/v1/gateway/gw-1/state', false],
  [gateway, 'fm/v1/T1/T1-tank/command', false],
  [gateway, 'fm/v1/T1//state', false],
  [gateway, 'site/T1/T1-tank/telemetry', false],
  [gateway, '$SYS/broker/clients', false],
  [device, 'site/T1/T1-fire/event', true],
  [device, 'site/T1/T1-door-lobby/telemetry', true],
  [device, 'site/T1', false],
  [device, 'fm/v1/T1/T1-fire/event', false],
  [device, 'fm/v1/gateway/gw-1/status', false],
  [server, 'fm/v1/T1/T1-tank/state', true],
  [server, 'site/T1/T1-fire/event', false],
])('mayPublish(%o, %s)', (identity, topic, allowed) => {
  it(`is ${allowed}`, () => expect(mayPublish(identity, topic)).toBe(allowed));
});

describe.each([
  [gateway, 'site/+/+/telemetry', true],
  [gateway, 'site/#', true],
  [gateway, 'fm/v1/#', false],
  [gateway, '#', false],
  [gateway, '+/T1/#', false],
  [gateway, '$SYS/#', false],
  [device, 'site/T1/+/event', true],
  [device, '$share/g/fm/v1/#', false],
  [server, 'fm/v1/+/+/state', true],
  [server, 'fm/v1/gateway/+/status', true],
  [server, '#', false],
])('maySubscribe(%o, %s)', (identity, filter, allowed) => {
  it(`is ${allowed}`, () => expect(maySubscribe(identity, filter)).toBe(allowed));
});

/** The policy a server would build from these environment variables. */
const brokerPolicyFromEnv = (vars: EnvironmentVariables, site: { demo: boolean; gatewayId: string; buildings?: Record<string, string[]> }) =>
  brokerPolicy(readEnvironment(vars).brokerAccess, {
    demo: site.demo,
    gateways: [{ id: site.gatewayId, buildings: site.buildings?.[site.gatewayId] ?? ['T1'] }, ...Object.entries(site.buildings ?? {}).filter(([id]) => id !== site.gatewayId).map(([id, buildings]) => ({ id, buildings }))],
  });

describe('broker policy from the environment', () => {
  const site = { demo: false, gatewayId: 'gw-sunshine-1' };
  it('reads gateway and device credentials; passwords may contain colons', () => {
    const p = brokerPolicyFromEnv({ GATEWAY_CREDENTIALS: 'gw-a:pass:word-1, gw-b:0123456789', DEVICE_CREDENTIALS: 'panel-1:abcdefgh' }, site);
    expect([...p.gateways]).toEqual([
      ['gw-a', 'pass:word-1'],
      ['gw-b', '0123456789'],
    ]);
    expect([...p.devices]).toEqual([['panel-1', 'abcdefgh']]);
    expect(p.anonymousDevices).toBe(false);
    expect(p.server.password.length).toBeGreaterThanOrEqual(24);
  });
  it('gives the demo estate its demo gateway credential and anonymous devices, and nothing to other estates', () => {
    const demo = brokerPolicyFromEnv({}, { ...site, demo: true });
    expect(demo.gateways.get('gw-sunshine-1')).toBe(DEMO_GATEWAY_PASSWORD);
    expect(demo.anonymousDevices).toBe(true);
    expect(brokerPolicyFromEnv({ DEVICE_ANONYMOUS: 'false' }, { ...site, demo: true }).anonymousDevices).toBe(false);
    const real = brokerPolicyFromEnv({}, site);
    expect(real.gateways.size).toBe(0);
    expect(real.anonymousDevices).toBe(false);
    expect(brokerPolicyFromEnv({ DEVICE_ANONYMOUS: 'true' }, site).anonymousDevices).toBe(true);
  });
  it.each([
    [{ GATEWAY_CREDENTIALS: 'gw-a:short' }, /GATEWAY_CREDENTIALS: entry 1 \(gw-a\) needs a password of at least 8/],
    [{ GATEWAY_CREDENTIALS: 'gw a:0123456789' }, /GATEWAY_CREDENTIALS: entry 1 'gw a' is not a valid name/],
    [{ GATEWAY_CREDENTIALS: 'gw-a:0123456789,gw-a:9876543210' }, /'gw-a' is listed twice/],
    [{ GATEWAY_CREDENTIALS: 'gw-a:0123456789', DEVICE_CREDENTIALS: 'gw-a:0123456789' }, /also a gateway/],
    [{ GATEWAY_CREDENTIALS: 'fm-server:0123456789' }, /server's own MQTT user/],
    [{ DEVICE_CREDENTIALS: 'fm-server-x:0123456789' }, /starts with 'fm-server-', the server's client ids/],
    [{ GATEWAY_CREDENTIALS: 'gw-a:0123456789', DEVICE_CREDENTIALS: 'gw-a-upstream:0123456789' }, /'gw-a-upstream' is a client id of gateway 'gw-a'/],
    [{ DEVICE_ANONYMOUS: 'yes' }, /DEVICE_ANONYMOUS=yes: must be true or false/],
  ])('refuses %o', (env, message) => {
    expect(() => brokerPolicyFromEnv(env, site)).toThrow(EnvironmentError);
    expect(() => brokerPolicyFromEnv(env, site)).toThrow(message);
  });
});

describe('embedded broker access', () => {
  let secured: SecuredBroker;
  let observer: MqttClient;
  const seen: string[] = [];
  const clients: MqttClient[] = [];
  const connect = async (opts: mqtt.IClientOptions = {}): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(secured.broker.url, { reconnectPeriod: 0, ...opts });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    const policy = brokerPolicyFromEnv({ GATEWAY_CREDENTIALS: 'gw-1:correct-horse-1,gw-2:correct-horse-2', DEVICE_ANONYMOUS: 'true' }, { demo: false, gatewayId: 'gw-1', buildings: { 'gw-1': ['T1'], 'gw-2': ['T2'] } });
    secured = await startSecuredBroker({ port: 0, policy });
    observer = await connect({ username: policy.server.username, password: policy.server.password });
    observer.on('message', (topic) => seen.push(topic));
    await observer.subscribeAsync(['fm/v1/#', 'site/#'], { qos: 1 });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await secured?.close();
  });

  it('refuses a gateway with a wrong password, an unknown user, and the server user without its password', async () => {
    await expect(connect({ username: 'gw-1', password: 'correct-horse-2' })).rejects.toThrow(/Bad username or password/);
    await expect(connect({ username: 'gw-9', password: 'correct-horse-1' })).rejects.toThrow(/Bad username or password/);
    await expect(connect({ username: 'fm-server', password: 'guess' })).rejects.toThrow(/Bad username or password/);
    expect(secured.refused.connects).toBeGreaterThanOrEqual(3);
  });

  it('a gateway publisher with a wrong password delivers nothing upstream', async () => {
    const publisher = new UpstreamPublisher({ brokerUrl: secured.broker.url, gatewayId: 'gw-1', username: 'gw-1', password: 'wrong-password', metrics: new MetricsRegistry(), connectWaitMs: 1000, reconnectPeriodMs: 200 });
    try {
      await publisher.start();
      expect(publisher.connected).toBe(false);
      const batch = { readings: [{ building: 'T1', device: 'T1-tank', kind: 'tank' as const, metric: 'level_mm', value: 1, ts: Date.now(), quality: 'good' as const }], events: [] };
      await expect(publisher.deliver([batch])).rejects.toThrow(UpstreamUnavailableError);
      expect(seen.filter((t) => t.startsWith('fm/v1/T1/'))).toEqual([]);
    } finally {
      await publisher.stop();
    }
  });

  it('lets a gateway publish state and its own status, and drops it when it publishes outside them', async () => {
    const gw = await connect({ username: 'gw-1', password: 'correct-horse-1' });
    await gw.publishAsync('fm/v1/T1/T1-tank/state', '{}', { qos: 1 });
    await gw.publishAsync('fm/v1/gateway/gw-1/status', '{}', { qos: 1 });
    await waitFor(() => seen.includes('fm/v1/gateway/gw-1/status'), 10_000, 'gateway messages');
    const dropped = new Promise<void>((resolve) => gw.once('close', () => resolve()));
    gw.publish('fm/v1/gateway/gw-2/status', '{"gateway":"gw-2","online":false}', { qos: 1 });
    await dropped;
    expect(seen).toContain('fm/v1/T1/T1-tank/state');
    expect(seen).not.toContain('fm/v1/gateway/gw-2/status');
    expect(secured.refused.publishes).toBeGreaterThanOrEqual(1);
  });

  it('refuses a gateway reading upstream topics, and lets it read device topics', async () => {
    const gw = await connect({ username: 'gw-2', password: 'correct-horse-2' });
    await expect(gw.subscribeAsync('fm/v1/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    const granted = await gw.subscribeAsync('site/+/+/telemetry', { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
  });

  it('lets anonymous devices publish under site/ only', async () => {
    const dev = await connect();
    await dev.publishAsync('site/T1/T1-fire/event', '{"event":"alarm"}', { qos: 1 });
    await waitFor(() => seen.includes('site/T1/T1-fire/event'), 10_000, 'device event');
    const dropped = new Promise<void>((resolve) => dev.once('close', () => resolve()));
    dev.publish('fm/v1/T1/T1-fire/event', '{}', { qos: 1 });
    await dropped;
    expect(seen).not.toContain('fm/v1/T1/T1-fire/event');
  });
});

describe('embedded broker without anonymous devices', () => {
  it('refuses a client without a username (CONNACK 5)', async () => {
    const secured = await startSecuredBroker({ port: 0, policy: brokerPolicyFromEnv({}, { demo: false, gatewayId: 'gw-1' }) });
    try {
      await expect(mqtt.connectAsync(secured.broker.url, { reconnectPeriod: 0 })).rejects.toThrow(/Not authorized/);
    } finally {
      await secured.close();
    }
  });
});
