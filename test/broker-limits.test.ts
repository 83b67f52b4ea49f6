import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../common/env.ts';
import { brokerPolicy, type BrokerPolicy } from '../server/broker/broker-policy.ts';
import { ownerOfClientId } from '../server/broker/client-id-owner.ts';
import { MqttFraming } from '../server/broker/packet-limit.ts';
import { startSecuredBroker, type SecuredBroker } from '../server/broker/secured-broker.ts';
import { waitFor } from './harness/ports.ts';

const ENV = readEnvironment({ GATEWAY_CREDENTIALS: 'gw-1:correct-horse-1,gw-2:correct-horse-2', DEVICE_CREDENTIALS: 'panel-1:panel-password', DEVICE_ANONYMOUS: 'true' });
const GATEWAYS = [
  { id: 'gw-1', buildings: ['T1'] },
  { id: 'gw-2', buildings: ['T2'] },
];

function policyWith(limits: BrokerPolicy['limits'] = { maxPacketBytes: 256 * 1024, maxRetained: 10_000 }): BrokerPolicy {
  return brokerPolicy(ENV.brokerAccess, { demo: false, gateways: GATEWAYS }, limits);
}

describe.each([
  ['fm-server', 'fm-server'],
  ['fm-server-sunshine-gardens', 'fm-server'],
  ['gw-1', 'gw-1'],
  ['gw-1-upstream', 'gw-1'],
  ['gw-2-devices', 'gw-2'],
  ['panel-1', 'panel-1'],
  ['gw-9-upstream', undefined],
  ['T1-fire', undefined],
  ['mqttjs_1234', undefined],
  ['fm-serverless', undefined],
])('ownerOfClientId(%s)', (clientId, owner) => {
  it(`is ${owner ?? 'nobody'}`, () => expect(ownerOfClientId(clientId, policyWith())).toBe(owner));
});

describe('MqttFraming', () => {
  it('follows packets across chunks and stops at the first one over the limit', () => {
    const framing = new MqttFraming(200);
    // PINGREQ, then a PUBLISH of 130 bytes whose length (2 bytes: 0x82 0x01) is split across chunks.
    const body = Buffer.alloc(130, 1);
    expect(framing.push(Buffer.from([0xc0, 0x00, 0x30, 0x82]))).toBeUndefined();
    expect(framing.push(Buffer.concat([Buffer.from([0x01]), body]))).toBeUndefined();
    expect(framing.push(Buffer.from([0xc0, 0x00]))).toBeUndefined();
    // 10 MiB announced (Remaining Length 0x80 0x80 0x80 0x05): refused on its header, before any of its body.
    expect(framing.push(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x05]))).toBe('packet of 10485765 bytes exceeds the limit of 200');
  });

  it('refuses a remaining length longer than 4 bytes', () => {
    expect(new MqttFraming(1e9).push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe('malformed remaining length');
  });
});

