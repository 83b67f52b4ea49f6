import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../common/reading.ts';
import { dashboard, liveSite, removeDir, startServer, type Recorder, type ServerUnderTest } from './fixtures/server-live/stack.ts';
import { waitFor } from './harness/ports.ts';

const T0 = Date.parse('2025-01-06T02:00:00Z');

/** A flood of fire-panel faults (high) with a fire and an emergency call (critical) in it, on the server's own clock. */
describe('alarm floods on the dashboard feed', () => {
  let server: ServerUnderTest;
  let screen: Recorder;
  let now = T0;
  const clock = () => now;
  const event = (device: string, kind: DeviceEvent['kind'], name: string, attrs: DeviceEvent['attrs'] = {}): void =>
    server.app.rules.onEvent({ building: 'B1', device, kind, event: name, ts: now, attrs });
  const raised = () => screen.of('alarm:raised').filter((m) => !m.alarm.flood);

  beforeAll(async () => {
    // Event-only devices, so that moving the clock by minutes makes nothing go silent.
    server = await startServer({ site: liveSite({ rules: { kinds: { tank: { 'device-offline': { enabled: false } }, 'meter-water': { 'device-offline': { enabled: false } }, 'meter-electric': { 'device-offline': { enabled: false } } } } }), clock });
    screen = await dashboard(server.url, server.token);
  });
  afterAll(async () => {
    screen?.socket.disconnect();
    await server?.close();
    await removeDir(server?.dataDir);
  });

  it('announces 10 alarms in 10 minutes, groups the non-critical ones after them into a summary, and never a fire or an emergency call', async () => {
    for (let i = 1; i <= 30; i++) {
      now = T0 + i * 10_000;
      event('B1-fire', 'fire-panel', 'fault', { zone: `z${i}` });
      if (i === 15) event('B1-sos', 'emergency-button', 'pressed');
      if (i === 25) event('B1-fire', 'fire-panel', 'alarm', { zone: 'B1-3F-east' });
      server.app.rules.tick(now);
    }
    await server.app.rules.settled();
    await waitFor(() => screen.of('alarm:updated').filter((m) => m.change === 'grouped').length === 20, 10_000, '20 grouped alarms');
    await waitFor(() => raised().length === 12, 10_000, '12 announced');
    const announced = raised();
    expect(announced.filter((m) => !m.critical).map((m) => m.alarm.instance)).toEqual(Array.from({ length: 10 }, (_, i) => `z${i + 1}`));
    expect(announced.filter((m) => m.critical).map((m) => m.alarm.ruleId)).toEqual(['emergency-call', 'fire-zone-alarm']);
    const [summary, ...more] = screen.of('alarm:raised').filter((m) => m.alarm.flood);
    expect(more).toEqual([]);
    expect(summary.alarm).toMatchObject({ id: `flood-${T0 + 110_000}`, kind: 'estate', raisedAt: T0 + 110_000 });
    const grouped = screen.of('alarm:updated').filter((m) => m.change === 'grouped');
    expect(grouped.every((m) => m.alarm.suppressed === true && m.alarm.suppressedBy === summary.alarm.id && m.notify === false)).toBe(true);
    // Every alarm is still one work order: grouping is what the duty room sees, not what is recorded.
    expect((await server.app.workOrderQueries.list({ deviceId: 'B1-fire', limit: 100 })).total).toBe(31);
    // A dashboard connecting now sees the summary and the grouped alarms flagged.
    const late = await dashboard(server.url, server.token);
    const snapshot = late.of('snapshot')[0];
    late.socket.disconnect();
    expect(snapshot.alarms.filter((a: { flood?: unknown }) => a.flood)).toHaveLength(1);
    expect(snapshot.alarms.filter((a: { suppressed?: boolean }) => a.suppressed === true)).toHaveLength(20);
  });

  it('ends the flood once the rate has fallen, records its start, end and peak, and shows the grouped alarms again without announcing them', async () => {
    const before = raised().length;
    now = T0 + 300_000 + 600_000;
    server.app.rules.tick(now);
    await server.app.rules.settled();
    const cleared = await waitFor(() => screen.of('alarm:cleared').find((m) => m.alarm.flood), 10_000, 'the summary cleared');
    expect(cleared.alarm.state).toBe('cleared');
    await waitFor(() => screen.of('alarm:updated').filter((m) => m.change === 'ungrouped').length === 20, 10_000, 'the alarms ungrouped');
    expect(screen.of('alarm:updated').filter((m) => m.change === 'ungrouped').every((m) => m.alarm.suppressed === undefined)).toBe(true);
    expect(raised()).toHaveLength(before);

    const res = await server.app.inject({ method: 'GET', url: `/api/alarms/report?from=${T0}&to=${now}`, headers: { authorization: `Bearer ${server.token}` } });
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.floods).toEqual([{ id: `flood-${T0 + 110_000}`, startedAt: T0 + 110_000, endedAt: now, peak: 32, alarms: 22, grouped: 20 }]);
    expect(report).toMatchObject({ alarms: 32, perWindow: { peak: 32 }, workOrders: 32, alarmsPerWorkOrder: 1 });

    // After the flood, the next alarm is announced again.
    now += 1000;
    event('B1-door', 'door', 'forced');
    await server.app.rules.settled();
    await waitFor(() => raised().some((m) => m.alarm.device === 'B1-door'), 10_000, 'the door announced');
  });

  it('the report also as a printable page, and in /metrics; a bad period is refused naming the field', async () => {
    const get = (url: string) => server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${server.token}` } });
    const page = await get(`/api/alarms/report/page?from=${T0}&to=${now}&lang=en`);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('Alarm system report');
    expect(page.body).toContain('Alarm floods <span class="n">1</span>');
    expect((await get(`/api/alarms/report/page?from=${T0}&to=${now}`)).body).toContain('报警系统报告');
    const bad = await get(`/api/alarms/report?from=${now}&to=${T0}`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'from', message: expect.stringContaining('before to') });
    // The last 24 hours up to now, now excluded: a second later the door's alarm is in.
    now += 1000;
    const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^fm_alarm_report_floods 1$/m);
    expect(metrics).toMatch(/^fm_alarm_report_alarms 33$/m);
    expect(metrics).toMatch(/^fm_alarm_report_top_trips\{point="B1-door\/door-forced"\} 1$/m);
  });
});
