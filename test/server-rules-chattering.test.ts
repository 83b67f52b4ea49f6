import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../common/reading.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { UpstreamPublisher } from '../gateway/upstream/upstream-publisher.ts';
import { GATEWAY, liveSite, removeDir, startServer, type ServerUnderTest } from './fixtures/server-live/stack.ts';
import { waitFor } from './harness/ports.ts';

const door = (event: string, ts: number): DeviceEvent => ({ building: 'B1', device: 'B1-door', kind: 'door', event, ts, attrs: {} });

describe('chattering input through MQTT', () => {
  let server: ServerUnderTest;
  let gateway: UpstreamPublisher;
  beforeAll(async () => {
    server = await startServer({ site: liveSite(), listen: false });
    gateway = new UpstreamPublisher({ brokerUrl: server.app.broker.url, gatewayId: GATEWAY.id, username: GATEWAY.id, password: GATEWAY.password, metrics: new MetricsRegistry(), reconnectPeriodMs: 100 });
    await gateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
    await server?.close();
    await removeDir(server?.dataDir);
  });

  it('makes one alarm marked chattering and one work order', async () => {
    const t0 = Date.now();
    // A door contact flapping: forced, closed, forced, … ten times in ten seconds of device time.
    for (let i = 0; i < 10; i++) {
      await gateway.deliver([{ readings: [], events: [door('forced', t0 + i * 1000), door('closed', t0 + i * 1000 + 500)] }]);
    }
    await waitFor(() => server.app.bus.counters.events >= 20, 10_000, 'all 20 events consumed');
    await server.app.rules.settled();

    const alarms = await server.app.alarms.history({ device: 'B1-door' });
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ ruleId: 'door-forced', chattering: true, occurrences: 10, raisedAt: t0 });
    // Held open by chattering although the last event closed the door.
    expect(alarms[0]!.state).toBe('active-unacknowledged');

    const { items } = await server.app.workOrderQueries.list({ deviceId: 'B1-door' });
    expect(items).toHaveLength(1);
    // Raised, repeated once, then marked chattering; the trips after that are the alarm's, not the work order's.
    expect(items[0]).toMatchObject({ ruleId: 'door-forced', occurrences: 3, createdAt: t0 });
    const { timeline } = await server.app.workOrderQueries.get(items[0]!.id);
    expect(timeline.map((e) => e.action)).toEqual(['raise', 'occurrence', 'occurrence']);
    expect(timeline.at(-1)!.details.detail).toMatch(/chattering/);
  });
});
