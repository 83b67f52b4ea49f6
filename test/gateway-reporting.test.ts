import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.ts';
import { parseSiteConfig } from '../common/site/load.ts';
import { deviceTopic, upstreamTopic, type UpstreamState } from '../common/topics.ts';
import { Gateway } from '../gateway/gateway.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { waitFor } from './harness/ports.ts';

const T0 = Date.now() - 600_000;

describe('gateway: report by exception on the store path only', () => {
  let broker: EmbeddedBroker;
  let gateway: Gateway;
  let device: MqttClient;
  let watcher: MqttClient;
  let dataDir: string;
  const states: UpstreamState[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fm-gateway-reporting-'));
    broker = await startEmbeddedBroker({ port: 0 });
    watcher = await mqtt.connectAsync(broker.url, { clientId: 'reporting-watcher', reconnectPeriod: 0 });
    watcher.on('message', (_topic, payload) => states.push(JSON.parse(payload.toString()) as UpstreamState));
    await watcher.subscribeAsync(upstreamTopic('B1', 'tank-0', 'state'), { qos: 1 });
    const site = parseSiteConfig({
      site: { id: 'reporting', name: 'Reporting' },
      gateway: { id: 'gw-reporting', store: { flushIntervalMs: 10 } },
      reporting: { kinds: { tank: { level_pct: { deadband: 5, heartbeatMs: 3_600_000 } } } },
      buildings: [{ id: 'B1', name: 'B1', devices: [{ id: 'tank-0', kind: 'tank', mqtt: {} }] }],
    });
    gateway = new Gateway({ site, dataDir, deviceBrokerUrl: broker.url, logger: createLogger('gateway', { level: 'warn' }) });
    await gateway.start();
    device = await mqtt.connectAsync(broker.url, { clientId: 'reporting-tank', reconnectPeriod: 0 });
  });

  afterAll(async () => {
    await device?.endAsync().catch(() => undefined);
    await watcher?.endAsync().catch(() => undefined);
    await gateway?.stop();
    await broker?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('stores the readings past the deadband, and sends every one upstream', async () => {
    // 50, then 51..54 (inside 5 of 50), then 56 (past it), then 57.
    const values = [50, 51, 52, 53, 54, 56, 57];
    for (const [i, v] of values.entries()) {
      await device.publishAsync(deviceTopic('B1', 'tank-0', 'telemetry'), JSON.stringify({ ts: T0 + i * 1000, level_pct: v }), { qos: 1 });
    }
    const last = T0 + (values.length - 1) * 1000;
    // Upstream: the state follows every reading, up to the last one.
    const state = await waitFor(() => states.find((s) => s.metrics.level_pct?.ts === last), 10_000, 'the state of the last reading upstream');
    expect(state.metrics.level_pct).toMatchObject({ value: 57, quality: 'good' });
    // The store: what report by exception kept, once the store consumer has every record.
    await waitFor(() => gateway.health().outbox.pending.store === 0 && gateway.metrics.find('fm_store_readings_skipped_total')!.get() === 5, 10_000, 'the store loop to decide on every reading');
    const stored = await gateway.readingStore.range({ device: 'tank-0', metric: 'level_pct', from: T0, to: last + 1 });
    expect(stored.map((p) => p.value)).toEqual([50, 56]);
    expect(gateway.metrics.find('fm_store_readings_kept_total')!.get()).toBe(2);
  });
});
