import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.ts';
import { ManualClock } from '../devices/clock.ts';
import { startEstate, type RunningEstate } from '../devices/estate-simulator.ts';
import { Gateway } from '../gateway/gateway.ts';
import { dashboard, GATEWAY, liveSite, removeDir, startServer, type Recorder, type ServerUnderTest } from './fixtures/server-live/stack.ts';
import { freePort, waitFor } from './harness/ports.ts';

const RULES = {
  kinds: { tank: { 'tank-level-low': { forMs: 1000, offDelayMs: 1000 } } },
  devices: {
    'B2-tank': { 'tank-level-low': { forMs: 3000 } },
    'B1-0101-water': { 'device-offline': { afterMs: 2000 } },
  },
};

/** Devices → gateway → server, all real: simulators on a manual clock, the gateway with its SQLite store, the server with its embedded broker. */
describe('alarms become work orders end to end', () => {
  let server: ServerUnderTest;
  let estate: RunningEstate;
  let gateway: Gateway;
  let screen: Recorder;
  const clock = new ManualClock(Date.now());

  const workOrders = async (deviceId: string) => (await server.app.workOrderQueries.list({ deviceId })).items;
  /** Waits until the server has seen a reading of `deviceId` from at least `ts` and stored what it decided. */
  const heard = async (deviceId: string, ts: number, what: string) => {
    await waitFor(() => (server.app.liveState.get(deviceId)?.lastSeen ?? 0) >= ts, 15_000, what);
    await server.app.rules.settled();
  };

  beforeAll(async () => {
    const site = liveSite({ modbusPort: await freePort(), rules: RULES });
    server = await startServer({ site });
    estate = await startEstate({ site, brokerUrl: server.app.broker.url, clock, seed: 7, logger: createLogger('devices') });
    gateway = new Gateway({
      site,
      dataDir: join(server.dataDir, 'gateway'),
      deviceBrokerUrl: server.app.broker.url,
      // Its device connection (client id gw-live-devices) is the gateway's: it logs in as the gateway.
      deviceBrokerUsername: GATEWAY.id,
      deviceBrokerPassword: GATEWAY.password,
      upstreamUsername: GATEWAY.id,
      upstreamPassword: GATEWAY.password,
      logger: createLogger('gateway'),
    });
    await gateway.start();
    screen = await dashboard(server.url, server.token);
    await waitFor(() => server.app.liveState.get('B2-tank')?.status === 'online', 20_000, 'first readings through the gateway');
  });
  afterAll(async () => {
    screen?.socket.disconnect();
    await gateway?.stop();
    await estate?.stop();
    await server?.close();
    await removeDir(server?.dataDir);
  });

  it('fire-alarm opens exactly one fire work order within a second, pushed to the dashboard as critical', async () => {
    const eventAt = clock.now();
    await estate.scenario('fire-alarm', { target: 'B1-fire', zone: 'B1-1F-east' });
    const pushed = await waitFor(() => screen.received.find((r) => r.event === 'ticket:created' && r.body.ticket.deviceId === 'B1-fire'), 10_000, 'fire ticket on the dashboard');
    // Within a second of the panel's event, in the estate's own time (wall-clock latency is measured by `npm run bench`).
    expect(pushed.body.ticket.createdAt - eventAt).toBeLessThanOrEqual(1000);
    expect(pushed.body.critical).toBe(true);
    const alarm = screen.of('alarm:raised').find((m) => m.alarm.device === 'B1-fire');
    expect(alarm).toMatchObject({ critical: true, alarm: { ruleId: 'fire-zone-alarm', instance: 'B1-1F-east', severity: 'critical' } });
    const [wo, ...more] = await workOrders('B1-fire');
    expect(more).toEqual([]);
    expect(wo).toMatchObject({ source: 'alarm', ruleId: 'fire-zone-alarm', category: 'fire-safety', priority: 'critical', state: 'open', occurrences: 1, building: 'B1' });
    expect(wo!.createdAt).toBe(alarm.alarm.raisedAt);
    expect(wo!.title).toContain('B1-1F-east');
    // The panel stays in alarm and reports telemetry meanwhile: still one work order once that telemetry is in.
    clock.advance(10_000);
    await estate.tick();
    await heard('B1-fire', clock.now(), 'fire panel telemetry after the alarm');
    expect(await workOrders('B1-fire')).toHaveLength(1);
  });

  it('tank-leak opens one work order for the falling tank, not one per reading', async () => {
    await estate.scenario('tank-leak', { target: 'B1-tank' });
    const tank = estate.deviceOf('B1-tank', 'tank');
    for (let i = 0; i < 100 && tank.levelMm > 600; i++) {
      clock.advance(15_000);
      await estate.tick();
    }
    expect(tank.levelMm).toBeLessThanOrEqual(600);
    const [wo] = await waitFor(async () => {
      const items = await workOrders('B1-tank');
      return items.length > 0 ? items : undefined;
    }, 15_000, 'tank work order');
    expect(wo).toMatchObject({ ruleId: 'tank-level-low', priority: 'high', occurrences: 1 });
    const readingsAtRaise = server.app.rules.counters.readings;
    const polledBefore = server.app.liveState.get('B1-tank')!.lastSeen!;
    // Many more low readings arrive (the gateway polls every 200 ms) and change nothing.
    await heard('B1-tank', polledBefore + 2001, 'two more seconds of low readings');
    expect(server.app.rules.counters.readings).toBeGreaterThan(readingsAtRaise + 5);
    expect(await workOrders('B1-tank')).toEqual([expect.objectContaining({ id: wo!.id, occurrences: 1 })]);
    expect(server.app.alarms.listActive({ device: 'B1-tank' })).toHaveLength(1);
  });

  it('a level hovering at its limit within the deadband opens nothing', async () => {
    const tank = estate.deviceOf('B2-tank', 'tank');
    tank.pumpAvailable = false;
    const level = () => server.app.liveState.get('B2-tank')?.metrics.level_mm?.value;
    const pendingOnDelay = async () => (await server.app.records.alarms.timers()).some((t) => t.device === 'B2-tank' && t.ruleId === 'tank-level-low');
    let onDelaysStarted = 0;
    // 790 is below the 800 mm limit, 810 above it but inside the 50 mm deadband; each dip lasts one poll, less than the 3 s on-delay.
    for (let i = 0; i < 16; i++) {
      const mm = i % 2 === 0 ? 790 : 810;
      tank.levelMm = mm;
      await estate.tick();
      await waitFor(() => level() === mm, 15_000, `level ${mm} mm at the server`);
      await server.app.rules.settled();
      if (mm === 790 && (await pendingOnDelay())) onDelaysStarted++;
    }
    // Every dip started the on-delay, and the last normal reading cancelled it: nothing is pending that could raise later.
    expect(onDelaysStarted).toBe(8);
    expect(await pendingOnDelay()).toBe(false);
    expect(server.app.alarms.listActive({ device: 'B2-tank' })).toEqual([]);
    expect(await workOrders('B2-tank')).toEqual([]);
    tank.levelMm = 2500;
    tank.pumpAvailable = true;
    await estate.tick();
  });

  it('device-offline opens an offline work order and clears the alarm when the device returns', async () => {
    await estate.scenario('device-offline', { target: 'B1-0101-water', mqttTarget: 'B2-door', durationMs: 60_000 });
    const [wo] = await waitFor(async () => {
      const items = await workOrders('B1-0101-water');
      return items.length > 0 ? items : undefined;
    }, 15_000, 'offline work order');
    expect(wo).toMatchObject({ ruleId: 'device-offline', category: 'general', state: 'open' });
    expect(server.app.liveState.get('B1-0101-water')!.status).toBe('offline');
    await waitFor(() => screen.of('device:state').some((m) => m.devices.some((d: { id: string; status: string }) => d.id === 'B1-0101-water' && d.status === 'offline')), 10_000, 'offline delta');

    clock.advance(60_000);
    await estate.tick();
    const cleared = await waitFor(() => screen.of('alarm:cleared').find((m) => m.alarm.device === 'B1-0101-water'), 15_000, 'offline alarm cleared');
    expect(cleared.alarm).toMatchObject({ ruleId: 'device-offline', conditionActive: false });
    expect(server.app.liveState.get('B1-0101-water')!.status).toBe('online');
    await server.app.rules.settled();
    expect(await workOrders('B1-0101-water')).toHaveLength(1);
  });
});
