import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent, Reading } from '../common/reading.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { UpstreamPublisher } from '../gateway/upstream/upstream-publisher.ts';
import { dashboard, GATEWAY, liveSite, removeDir, startServer, type Recorder, type ServerUnderTest } from './fixtures/server-live/stack.ts';
import { waitFor } from './harness/ports.ts';

const tankReading = (device: string, building: string, value: number, ts: number): Reading => ({ building, device, kind: 'tank', metric: 'level_mm', value, ts, quality: 'good', engUnit: 'mm' });
const doorEvent = (device: string, building: string, event: string, ts: number): DeviceEvent => ({ building, device, kind: 'door', event, ts, attrs: {} });

describe('dashboard sockets', () => {
  let server: ServerUnderTest;
  let gateway: UpstreamPublisher;
  const sockets: Recorder[] = [];

  beforeAll(async () => {
    server = await startServer({ site: liveSite() });
    gateway = new UpstreamPublisher({ brokerUrl: server.app.broker.url, gatewayId: GATEWAY.id, username: GATEWAY.id, password: GATEWAY.password, metrics: new MetricsRegistry(), reconnectPeriodMs: 200 });
    await gateway.start();
  });
  afterAll(async () => {
    for (const s of sockets) s.socket.disconnect();
    await gateway?.stop();
    await server?.close();
    await removeDir(server?.dataDir);
  });

  async function open(token: string | null = server.token): Promise<Recorder> {
    const r = await dashboard(server.url, token);
    sockets.push(r);
    return r;
  }

  it('refuses a socket without a token or with an unknown one', async () => {
    await expect(open(null)).rejects.toThrow(/log in first/);
    await expect(open('not-a-token')).rejects.toThrow(/unknown or has expired/);
  });

  it('sends a snapshot on connect, then device, alarm and ticket deltas', async () => {
    const d = await open();
    const [snapshot] = d.of('snapshot');
    expect(snapshot.buildings).toEqual(['B1', 'B2']);
    expect(snapshot.status.map((s: { id: string; condition: string }) => [s.id, s.condition])).toEqual([
      ['B1', 'normal'],
      ['B2', 'normal'],
    ]);
    expect(snapshot.devices.map((x: { id: string }) => x.id)).toEqual(['B1-tank', 'B1-0101-water', 'B1-0101-electric', 'B1-fire', 'B1-door', 'B1-sos', 'B2-tank', 'B2-door']);
    expect(snapshot.alarms).toEqual([]);
    expect(snapshot.tickets).toEqual([]);

    const t = Date.now();
    await gateway.deliver([{ readings: [tankReading('B1-tank', 'B1', 2500, t)], events: [] }]);
    const state = await waitFor(() => d.of('device:state').find((m) => m.devices.some((x: { id: string }) => x.id === 'B1-tank')), 10_000, 'device:state');
    expect(state.building).toBe('B1');
    expect(state.devices.find((x: { id: string }) => x.id === 'B1-tank')).toMatchObject({ status: 'online', lastSeen: t, metrics: { level_mm: { value: 2500, quality: 'good', ts: t, engUnit: 'mm' } } });

    await gateway.deliver([{ readings: [], events: [doorEvent('B1-door', 'B1', 'forced', t + 1)] }]);
    const raised = await waitFor(() => d.of('alarm:raised').find((m) => m.alarm.device === 'B1-door'), 10_000, 'alarm:raised');
    expect(raised).toMatchObject({ critical: false, alarm: { ruleId: 'door-forced', building: 'B1', state: 'active-unacknowledged', raisedAt: t + 1 } });
    const ticket = await waitFor(() => d.of('ticket:created').find((m) => m.ticket.deviceId === 'B1-door'), 10_000, 'ticket:created');
    expect(ticket.ticket).toMatchObject({ source: 'alarm', ruleId: 'door-forced', category: 'access-security', priority: 'high', state: 'open', createdAt: t + 1 });
    await waitFor(() => d.of('building:status').find((s) => s.id === 'B1' && s.condition === 'warning'), 10_000, 'building:status warning');

    await gateway.deliver([{ readings: [], events: [doorEvent('B1-door', 'B1', 'closed', t + 2)] }]);
    const cleared = await waitFor(() => d.of('alarm:cleared').find((m) => m.alarm.device === 'B1-door'), 10_000, 'alarm:cleared');
    expect(cleared.alarm).toMatchObject({ state: 'cleared-unacknowledged', clearedAt: t + 2 });

    // A second dashboard's snapshot has the open ticket and the unacknowledged alarm.
    const late = await open();
    const [later] = late.of('snapshot');
    expect(later.tickets.map((w: { deviceId: string }) => w.deviceId)).toEqual(['B1-door']);
    expect(later.alarms.map((a: { key: string }) => a.key)).toEqual(['B1-door/door-forced']);
    expect(later.devices.find((x: { id: string }) => x.id === 'B1-tank').metrics.level_mm.value).toBe(2500);
  });

  it('sends a dashboard only the buildings it subscribed to, except critical alarms which reach every dashboard', async () => {
    const b2 = await open();
    const ack = await b2.socket.emitWithAck('subscribe', { buildings: ['B2'] });
    expect(ack).toEqual({ ok: true, buildings: ['B2'] });
    const snapshot = b2.of('snapshot').at(-1);
    expect(snapshot.buildings).toEqual(['B2']);
    expect(snapshot.devices.map((x: { id: string }) => x.id)).toEqual(['B2-tank', 'B2-door']);
    expect(await b2.socket.emitWithAck('subscribe', { buildings: ['B9'] })).toMatchObject({ ok: false, error: expect.stringMatching(/unknown building B9/) });
    const all = await open();

    const t = Date.now() + 10;
    await gateway.deliver([
      { readings: [tankReading('B1-tank', 'B1', 2400, t), tankReading('B2-tank', 'B2', 3000, t)], events: [doorEvent('B1-door', 'B1', 'held_open', t)] },
    ]);
    await gateway.deliver([{ readings: [], events: [{ building: 'B1', device: 'B1-sos', kind: 'emergency-button', event: 'pressed', ts: t + 1, attrs: {} }] }]);
    await waitFor(() => all.of('alarm:raised').some((m) => m.alarm.device === 'B1-sos'), 10_000, 'SOS alarm on the all-buildings dashboard');
    await waitFor(() => all.of('alarm:raised').some((m) => m.alarm.ruleId === 'door-held-open'), 10_000, 'held-open alarm on the all-buildings dashboard');
    await waitFor(() => b2.of('device:state').some((m) => m.building === 'B2'), 10_000, 'B2 device delta');
    const sos = await waitFor(() => b2.of('alarm:raised').find((m) => m.alarm.device === 'B1-sos'), 10_000, 'critical alarm on the B2 dashboard');
    expect(sos.critical).toBe(true);
    // Everything for B1 has reached the other dashboard by now; none of it may have reached b2.
    await waitFor(() => all.of('device:state').some((m) => m.devices.some((x: { building: string; metrics: { level_mm?: { value: number } } }) => x.building === 'B1' && x.metrics.level_mm?.value === 2400)), 10_000, 'B1 delta');
    await waitFor(() => all.of('ticket:created').some((m) => m.ticket.ruleId === 'door-held-open'), 10_000, 'held-open ticket');
    // A round trip on b2 itself: whatever the server sent it before has arrived by the answer.
    expect(await b2.socket.emitWithAck('subscribe', { buildings: ['B2'] })).toMatchObject({ ok: true });
    // Deltas of every building may reach b2 before its first subscription's snapshot (it connected to all); none after it.
    const subscribed = b2.received.findIndex((r) => r.event === 'snapshot' && r.body.buildings.length === 1);
    expect(b2.received.slice(subscribed).filter((r) => r.event === 'device:state').every((r) => r.body.building === 'B2')).toBe(true);
    // A dashboard of every building gets the devices of every building in one message per window; `building` only when they are of one.
    const buildingsOf = (m: { devices: { building: string }[] }) => new Set(m.devices.map((x) => x.building));
    for (const m of all.of('device:state')) {
      if (m.building === undefined) expect(buildingsOf(m).size).toBeGreaterThan(1);
      else expect([...buildingsOf(m)]).toEqual([m.building]);
    }
    expect(b2.of('alarm:raised').map((m) => m.alarm.device)).toEqual(['B1-sos']);
    expect(b2.of('ticket:created').map((m) => m.ticket.deviceId)).toEqual(['B1-sos']);
    expect(b2.received.slice(subscribed).filter((r) => r.event === 'building:status').every((r) => r.body.id === 'B2')).toBe(true);
  });

  it('coalesces the device deltas of a busy device', async () => {
    const d = await open();
    const t = Date.now() + 100_000;
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => gateway.deliver([{ readings: [tankReading('B2-tank', 'B2', 1000 + i, t + i)], events: [] }])));
    const last = () => d.of('device:state').flatMap((m) => m.devices).filter((x: { id: string }) => x.id === 'B2-tank');
    await waitFor(() => last().at(-1)?.metrics.level_mm.value === 1000 + n - 1, 10_000, 'the newest level');
    expect(server.app.bus.counters.readings).toBeGreaterThanOrEqual(n);
    expect(last().length).toBeLessThan(n / 4);
  });
});
