import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { parseSiteConfig } from '../common/site/load.ts';
import { gatewayStatusTopic, type GatewayStatus } from '../common/topics.ts';
import { Gateway } from '../gateway/gateway.ts';
import { startGatewayHttp } from '../gateway/http-endpoint.ts';
import { DiskBudget, growthPerDay } from '../gateway/store/disk-budget.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { metricValue, mqttSiteRaw, publishTelemetry } from './fixtures/gateway/telemetry.ts';
import { ManualClock } from './harness/manual-clock.ts';
import { waitFor } from './harness/ports.ts';

const MiB = 1024 * 1024;
const DAY = 86_400_000;

describe('growth of the bytes used', () => {
  it('is the least-squares slope per day, through the saw-tooth of compactions', () => {
    const t0 = Date.UTC(2026, 0, 1);
    // 1 MB a day, with a compaction taking back 100 kB every other hour.
    const samples = Array.from({ length: 25 }, (_, h) => ({ ts: t0 + h * 3_600_000, bytes: 5e6 + (h * 1e6) / 24 - (h % 2) * 1e5 }));
    expect(growthPerDay(samples)).toBeCloseTo(1e6, -4);
    expect(growthPerDay(samples.slice(0, 1))).toBeUndefined();
    expect(growthPerDay([samples[0]!, { ...samples[0]!, ts: t0 + 30_000 }])).toBeUndefined();
    expect(growthPerDay([samples[0]!, { ts: t0 + DAY, bytes: 4e6 }])).toBeCloseTo(-1e6);
  });

  it('gives the days until the budget is full, on a clock the test moves', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    let store = 100 * MiB;
    const metrics = new MetricsRegistry();
    const budget = new DiskBudget({ storeBytes: async () => store, outboxBytes: () => 0, storeBudgetBytes: 1000 * MiB, outboxBudgetBytes: 24 * MiB, intervalMs: 3_600_000, clock, metrics });
    const first = await budget.sample();
    expect(first).toMatchObject({ usedBytes: 100 * MiB, budgetBytes: 1024 * MiB, growthBytesPerDay: null, daysUntilFull: null });
    expect(metrics.render()).toMatch(/^fm_storage_days_until_full \+Inf$/m);
    clock.advance(DAY);
    store += 10 * MiB;
    const second = (await budget.sample())!;
    expect(second.growthBytesPerDay).toBe(10 * MiB);
    expect(second.daysUntilFull).toBeCloseTo(91.4, 1);
    expect(metricValue(metrics.render(), 'fm_storage_growth_bytes_per_day')).toBe(10 * MiB);
    expect(metricValue(metrics.render(), 'fm_storage_used_bytes', { part: 'store' })).toBe(110 * MiB);
  });
});

describe('gateway: disk budget of a small estate', () => {
  let broker: EmbeddedBroker;
  let gateway: Gateway;
  let http: { port: number; close(): Promise<void> };
  let watcher: MqttClient;
  let publisher: MqttClient;
  let dataDir: string;
  const statuses: GatewayStatus[] = [];
  const site = parseSiteConfig({
    ...mqttSiteRaw(4, 'gw-budget'),
    gateway: { id: 'gw-budget', outbox: { maxBytes: MiB }, store: { maxBytes: MiB } },
    reporting: { byException: false },
  });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fm-gateway-budget-'));
    broker = await startEmbeddedBroker({ port: 0 });
    watcher = await mqtt.connectAsync(broker.url, { clientId: 'budget-watcher', reconnectPeriod: 0 });
    watcher.on('message', (topic, payload) => {
      if (topic === gatewayStatusTopic('gw-budget')) statuses.push(JSON.parse(payload.toString()) as GatewayStatus);
    });
    await watcher.subscribeAsync(gatewayStatusTopic('gw-budget'), { qos: 1 });
    gateway = new Gateway({ site, dataDir, deviceBrokerUrl: broker.url, logger: createLogger('gateway'), storageSampleIntervalMs: 200 });
    await gateway.start();
    http = await startGatewayHttp({ port: 0, metrics: gateway.metrics, health: () => gateway.health() });
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'budget-publisher', reconnectPeriod: 0 });
  });

  afterAll(async () => {
    await publisher?.endAsync().catch(() => undefined);
    await watcher?.endAsync().catch(() => undefined);
    await http?.close();
    await gateway?.stop();
    await broker?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const ratio = async (): Promise<number> => metricValue(await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text(), 'fm_storage_budget_used_ratio');

  it('crosses 80 % of its budget in /metrics and in its upstream status as readings are stored', async () => {
    const empty = await waitFor(() => statuses.find((s) => s.storage !== undefined), 10_000, 'a status with the storage section');
    expect(empty.storage).toMatchObject({ budgetBytes: 2 * MiB, store: { budgetBytes: MiB }, outbox: { budgetBytes: MiB } });
    expect(empty.storage!.usedRatio).toBeLessThan(0.8);
    expect(await ratio()).toBeLessThan(0.8);

    // About 2 MB of readings: 15,000 messages of 4 metrics.
    const stream = publishTelemetry(publisher, { count: 15_000, devices: 4, t0: Date.now() - 3_600_000, perSecond: 5_000 });
    const full = await waitFor(() => statuses.find((s) => (s.storage?.usedRatio ?? 0) >= 0.8), 60_000, 'a status at 80 % of the budget', 100);
    await stream.stop();
    expect(full).toMatchObject({ gateway: 'gw-budget', online: true });
    const storage = full.storage!;
    expect(storage.usedBytes).toBe(storage.store.usedBytes + storage.outbox.usedBytes);
    expect(storage.usedBytes).toBeGreaterThanOrEqual(0.8 * storage.budgetBytes);
    expect(storage.growthBytesPerDay).toBeGreaterThan(0);
    expect(storage.daysUntilFull).toBeGreaterThanOrEqual(0);
    await waitFor(async () => (await ratio()) >= 0.8, 10_000, '/metrics at 80 % of the budget');
    expect(gateway.health().storage?.usedRatio).toBeGreaterThanOrEqual(0.8);
  });
});
