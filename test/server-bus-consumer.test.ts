import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventDedupe } from '../server/bus/event-dedupe.ts';
import { isMalformed, parseGatewayStatus, parseUpstreamState } from '../server/bus/upstream-payload.ts';
import { isNewerGatewayStatus } from '../server/live/device-state.ts';
import { GATEWAY, liveSite, removeDir, startServer, type ServerUnderTest } from './fixtures/server-live/stack.ts';
import { waitFor } from './harness/ports.ts';

describe.each([
  ['not JSON', '{"ts":', /not a JSON object/],
  ['ts in seconds', JSON.stringify({ ts: 1732350000, gateway: 'g', kind: 'tank', metrics: {} }), /ts must be epoch milliseconds/],
  ['unknown kind', JSON.stringify({ ts: 1732350000000, gateway: 'g', kind: 'boiler', metrics: {} }), /kind must be one of/],
  ['metric without quality', JSON.stringify({ ts: 1732350000000, gateway: 'g', kind: 'tank', metrics: { level_mm: { value: 1, ts: 1732350000000 } } }), /quality/],
  ['metric value as text', JSON.stringify({ ts: 1732350000000, gateway: 'g', kind: 'tank', metrics: { level_mm: { value: '1', quality: 'good', ts: 1732350000000 } } }), /finite number or null/],
])('parseUpstreamState: %s', (_name, payload, reason) => {
  it('is malformed with a reason', () => {
    const r = parseUpstreamState(Buffer.from(payload));
    expect(isMalformed(r) && r.malformed).toMatch(reason);
  });
});

const T = 1732350000000;
const link = { id: 'T1-modbus', protocol: 'modbus', state: 'down', since: T, devices: ['T1-tank'] };

describe.each([
  ['since in seconds', { gateway: 'gw', online: true, ts: T, since: 1732350000 }, /since must be epoch milliseconds/],
  ['connections not a list', { gateway: 'gw', online: true, ts: T, connections: {} }, /connections must be an array/],
  ['connection state unknown', { gateway: 'gw', online: true, ts: T, connections: [{ ...link, state: 'flapping' }] }, /connections\[0\]\.state must be up or down/],
  ['connection without devices', { gateway: 'gw', online: true, ts: T, connections: [{ ...link, devices: undefined }] }, /connections\[0\]\.devices must be an array of device ids/],
])('parseGatewayStatus: %s', (_name, body, reason) => {
  it('is malformed with a reason', () => {
    const r = parseGatewayStatus(Buffer.from(JSON.stringify(body)), 'gw');
    expect(isMalformed(r) && r.malformed).toMatch(reason);
  });
});

describe('gateway status', () => {
  it('keeps the sections it knows, validated, and ignores the others', () => {
    const r = parseGatewayStatus(Buffer.from(JSON.stringify({ gateway: 'gw', online: true, ts: T + 5, since: T, connections: [link], spare: { x: 1 } })), 'gw');
    expect(r).toEqual({ gateway: 'gw', online: true, ts: T + 5, since: T, connections: [link] });
  });

  it('takes statuses as they come, but not the late last will of a connection already replaced', () => {
    const online = { online: true, ts: T + 30_000, since: T };
    const will = { online: false, ts: T, since: T };
    // The will of the connection in use ends it, though its ts is older than the statuses sent on it.
    expect(isNewerGatewayStatus(online, will)).toBe(true);
    // Online again, on a new connection or on a clock that did not move: news.
    expect(isNewerGatewayStatus(will, { online: true, ts: T + 60_000, since: T + 60_000 })).toBe(true);
    expect(isNewerGatewayStatus(will, online)).toBe(true);
    // The will of the earlier connection, arriving after the new one began: stale.
    expect(isNewerGatewayStatus({ online: true, ts: T + 60_000, since: T + 60_000 }, will)).toBe(false);
    // A gateway that sends no since: by ts.
    expect(isNewerGatewayStatus({ online: true, ts: T }, { online: false, ts: T - 1 })).toBe(false);
  });
});

describe('EventDedupe', () => {
  it('knows an event again whatever the order of its attributes, and forgets the oldest past its capacity', () => {
    const d = new EventDedupe(2);
    const e = { building: 'B1', device: 'B1-fire', event: 'alarm', ts: 1, attrs: { zone: 'z1', n: 1 } };
    expect(d.firstTime(e)).toBe(true);
    expect(d.firstTime({ ...e, attrs: { n: 1, zone: 'z1' } })).toBe(false);
    expect(d.firstTime({ ...e, attrs: { zone: 'z2', n: 1 } })).toBe(true);
    expect(d.firstTime({ ...e, ts: 2 })).toBe(true);
    expect(d.size).toBe(2);
    expect(d.firstTime(e)).toBe(true);
  });
});

