import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoEstate, type DemoEstate } from './fixtures/infrastructure/demo-estate.ts';
import { waitFor } from './harness/ports.ts';

/** The grace a device gets after its cause returned (rules.suppression.graceMs), and a little more. */
const PAST_GRACE_MS = 130_000;

/** The demo estate, devices → gateway → server, on one estate clock: one root cause, one alarm. */
describe('suppression by cause in the demo estate', () => {
  let demo: DemoEstate;
  const gatewayId = () => demo.site.gateway.id;
  const announcedSince = (n: number) => demo.screen.of('alarm:raised').slice(n).map((m) => m.alarm.key as string);
  const suppressedOpen = () => demo.server.app.alarms.listActive({ suppressed: 'only' });
  const workOrders = async () => (await demo.server.app.workOrderQueries.list({ limit: 500 })).items;

  beforeAll(async () => {
    demo = await startDemoEstate();
    await demo.startGateway();
    const devices = demo.site.devices.length;
    // Running normally: every device heard, nothing in alarm, no work order.
    await demo.advance(10_000, 5_000);
    await waitFor(() => demo.server.app.liveState.list().filter((d) => d.status === 'online').length === devices, 30_000, `all ${devices} devices online`);
  }, 120_000);
  afterAll(async () => {
    await demo?.close();
  });

  it('the demo estate running normally has no alarm and no work order', async () => {
    await demo.advance(60_000);
    expect(demo.server.app.alarms.listActive({ suppressed: 'include' })).toEqual([]);
    expect(await workOrders()).toEqual([]);
  }, 180_000);

  it('the gateway killed: 1 alarm and 1 work order for the gateway, every device alarm suppressed; the gateway back: all clear, no late pile', async () => {
    const { app } = demo.server;
    const announcedBefore = demo.screen.of('alarm:raised').length;
    const devices = demo.site.devices.map((d) => d.id).sort();
    await demo.killGateway();
    const gatewayAlarm = await waitFor(() => app.alarms.listActive().find((a) => a.key === `${gatewayId()}/gateway-offline`), 20_000, 'the gateway alarm');
    expect(gatewayAlarm).toMatchObject({ kind: 'gateway', severity: 'high', details: { affected: devices.length } });
    expect(gatewayAlarm.title.en).toBe(`Gateway ${gatewayId()} offline: ${devices.length} devices unreachable`);

    // The polled devices fall silent too, a minute later.
    await demo.advance(70_000);
    await waitFor(() => suppressedOpen().length === devices.length, 10_000, 'every device alarm recorded');
    expect(suppressedOpen().map((a) => a.device).sort()).toEqual(devices);
    expect(suppressedOpen().every((a) => a.ruleId === 'device-offline' && a.suppressedBy === gatewayAlarm.key && a.announcedAt === undefined)).toBe(true);
    expect(announcedSince(announcedBefore)).toEqual([gatewayAlarm.key]);
    expect(app.alarms.listActive().map((a) => a.key)).toEqual([gatewayAlarm.key]);
    const [wo, ...more] = await workOrders();
    expect(more).toEqual([]);
    expect(wo).toMatchObject({ deviceId: gatewayId(), ruleId: 'gateway-offline', source: 'alarm', occurrences: 1 });
    expect(wo!.detail).toContain('T1-0101-water');
    // The duty room still sees which devices are unreachable.
    expect(app.liveState.list().filter((d) => d.status === 'offline')).toHaveLength(devices.length);

    await demo.startGateway();
    await waitFor(() => app.alarms.listActive().every((a) => !a.conditionActive), 20_000, 'the gateway alarm back to normal');
    await demo.advance(10_000, 5_000);
    await waitFor(() => suppressedOpen().length === 0, 20_000, 'every device heard again');
    // Past the grace a device still silent would raise its own alarm: none does.
    await demo.advance(PAST_GRACE_MS);
    expect(announcedSince(announcedBefore)).toEqual([gatewayAlarm.key]);
    expect(app.alarms.listActive({ suppressed: 'include' })).toEqual([expect.objectContaining({ key: gatewayAlarm.key, state: 'cleared-unacknowledged', conditionActive: false })]);
    expect(await workOrders()).toHaveLength(1);
    expect(app.liveState.list().every((d) => d.status === 'online')).toBe(true);
  }, 180_000);

  it('one Modbus connection down: 1 alarm and 1 work order naming the devices behind it, their alarms suppressed until it is back', async () => {
    const { app } = demo.server;
    const announcedBefore = demo.screen.of('alarm:raised').length;
    const workOrdersBefore = (await workOrders()).length;
    const onT1 = demo.site.devices.filter((d) => d.connection === 'T1-modbus').map((d) => d.id);
    await demo.estate.slave('T1-modbus')!.powerOff();
    const key = `${gatewayId()}/connection-down/T1-modbus`;
    const alarm = await waitFor(() => app.alarms.listActive().find((a) => a.key === key), 20_000, 'the connection alarm').catch((err: Error) => {
      throw new Error(`${err.message}; the gateway's connections: ${JSON.stringify(demo.gateway?.health().connections.map((c) => [c.id, c.state]))}`);
    });
    expect(alarm).toMatchObject({ instance: 'T1-modbus', building: 'T1', details: { affected: onT1.length, protocol: 'modbus', devices: onT1.join(', ') } });
    expect(alarm.title.en).toBe(`Connection T1-modbus (modbus) down: ${onT1.length} devices unreachable`);

    await demo.advance(70_000);
    await waitFor(() => suppressedOpen().length === onT1.length, 10_000, 'the devices on T1-modbus recorded');
    expect(suppressedOpen().every((a) => a.suppressedBy === key)).toBe(true);
    expect(announcedSince(announcedBefore)).toEqual([key]);
    const fresh = (await workOrders()).slice(0, (await workOrders()).length - workOrdersBefore);
    expect(fresh).toEqual([expect.objectContaining({ deviceId: gatewayId(), ruleId: 'connection-down', alarmInstance: 'T1-modbus', building: 'T1' })]);
    for (const d of onT1) expect(fresh[0]!.detail).toContain(d);

    await demo.estate.slave('T1-modbus')!.restart(0);
    await waitFor(() => !app.alarms.listActive().find((a) => a.key === key)?.conditionActive, 20_000, 'the connection back');
    await demo.advance(10_000, 5_000);
    await waitFor(() => suppressedOpen().length === 0, 20_000, 'the devices on T1-modbus heard again');
    await demo.advance(PAST_GRACE_MS);
    expect(announcedSince(announcedBefore)).toEqual([key]);
    expect((await workOrders()).length).toBe(workOrdersBefore + 1);
  }, 180_000);
});
