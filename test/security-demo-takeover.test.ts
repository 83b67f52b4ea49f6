import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from './fixtures/dashboard/demo-stack.ts';
import { waitFor } from './harness/ports.ts';

/**
 * The client-id takeover against the demo as npm start runs it: the server (embedded broker,
 * persistent consumer session) in its own process, the gateway and the simulated devices.
 */
describe('client-id takeover of the demo', () => {
  let stack: DemoStack;
  let token: string;

  const metric = async (pattern: RegExp): Promise<number> => {
    const text = await (await fetch(`${stack.server.url}/metrics`)).text();
    const m = pattern.exec(text);
    return m ? Number(m[1]) : 0;
  };
  const states = () => metric(/^fm_bus_messages_total\{what="states"\} (\d+)$/m);
  /** Gateway statuses saying offline (a last will among them); the line must be there, or the count proves nothing. */
  const gatewayOfflineStatuses = async (): Promise<number> => {
    const text = await (await fetch(`${stack.server.url}/metrics`)).text();
    const m = /^fm_bus_messages_total\{what="gatewayOffline"\} (\d+)$/m.exec(text);
    if (!m) throw new Error('no fm_bus_messages_total{what="gatewayOffline"} in /metrics');
    return Number(m[1]);
  };
  const clientIdRefusals = () => metric(/^fm_broker_refused_total\{reason="client-id",what="connects"\} (\d+)$/m);
  const activeAlarms = async (): Promise<unknown[]> => (await (await fetch(`${stack.server.url}/api/alarms`, { headers: { authorization: `Bearer ${token}` } })).json()) as unknown[];
  const upstreamReconnects = () => Number(/^fm_upstream_reconnects_total (\d+)$/m.exec(stack.gateway.metrics.render())?.[1] ?? 0);
  /** States the server takes after the attempt: whatever the attempt caused upstream came before them. */
  const flowGoesOn = async (): Promise<void> => {
    const before = await states();
    await waitFor(async () => (await states()) > before + 5, 30_000, 'upstream states after the attempt');
  };

  beforeAll(async () => {
    stack = await startDemoStack();
    const login = await fetch(`${stack.server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'demo', password: 'demo-password' }) });
    token = ((await login.json()) as { token: string }).token;
    await waitFor(() => stack.gateway.health().upstream.connected, 30_000, 'the gateway upstream');
    await waitFor(async () => (await states()) > 0, 30_000, 'the first states on the server');
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("refuses an anonymous client on the gateway's client id: no last will, no alarm, the gateway stays connected", async () => {
    const clientId = `${stack.site.gateway.id}-upstream`;
    const [offline, reconnects, alarms] = [await gatewayOfflineStatuses(), upstreamReconnects(), (await activeAlarms()).length];
    const will = { topic: `fm/v1/gateway/${stack.site.gateway.id}/status`, payload: Buffer.from(JSON.stringify({ gateway: stack.site.gateway.id, online: false, ts: Date.now() })), qos: 1 as const, retain: true };
    await expect(mqtt.connectAsync(stack.server.brokerUrl, { clientId, will, reconnectPeriod: 0 })).rejects.toThrow(/Identifier rejected/);
    await flowGoesOn();
    expect(await clientIdRefusals()).toBe(1);
    expect(await gatewayOfflineStatuses()).toBe(offline);
    expect(upstreamReconnects()).toBe(reconnects);
    expect(stack.gateway.health().upstream.connected).toBe(true);
    expect((await activeAlarms()).length).toBe(alarms);
    expect((await fetch(`${stack.server.url}/api/health`)).status).toBe(200);
  });

  it("refuses a client that names the server's persistent session: nothing handed over, health stays 200", async () => {
    const thief = mqtt.connect(stack.server.brokerUrl, { clientId: `fm-server-${stack.site.site.id}`, clean: false, reconnectPeriod: 0 });
    const received: string[] = [];
    thief.on('message', (topic) => received.push(topic));
    try {
      await expect(new Promise((resolve, reject) => (thief.once('connect', resolve), thief.once('error', reject)))).rejects.toThrow(/Identifier rejected/);
    } finally {
      thief.end(true);
    }
    await flowGoesOn();
    expect(received).toEqual([]);
    expect(await clientIdRefusals()).toBe(2);
    expect(await metric(/^fm_bus_connected (\d+)$/m)).toBe(1);
    expect((await fetch(`${stack.server.url}/api/health`)).status).toBe(200);
  });
});