describe('upstream consumer', () => {
  let server: ServerUnderTest;
  let gw: MqttClient;
  const publish = (topic: string, body: unknown, retain = false) => gw.publishAsync(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1, retain });
  const counters = () => server.app.bus.counters;

  beforeAll(async () => {
    server = await startServer({ site: liveSite(), listen: false });
    gw = await mqtt.connectAsync(server.app.broker.url, { username: GATEWAY.id, password: GATEWAY.password, reconnectPeriod: 0 });
    await waitFor(() => server.app.bus.connected, 10_000, 'consumer connected');
  });
  afterAll(async () => {
    gw?.end(true);
    await server?.close();
    await removeDir(server?.dataDir);
  });

  it('counts malformed payloads and messages about unknown devices, and goes on', async () => {
    const t = Date.now();
    await publish('fm/v1/B1/B1-tank/state', 'not json');
    await publish('fm/v1/B1/B1-tank/event', { ts: t, gateway: GATEWAY.id, kind: 'tank', event: 7, attrs: {} });
    await publish('fm/v1/gateway/gw-live/status', { gateway: 'someone-else', online: true, ts: t });
    await publish('fm/v1/B1/B9-ghost/state', { ts: t, gateway: GATEWAY.id, kind: 'tank', metrics: {} });
    await publish('fm/v1/B2/B1-tank/state', { ts: t, gateway: GATEWAY.id, kind: 'tank', metrics: {} });
    await publish('fm/v1/B1/B1-tank/state', { ts: t, gateway: GATEWAY.id, kind: 'tank', metrics: { level_mm: { value: 2000, quality: 'good', ts: t } } });
    await waitFor(() => counters().states >= 1, 10_000, 'the good state');
    expect(counters()).toMatchObject({ malformed: 3, unknownDevice: 2, states: 1, readings: 1 });
    expect(server.app.liveState.get('B1-tank')!.metrics.level_mm).toEqual({ value: 2000, quality: 'good', ts: t });
  });

  it('hands only metrics newer than the last known to the rules', async () => {
    const t = Date.now() + 1000;
    const readings = counters().readings;
    const state = (level: number, pumpTs: number) => ({ ts: t, gateway: GATEWAY.id, kind: 'tank', metrics: { level_mm: { value: level, quality: 'good', ts: t }, pump_running: { value: 1, quality: 'good', ts: pumpTs } } });
    await publish('fm/v1/B1/B1-tank/state', state(2100, t));
    await publish('fm/v1/B1/B1-tank/state', state(2100, t));
    await publish('fm/v1/B1/B1-tank/state', { ...state(2100, t + 5), metrics: { ...state(2100, t).metrics, pump_running: { value: 0, quality: 'good', ts: t + 5 } } });
    await waitFor(() => counters().states >= 4, 10_000, 'three states');
    expect(counters().readings - readings).toBe(3);
    expect(server.app.liveState.get('B1-tank')!.metrics.pump_running!.value).toBe(0);
  });

  it('drops an event delivered twice, so a button press trips its alarm once', async () => {
    const t = Date.now();
    const press = { ts: t, gateway: GATEWAY.id, kind: 'emergency-button', event: 'pressed', attrs: {} };
    await publish('fm/v1/B1/B1-sos/event', press);
    await publish('fm/v1/B1/B1-sos/event', { ...press });
    await publish('fm/v1/B1/B1-sos/event', { ...press, event: 'reset', ts: t + 1 });
    await publish('fm/v1/B1/B1-sos/event', { ...press });
    await waitFor(() => counters().duplicateEvents >= 2, 10_000, 'duplicates');
    await server.app.rules.settled();
    expect(counters().events).toBe(2);
    const [alarm, ...more] = await server.app.alarms.history({ device: 'B1-sos' });
    expect(more).toEqual([]);
    expect(alarm).toMatchObject({ occurrences: 1, state: 'cleared-unacknowledged', raisedAt: t, clearedAt: t + 1 });
  });

  it("marks the devices behind a gateway offline on its last will, and back when it returns: one alarm and work order for the gateway, the devices' suppressed", async () => {
    const t = Date.now();
    await publish('fm/v1/gateway/gw-live/status', { gateway: GATEWAY.id, online: false, ts: t });
    await waitFor(() => server.app.liveState.get('B2-door')!.status === 'offline', 10_000, 'door offline');
    expect(server.app.liveState.gateways()).toEqual([{ id: GATEWAY.id, online: false, ts: t }]);
    await server.app.rules.settled();
    const announced = server.app.alarms.listActive().filter((a) => a.ruleId !== 'emergency-call');
    expect(announced.map((a) => a.key)).toEqual([`${GATEWAY.id}/gateway-offline`]);
    expect(announced[0]).toMatchObject({ kind: 'gateway', ruleType: 'infrastructure', building: 'live-test', details: { affected: 8 } });
    const offline = server.app.alarms.listActive({ suppressed: 'only' }).map((a) => a.device).sort();
    expect(offline).toEqual(['B1-0101-electric', 'B1-0101-water', 'B1-door', 'B1-fire', 'B1-sos', 'B1-tank', 'B2-door', 'B2-tank']);
    expect(server.app.alarms.listActive({ suppressed: 'only' }).every((a) => a.suppressedBy === `${GATEWAY.id}/gateway-offline` && a.announcedAt === undefined)).toBe(true);
    await publish('fm/v1/gateway/gw-live/status', { gateway: GATEWAY.id, online: true, ts: t + 1 });
    // Event-only devices come back with their gateway; polled ones need a reading.
    await waitFor(() => server.app.liveState.get('B2-door')!.status === 'online', 10_000, 'door online');
    expect(server.app.liveState.get('B2-tank')!.status).toBe('offline');
    await server.app.rules.settled();
    expect((await server.app.workOrderQueries.list({ deviceId: 'B2-door' })).items).toHaveLength(0);
    expect((await server.app.workOrderQueries.list({ deviceId: GATEWAY.id })).items).toEqual([expect.objectContaining({ ruleId: 'gateway-offline', source: 'alarm', occurrences: 1 })]);
  });

});
