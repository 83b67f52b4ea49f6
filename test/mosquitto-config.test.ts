import { execFileSync } from 'node:child_process';
import { chmod, copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasMosquitto, startMosquitto, type MosquittoInstance } from './harness/mosquitto.ts';
import { waitFor } from './harness/ports.ts';
import { requireBinary } from './harness/services.ts';

const SHIPPED = fileURLToPath(new URL('../mosquitto/', import.meta.url));
const LOGINS = {
  'fm-server': 'server-password-1',
  'gw-sunshine-1': 'gateway-password-1',
  'gw-sunshine-1-devices': 'gateway-devices-password-1',
  'T1-fire': 'fire-panel-password-1',
} as const;
type Login = keyof typeof LOGINS;

/** The shipped mosquitto.conf and acl on a free port: the listener and the file paths are the test's, every rule is the shipped one. */
async function shippedConfig(dir: string): Promise<string[]> {
  const passwd = requireBinary('mosquitto_passwd');
  if (!passwd) throw new Error('mosquitto_passwd is not on PATH (apt-get install mosquitto)');
  for (const [i, [user, password]] of Object.entries(LOGINS).entries()) {
    execFileSync(passwd, [...(i === 0 ? ['-c'] : []), '-b', join(dir, 'passwd'), user, password], { stdio: 'pipe' });
  }
  await copyFile(join(SHIPPED, 'acl'), join(dir, 'acl'));
  // Started as root, mosquitto drops to its own user, which must read them.
  await chmod(dir, 0o755);
  for (const f of ['passwd', 'acl']) await chmod(join(dir, f), 0o644);
  const lines = (await readFile(join(SHIPPED, 'mosquitto.conf'), 'utf8')).split('\n');
  return lines
    .filter((l) => !/^(listener|persistence_location)\b/.test(l))
    .map((l) => l.replace('/mosquitto/config/', `${dir}/`))
    .concat('persistence false', 'log_dest stderr', 'log_type error');
}

describe.runIf(hasMosquitto())('the shipped Mosquitto configuration', () => {
  let broker: MosquittoInstance;
  const clients: MqttClient[] = [];
  const connect = async (login: Login | undefined, opts: IClientOptions = {}): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, ...(login && { username: login, password: LOGINS[login] }), ...opts });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    broker = await startMosquitto({ config: shippedConfig, probe: { username: 'fm-server', password: LOGINS['fm-server'] } });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await broker?.stop();
  });

  it('refuses clients without a login', async () => {
    await expect(connect(undefined)).rejects.toThrow(/Not authorized/);
  });

  it("binds client ids to usernames: a device naming the gateway's client id takes nothing of it, and no will fires", async () => {
    const server = await connect('fm-server', { clientId: 'anything' });
    const seen: string[] = [];
    server.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await server.subscribeAsync('fm/v1/#', { qos: 1 });
    const will = { topic: 'fm/v1/gateway/gw-sunshine-1/status', payload: Buffer.from('offline'), qos: 1 as const, retain: false };
    const gateway = await connect('gw-sunshine-1', { clientId: 'gw-sunshine-1-upstream', will });
    let closes = 0;
    gateway.on('close', () => closes++);
    await connect('T1-fire', { clientId: 'gw-sunshine-1-upstream' });
    await connect('T1-fire', { clientId: 'gw-sunshine-1' });
    await gateway.publishAsync('fm/v1/T1/T1-fire/event', 'after the attempts', { qos: 1 });
    await waitFor(() => seen.includes('fm/v1/T1/T1-fire/event after the attempts'), 10_000, 'the gateway message');
    expect(closes).toBe(0);
    expect(seen.filter((s) => s.includes('offline'))).toEqual([]);
  });

  it('lets a gateway publish only its buildings and its own status, and a device only under its own id', async () => {
    const server = await connect('fm-server', { clientId: 'observer' });
    const seen: string[] = [];
    server.on('message', (topic) => seen.push(topic));
    await server.subscribeAsync(['fm/v1/#'], { qos: 1 });
    const reader = await connect('gw-sunshine-1-devices');
    const readings: string[] = [];
    reader.on('message', (topic) => readings.push(topic));
    await reader.subscribeAsync('site/#', { qos: 1 });
    const gateway = await connect('gw-sunshine-1');
    await gateway.publishAsync('fm/v1/T9/T9-fire/event', 'not its building', { qos: 1 });
    await gateway.publishAsync('fm/v1/gateway/gw-other/status', 'not its status', { qos: 1 });
    const device = await connect('T1-fire');
    await device.publishAsync('site/T1/T1-door-lobby/event', 'not its id', { qos: 1 });
    await device.publishAsync('site/T1/T1-fire/event', 'its own', { qos: 1 });
    await gateway.publishAsync('fm/v1/T1/T1-fire/event', 'its building', { qos: 1 });
    await waitFor(() => seen.includes('fm/v1/T1/T1-fire/event') && readings.includes('site/T1/T1-fire/event'), 10_000, 'the allowed messages');
    expect(seen).not.toContain('fm/v1/T9/T9-fire/event');
    expect(seen).not.toContain('fm/v1/gateway/gw-other/status');
    expect(readings).not.toContain('site/T1/T1-door-lobby/event');
  });

  it('closes a connection that sends a packet over max_packet_size', async () => {
    const gateway = await connect('gw-sunshine-1');
    const dropped = new Promise<void>((resolve) => gateway.once('close', () => resolve()));
    gateway.publish('fm/v1/T1/T1-tank/state', Buffer.alloc(10 * 1024 * 1024, 0x7b), { qos: 1 });
    await dropped;
  });
});
