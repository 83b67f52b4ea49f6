import { afterAll, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../common/metrics.ts';
import { UpstreamPublisher } from '../gateway/upstream/upstream-publisher.ts';
import { GATEWAY, liveSite, removeDir, startServer, type ServerUnderTest } from './fixtures/server-live/stack.ts';
import { freePort, waitFor } from './harness/ports.ts';

const FOR_MS = 5000;

describe('server restart during an on-delay', () => {
  let server: ServerUnderTest | undefined;
  let gateway: UpstreamPublisher | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    await gateway?.stop();
    await server?.close();
    await removeDir(dataDir);
  });

  it('still raises the alarm and its work order when the on-delay ends', async () => {
    const mqttPort = await freePort();
    const site = liveSite({ rules: { devices: { 'B1-tank': { 'tank-level-low': { forMs: FOR_MS } } } } });
    server = await startServer({ site, mqttPort, listen: false });
    dataDir = server.dataDir;
    gateway = new UpstreamPublisher({ brokerUrl: `mqtt://127.0.0.1:${mqttPort}`, gatewayId: GATEWAY.id, username: GATEWAY.id, password: GATEWAY.password, metrics: new MetricsRegistry(), reconnectPeriodMs: 100 });
    await gateway.start();

    const t0 = Date.now();
    await gateway.deliver([{ readings: [{ building: 'B1', device: 'B1-tank', kind: 'tank', metric: 'level_mm', value: 600, ts: t0, quality: 'good' }], events: [] }]);
    await waitFor(() => server!.app.rules.nextDue() === t0 + FOR_MS, 10_000, 'on-delay started');
    expect(server.app.alarms.listActive()).toEqual([]);
    await server.close();
    const closedAt = Date.now();
    server = undefined;

    server = await startServer({ site, dataDir, mqttPort, listen: false });
    let raisedWallTime = 0;
    server.app.alarms.once('alarm-raised', () => (raisedWallTime = Date.now()));
    const [wo] = await waitFor(async () => {
      const { items } = await server!.app.workOrderQueries.list({ deviceId: 'B1-tank' });
      return items.length > 0 ? items : undefined;
    }, 20_000, 'tank work order after the restart');

    // The restart happened inside the on-delay, and the alarm came when it ended, not before.
    expect(closedAt).toBeLessThan(t0 + FOR_MS);
    expect(raisedWallTime).toBeGreaterThanOrEqual(t0 + FOR_MS);
    const [alarm, ...others] = server.app.alarms.listActive({ device: 'B1-tank' });
    expect(others).toEqual([]);
    // The reading that started the on-delay before the restart is the alarm's value.
    expect(alarm).toMatchObject({ ruleId: 'tank-level-low', raisedAt: t0 + FOR_MS, value: 600, limit: 800 });
    expect(wo).toMatchObject({ ruleId: 'tank-level-low', createdAt: t0 + FOR_MS, occurrences: 1 });
  });
});
