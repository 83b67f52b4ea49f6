import { createServer } from 'node:net';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerAuthenticate } from '../server/broker/embedded-broker.ts';
import { waitFor } from './harness/ports.ts';

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

describe('startEmbeddedBroker', () => {
  it('listens on the port it reports, relays messages, and closes its clients and port', async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);

    const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const got: string[] = [];
    sub.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await sub.subscribeAsync('site/+/+/telemetry', { qos: 1 });
    await pub.publishAsync('site/T1/T1-tank/telemetry', '{"level_pct":3}', { qos: 1 });
    await waitFor(() => got.length === 1, 10_000, 'relayed message');
    expect(got).toEqual(['site/T1/T1-tank/telemetry {"level_pct":3}']);

    let closed = 0;
    sub.on('close', () => closed++);
    pub.on('close', () => closed++);
    await broker.close();
    await broker.close();
    await waitFor(() => closed >= 2, 10_000, 'clients disconnected by close()');
    expect(await listenable(broker.port)).toBe(true);
    sub.end(true);
    pub.end(true);
  });

  it('reports a loopback URL when listening on every interface', async () => {
    const broker = await startEmbeddedBroker({ port: 0, host: '0.0.0.0' });
    try {
      expect(broker.host).toBe('0.0.0.0');
      expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
      const c = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      await c.endAsync();
    } finally {
      await broker.close();
    }
  });

  it('fails to start on a port that is taken', async () => {
    const first = await startEmbeddedBroker({ port: 0 });
    try {
      await expect(startEmbeddedBroker({ port: first.port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  it('enforces the authentication and authorisation hooks it is given', async () => {
    const authenticate: BrokerAuthenticate = (_client, username, password, done) => {
      const ok = username === 'gw-1' && password?.toString() === 's3cret';
      if (ok) return done(null, true);
      done(Object.assign(new Error('bad credentials'), { returnCode: 4 as const }), false);
    };
    const broker = await startEmbeddedBroker({
      port: 0,
      authenticate,
      authorizePublish: (_client, packet, callback) => callback(packet.topic.startsWith('fm/v1/') ? null : new Error('gateways publish under fm/v1/ only')),
      authorizeSubscribe: (_client, sub, callback) => callback(null, sub.topic.startsWith('secret/') ? null : sub),
    });
    try {
      await expect(mqtt.connectAsync(broker.url, { reconnectPeriod: 0, username: 'gw-1', password: 'wrong' })).rejects.toThrow(/Bad username or password/);

      const gw = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, username: 'gw-1', password: 's3cret' });
      const granted = await gw.subscribeAsync('fm/v1/#', { qos: 1 });
      expect(granted.map((g) => [g.topic, g.qos])).toEqual([['fm/v1/#', 1]]);
      await expect(gw.subscribeAsync('secret/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
      const got: string[] = [];
      gw.on('message', (topic) => got.push(topic));
      await gw.publishAsync('fm/v1/T1/T1-tank/state', '{}', { qos: 1 });
      await waitFor(() => got.length === 1, 10_000, 'authorised publish');
      expect(got).toEqual(['fm/v1/T1/T1-tank/state']);

      // aedes drops the connection of a client that publishes where it may not.
      const dropped = new Promise<void>((resolve) => gw.once('close', () => resolve()));
      gw.publish('site/T1/T1-tank/telemetry', '{}', { qos: 1 });
      await dropped;
      expect(got).toEqual(['fm/v1/T1/T1-tank/state']);
      gw.end(true);
    } finally {
      await broker.close();
    }
  });
});