describe('embedded broker identities and limits', () => {
  let secured: SecuredBroker;
  let observer: MqttClient;
  const seen: { topic: string; payload: string }[] = [];
  const clients: MqttClient[] = [];
  const connect = async (opts: IClientOptions = {}): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(secured.broker.url, { reconnectPeriod: 0, ...opts });
    clients.push(c);
    return c;
  };
  const refusals = (what: string, reason: string): number => secured.refusals().find((r) => r.what === what && r.reason === reason)?.n ?? 0;
  /** A message the gateway publishes after the attempt, seen by the observer: whatever the attempt caused came before it. */
  const marker = async (gw: MqttClient, n: string): Promise<void> => {
    await gw.publishAsync('fm/v1/T1/T1-tank/event', n, { qos: 1 });
    await waitFor(() => seen.some((m) => m.payload === n), 10_000, `marker ${n}`);
  };

  beforeAll(async () => {
    secured = await startSecuredBroker({ port: 0, policy: policyWith({ maxPacketBytes: 256 * 1024, maxRetained: 3 }) });
    observer = await connect({ username: secured.policy.server.username, password: secured.policy.server.password, clientId: 'fm-server-observer' });
    observer.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
    await observer.subscribeAsync(['fm/v1/#'], { qos: 1 });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await secured?.close();
  });

  it("refuses another login on a gateway's client id before touching its connection: no will, no takeover", async () => {
    const will = { topic: 'fm/v1/gateway/gw-1/status', payload: Buffer.from('{"gateway":"gw-1","online":false}'), qos: 1 as const, retain: true };
    const gw = await connect({ clientId: 'gw-1-upstream', username: 'gw-1', password: 'correct-horse-1', will });
    let closes = 0;
    gw.on('close', () => closes++);
    const attempts: IClientOptions[] = [
      { clientId: 'gw-1-upstream' },
      { clientId: 'gw-1-upstream', username: 'gw-2', password: 'correct-horse-2', will: { ...will, topic: 'fm/v1/gateway/gw-2/status' } },
      { clientId: 'gw-1-upstream', username: 'panel-1', password: 'panel-password', clean: false },
      { clientId: 'gw-1-upstream', username: 'gw-1', password: 'wrong-password' },
    ];
    for (const opts of attempts) await expect(connect(opts)).rejects.toThrow(/Identifier rejected|Bad username or password/);
    await marker(gw, 'after-gateway-takeover');
    expect(closes).toBe(0);
    expect(gw.connected).toBe(true);
    expect(seen.filter((m) => m.topic.startsWith('fm/v1/gateway/'))).toEqual([]);
    expect(refusals('connects', 'client-id')).toBe(3);
    expect(refusals('connects', 'credentials')).toBe(1);
    await gw.endAsync();
  });

  it("keeps the server's persistent session from a client that names it: its queued messages wait for the server", async () => {
    const server = secured.policy.server;
    const consumer = await connect({ clientId: 'fm-server-estate', clean: false, username: server.username, password: server.password });
    await consumer.subscribeAsync('fm/v1/+/+/event', { qos: 1 });
    await consumer.endAsync();
    const gw = await connect({ clientId: 'gw-1-upstream', username: 'gw-1', password: 'correct-horse-1' });
    await gw.publishAsync('fm/v1/T1/T1-fire/event', 'queued-for-the-server', { qos: 1 });

    const thief = mqtt.connect(secured.broker.url, { clientId: 'fm-server-estate', clean: false, reconnectPeriod: 0 });
    clients.push(thief);
    const received: string[] = [];
    thief.on('message', (_t, p) => received.push(p.toString()));
    await expect(new Promise((resolve, reject) => (thief.once('connect', resolve), thief.once('error', reject)))).rejects.toThrow(/Identifier rejected/);

    const back = mqtt.connect(secured.broker.url, { clientId: 'fm-server-estate', clean: false, reconnectPeriod: 0, username: server.username, password: server.password });
    clients.push(back);
    const got = new Promise<string>((resolve) => back.on('message', (_t, p) => resolve(p.toString())));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => back.once('connect', resolve));
    expect(connack.sessionPresent).toBe(true);
    expect(await got).toBe('queued-for-the-server');
    expect(received).toEqual([]);
  });

  it('lets a gateway publish for the buildings it serves only', async () => {
    const gw = await connect({ clientId: 'gw-2-upstream', username: 'gw-2', password: 'correct-horse-2' });
    await gw.publishAsync('fm/v1/T2/T2-fire/event', 'own-building', { qos: 1 });
    const dropped = new Promise<void>((resolve) => gw.once('close', () => resolve()));
    gw.publish('fm/v1/T1/T1-fire/event', 'not-its-building', { qos: 1 });
    await dropped;
    const gw1 = await connect({ clientId: 'gw-1-upstream', username: 'gw-1', password: 'correct-horse-1' });
    await marker(gw1, 'after-other-building');
    expect(seen.map((m) => m.payload)).toContain('own-building');
    expect(seen.map((m) => m.payload)).not.toContain('not-its-building');
    expect(refusals('publishes', 'building')).toBe(1);
  });

  it('closes the connection of a 10 MB publish, retained or not, before reading it', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 0x7b);
    for (const retain of [false, true]) {
      const gw = await connect({ clientId: 'gw-1-upstream', username: 'gw-1', password: 'correct-horse-1' });
      const dropped = new Promise<void>((resolve) => gw.once('close', () => resolve()));
      gw.publish('fm/v1/T1/T1-tank/state', big, { qos: 1, retain });
      await dropped;
    }
    const gw = await connect({ clientId: 'gw-1-upstream', username: 'gw-1', password: 'correct-horse-1' });
    await marker(gw, 'after-10-mb');
    expect(seen.filter((m) => m.payload.length > 1000)).toEqual([]);
    expect(refusals('packets', 'packet-size')).toBe(2);
    expect(secured.retained).toBe(0);
  });

  it('keeps at most MQTT_MAX_RETAINED retained messages; replacing or deleting one is always allowed', async () => {
    const gw = await connect({ clientId: 'gw-1-upstream', username: 'gw-1', password: 'correct-horse-1' });
    for (const device of ['a', 'b', 'c']) await gw.publishAsync(`fm/v1/T1/T1-${device}/state`, '{"n":1}', { qos: 1, retain: true });
    await gw.publishAsync('fm/v1/T1/T1-a/state', '{"n":2}', { qos: 1, retain: true });
    expect(secured.retained).toBe(3);
    const dropped = new Promise<void>((resolve) => gw.once('close', () => resolve()));
    gw.publish('fm/v1/T1/T1-d/state', '{"n":1}', { qos: 1, retain: true });
    await dropped;
    expect(refusals('publishes', 'retained-cap')).toBe(1);
    const again = await connect({ clientId: 'gw-1-upstream', username: 'gw-1', password: 'correct-horse-1' });
    await again.publishAsync('fm/v1/T1/T1-c/state', '', { qos: 1, retain: true });
    await again.publishAsync('fm/v1/T1/T1-d/state', '{"n":1}', { qos: 1, retain: true });
    expect(secured.retained).toBe(3);
  });
});
