import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.ts';
import { parseSiteConfig } from '../common/site/load.ts';
import { Gateway } from '../gateway/gateway.ts';
import { startGatewayHttp } from '../gateway/http-endpoint.ts';
import { InfluxReadingStore } from '../gateway/store/influx-store.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { METRICS, metricValue, mqttSiteRaw, publishTelemetry } from './fixtures/gateway/telemetry.ts';
import { startInfluxd, type InfluxInstance } from './harness/influxd.ts';
import { waitFor } from './harness/ports.ts';
import { requireBinary } from './harness/services.ts';

const MESSAGES = 20_000;
const DEVICES = 4;
const PUBLISH_MS = 20_000;
const OUTAGE_MS = PUBLISH_MS / 2;
// Inside the 365d retention policy and in the past: the gateway refuses timestamps a day ahead.
const T0 = Date.now() - 3_600_000;

describe.skipIf(!requireBinary('influxd'))('gateway: InfluxDB down for 10 s while devices publish', () => {
  let influxd: InfluxInstance;
  let broker: EmbeddedBroker;
  let gateway: Gateway;
  let http: { port: number; close(): Promise<void> };
  let publisher: MqttClient;
  let check: InfluxReadingStore;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fm-gateway-outage-'));
    [influxd, broker] = await Promise.all([startInfluxd(), startEmbeddedBroker({ port: 0 })]);
    gateway = new Gateway({
      site: parseSiteConfig(mqttSiteRaw(DEVICES, 'gw-outage')),
      dataDir,
      influxUrl: `${influxd.url}/facility`,
      deviceBrokerUrl: broker.url,
      logger: createLogger('gateway'),
    });
    await gateway.start();
    http = await startGatewayHttp({ port: 0, metrics: gateway.metrics, health: () => gateway.health() });
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'outage-publisher', reconnectPeriod: 0 });
    check = new InfluxReadingStore({ url: `${influxd.url}/facility`, retention: '365d' });
  });

  afterAll(async () => {
    await publisher?.endAsync().catch(() => undefined);
    await http?.close();
    await gateway?.stop();
    await check?.close();
    await broker?.close();
    await influxd?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();

  it('stores every reading exactly once after the outage and counts the failed deliveries', async () => {
    // A quarter of the messages before the outage, half during it, a quarter after.
    const perSecond = MESSAGES / (PUBLISH_MS / 1000);
    const acked = new Set<number>();
    let failed = 0;
    const publish = async (from: number, count: number, during?: () => Promise<void>): Promise<void> => {
      const stream = publishTelemetry(publisher, { from, count, devices: DEVICES, t0: T0, perSecond });
      await during?.();
      await stream.done;
      for (const i of stream.acked) acked.add(i);
      failed += stream.failed;
    };

    await publish(0, MESSAGES / 4);
    await waitFor(async () => (await check.count()) > 0, 15_000, 'first readings in InfluxDB', 100);
    await influxd.pause();
    await publish(MESSAGES / 4, MESSAGES / 2, async () => {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${http.port}/health`)).status === 503, OUTAGE_MS, 'gateway /health to report the store down', 100);
      const health = (await (await fetch(`http://127.0.0.1:${http.port}/health`)).json()) as { store: { healthy: boolean; lastError?: string } };
      expect(health.store.healthy).toBe(false);
      expect(health.store.lastError).toMatch(/InfluxDB write/);
    });
    const duringOutage = await scrape();
    expect(metricValue(duringOutage, 'fm_delivery_failures_total', { consumer: 'store' })).toBeGreaterThan(0);
    expect(metricValue(duringOutage, 'fm_delivery_healthy', { consumer: 'store' })).toBe(0);
    // Upstream is a separate consumer: it kept delivering while the store was down.
    expect(metricValue(duringOutage, 'fm_delivery_healthy', { consumer: 'upstream' })).toBe(1);
    await influxd.resume();
    await publish((MESSAGES * 3) / 4, MESSAGES / 4);

    expect(failed).toBe(0);
    expect(acked.size).toBe(MESSAGES);

    const expected = MESSAGES * METRICS.length;
    await waitFor(async () => (await check.count({ building: 'B1' })) >= expected, 45_000, `${expected} readings in InfluxDB`, 500);
    await waitFor(() => gateway.health().outbox.pending.store === 0, 10_000, 'the store consumer to catch up');
    expect(await check.count({ building: 'B1' })).toBe(expected);
    for (let d = 0; d < DEVICES; d++) expect(await check.count({ device: `tank-${d}` })).toBe((MESSAGES / DEVICES) * METRICS.length);

    const after = await scrape();
    expect(metricValue(after, 'fm_delivery_healthy', { consumer: 'store' })).toBe(1);
    expect(metricValue(after, 'fm_gateway_readings_total')).toBeGreaterThanOrEqual(expected);
    const body = (await (await fetch(`http://127.0.0.1:${http.port}/health`)).json()) as { ok: boolean; store: { healthy: boolean } };
    expect(body.store.healthy).toBe(true);
  }, 90_000);
});
