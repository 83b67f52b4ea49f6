import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../common/logger.ts';
import type { DeviceEvent, Reading } from '../common/reading.ts';
import type { SiteConfig } from '../common/site/types.ts';
import type { ConnectionStatus, GatewayStorageStatus } from '../common/topics.ts';
import type { Clock } from './clock.ts';
import { CONNECTORS } from './connectors/index.ts';
import type { Connector, ConnectorStatus, Ingest } from './connectors/connector.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { decodeBatch, encodeBatch } from './outbox/batch-codec.ts';
import { DeliveryLoop } from './outbox/delivery-loop.ts';
import { DiskOutbox, type OutboxRecord } from './outbox/disk-outbox.ts';
import { ReportFilter } from './reporting/report-filter.ts';
import { createReadingStore } from './store/create-reading-store.ts';
import { DiskBudget } from './store/disk-budget.ts';
import type { ReadingStore } from './store/reading-store.ts';
import type { StoreSelection } from './store/store-selection.ts';
import { StoreWriteError } from './store/store-write-error.ts';
import { UpstreamPublisher } from './upstream/upstream-publisher.ts';

export interface GatewayOptions {
  site: SiteConfig;
  dataDir: string;
  /** INFLUX_URL; unset: SQLite reading store in dataDir. */
  influxUrl?: string | undefined;
  /** Broker the MQTT devices publish to. */
  deviceBrokerUrl: string;
  /** Broker of the server; default: the device broker. Undefined and `upstream: false`: no upstream. */
  upstreamBrokerUrl?: string;
  upstream?: boolean;
  upstreamUsername?: string;
  upstreamPassword?: string;
  /** Credentials on the device broker (GATEWAY_MQTT_USERNAME/PASSWORD when it is the server's broker too). */
  deviceBrokerUsername?: string;
  deviceBrokerPassword?: string;
  logger: Logger;
  metrics?: MetricsRegistry;
  /** Store readings in records of at most this many outbox batches per write. Default 64. */
  storeRecordsPerWrite?: number;
  /** At most this many bytes of outbox records per write to the store (at least one record). Default 1 MiB (about 60,000 readings). */
  storeBytesPerWrite?: number;
  /** Writes to the reading store in flight at once; the outbox cursor still moves strictly in order. Default 4. */
  storeWritesInFlight?: number;
  /** How often the disk budget is measured. Default 60 s. */
  storageSampleIntervalMs?: number;
  /** Times the disk budget's samples. Default: the system clock. */
  clock?: Clock;
  /** Time of readings and of status messages. Default: Date.now (tests pass the estate's clock). */
  now?: () => number;
  /** The online status is published again this often, besides on every change. Default 30 s. */
  statusIntervalMs?: number;
}

export interface GatewayHealth {
  ok: boolean;
  connectors: ConnectorStatus[];
  store: { backend: string; healthy: boolean; lastError?: string };
  upstream: { enabled: boolean; healthy: boolean; connected: boolean; lastError?: string };
  /** The connections to the field buses, as the gateway status reports them. */
  connections: ConnectionStatus[];
  outbox: { bytes: number; pending: Record<string, number>; dropped: number; rejected: number };
  /** Disk used against the budget; null until first measured. */
  storage: GatewayStorageStatus | null;
}

/**
 * The edge gateway: connectors read devices and hand readings to the disk outbox; two delivery
 * loops move them from the outbox to the reading store and to the upstream broker, each at its
 * own pace, so an outage of one never holds back the other and nothing is lost in between.
 */
export class Gateway {
  readonly metrics: MetricsRegistry;
  private readonly log: Logger;
  private site: SiteConfig;
  private outbox!: DiskOutbox;
  private store!: ReadingStore;
  private storeReady: Promise<void> | undefined;
  private readonly reporting: ReportFilter;
  /** Selections of deliveries not acknowledged yet, so a retry stores exactly what the first attempt chose. */
  private readonly selections = new Map<string, (StoreSelection | undefined)[]>();
  private diskBudget: DiskBudget | undefined;
  private storeLoop!: DeliveryLoop;
  private upstream: UpstreamPublisher | undefined;
  private upstreamLoop: DeliveryLoop | undefined;
  private connectors: Connector[] = [];
  /** The connectors have started: their connection states are worth reporting. */
  private linksKnown = false;
  private readonly now: () => number;
  private readonly storeLatency;
  private readonly storeRejected;
  private readonly storeKept;
  private readonly storeSkipped;
  readonly ingest: Ingest;

  constructor(private readonly options: GatewayOptions) {
    this.site = options.site;
    this.now = options.now ?? Date.now;
    this.log = options.logger;
    this.metrics = options.metrics ?? new MetricsRegistry();
    const readingsIn = this.metrics.counter('fm_gateway_readings_total', 'Readings accepted into the outbox');
    const eventsIn = this.metrics.counter('fm_gateway_events_total', 'Device events accepted into the outbox');
    this.storeRejected = this.metrics.counter('fm_store_rejected_batches_total', 'Outbox records the reading store refused for good, kept in DATA_DIR/rejected');
    this.storeLatency = this.metrics.summary('fm_store_write_seconds', 'Time the reading store takes to accept one write');
    const refused = this.metrics.counter('fm_gateway_refused_records_total', 'Submissions the outbox refused (full, reject-new)');
    this.storeKept = this.metrics.counter('fm_store_readings_kept_total', 'Readings report by exception sends to the reading store');
    this.storeSkipped = this.metrics.counter('fm_store_readings_skipped_total', 'Readings report by exception leaves out of the reading store (inside their deadband, before their heartbeat)');
    this.reporting = new ReportFilter(options.site);
    this.ingest = {
      submit: async (readings: Reading[], events: DeviceEvent[]) => {
        if (readings.length === 0 && events.length === 0) return;
        try {
          await this.outbox.append(encodeBatch({ readings, events }));
        } catch (err) {
          refused.inc();
          throw err;
        }
        readingsIn.inc({}, readings.length);
        if (events.length > 0) eventsIn.inc({}, events.length);
      },
    };
  }

  get siteConfig(): SiteConfig {
    return this.site;
  }

  get readingStore(): ReadingStore {
    return this.store;
  }

  async start(): Promise<void> {
    const { site, dataDir, logger } = this.options;
    await mkdir(dataDir, { recursive: true });
    const upstreamEnabled = this.options.upstream !== false;
    this.outbox = await DiskOutbox.open({
      dir: join(dataDir, 'outbox'),
      maxBytes: site.gateway.outbox.maxBytes,
      whenFull: site.gateway.outbox.whenFull,
      consumers: upstreamEnabled ? ['store', 'upstream'] : ['store'],
      logger: logger.child({ component: 'outbox' }),
      metrics: this.metrics,
    });
    this.outbox.on('error', (err) => this.log.error({ err: err.message }, 'outbox problem'));

    this.store = createReadingStore({
      influxUrl: this.options.influxUrl,
      dataDir,
      retention: site.gateway.store.retention,
      rollups: site.gateway.store.rollups,
      batchSize: site.gateway.store.batchSize,
      logger,
    });
    this.storeLoop = this.deliveryLoop('store', (records) => this.deliverToStore(records), {
      maxRecords: this.options.storeRecordsPerWrite ?? 64,
      maxBytes: this.options.storeBytesPerWrite ?? 1024 * 1024,
      lingerMs: site.gateway.store.flushIntervalMs,
      maxInFlight: this.options.storeWritesInFlight ?? 4,
    });

    if (upstreamEnabled) {
      const upstreamOptions: ConstructorParameters<typeof UpstreamPublisher>[0] = {
        brokerUrl: this.options.upstreamBrokerUrl ?? this.options.deviceBrokerUrl,
        gatewayId: site.gateway.id,
        metrics: this.metrics,
        logger,
        stateFile: join(dataDir, 'upstream-state.json'),
        now: this.now,
        // Until the connectors have started, the status says nothing about the connections (the server keeps what it knew).
        statusSections: () => ({ ...(this.linksKnown ? { connections: this.connectionStatuses() } : {}), ...(this.diskBudget?.status ? { storage: this.diskBudget.status } : {}) }),
        ...(this.options.statusIntervalMs !== undefined ? { statusIntervalMs: this.options.statusIntervalMs } : {}),
      };
      if (this.options.upstreamUsername) upstreamOptions.username = this.options.upstreamUsername;
      if (this.options.upstreamPassword) upstreamOptions.password = this.options.upstreamPassword;
      this.upstream = new UpstreamPublisher(upstreamOptions);
      this.upstream.on('error', (err) => this.log.warn({ err: err.message }, 'upstream problem'));
      await this.upstream.start();
      this.upstreamLoop = this.deliveryLoop('upstream', (records) => this.upstream!.deliver(records.map((r) => decodeBatch(r.payload))), {
        maxRecords: 256,
        maxBytes: 8 * 1024 * 1024,
        lingerMs: 0,
        maxInFlight: 1,
      });
    }
    this.diskBudget = new DiskBudget({
      storeBytes: () => this.store.diskBytes(),
      outboxBytes: () => this.outbox.stats().bytes,
      storeBudgetBytes: site.gateway.store.maxBytes,
      outboxBudgetBytes: site.gateway.outbox.maxBytes,
      metrics: this.metrics,
      ...(this.options.storageSampleIntervalMs !== undefined ? { intervalMs: this.options.storageSampleIntervalMs } : {}),
      ...(this.options.clock ? { clock: this.options.clock } : {}),
    });
    this.diskBudget.on('error', (err) => this.log.warn({ err: err.message }, 'disk budget not measured'));
    // The periodic status carries every sample; a change of a whole percent goes upstream at once.
    let publishedPercent: number | undefined;
    this.diskBudget.on('status', (status: GatewayStorageStatus) => {
      const percent = Math.floor(status.usedRatio * 100);
      if (percent === publishedPercent) return;
      publishedPercent = percent;
      this.upstream?.publishStatus();
    });
    this.storeLoop.start();
    this.upstreamLoop?.start();
    this.diskBudget.start();
    await this.startConnectors();
    this.log.info(
      { gateway: site.gateway.id, store: this.store.backend, connectors: this.connectors.map((c) => c.name), devices: site.devices.length },
      'gateway running',
    );
  }

  /** Applies a new site file: connectors restart with its devices; the outbox and store carry on. */
  async reconfigure(site: SiteConfig): Promise<void> {
    if (JSON.stringify(site.gateway) !== JSON.stringify(this.site.gateway)) {
      this.log.warn({ file: site.file }, 'changes to the gateway section (id, outbox, store) take effect at the next restart');
    }
    await this.stopConnectors();
    this.site = site;
    this.reporting.configure(site);
    await this.startConnectors();
    this.log.info({ file: site.file, devices: site.devices.length }, 'site file applied');
  }

  /** Stops reading devices, delivers what it can, and closes everything. Nothing acknowledged is lost. */
  async stop(): Promise<void> {
    await this.stopConnectors();
    await this.diskBudget?.stop();
    await this.storeLoop?.stop();
    await this.upstreamLoop?.stop();
    await this.upstream?.stop();
    await this.outbox?.close();
    await this.store?.close();
    this.log.info('gateway stopped');
  }

  health(): GatewayHealth {
    const stats = this.outbox.stats();
    const store = this.storeLoop.stats();
    const up = this.upstreamLoop?.stats();
    const connectors = this.connectors.map((c) => c.status());
    const h: GatewayHealth = {
      ok: store.healthy && (up?.healthy ?? true) && connectors.every((c) => c.state === 'running'),
      connectors,
      store: { backend: this.store.backend, healthy: store.healthy },
      upstream: { enabled: !!this.upstream, healthy: up?.healthy ?? false, connected: this.upstream?.connected ?? false },
      connections: this.connectionStatuses(),
      outbox: {
        bytes: stats.bytes,
        pending: Object.fromEntries(Object.entries(stats.consumers).map(([k, v]) => [k, v.pendingRecords])),
        dropped: stats.droppedRecords,
        rejected: stats.rejectedRecords,
      },
      storage: this.diskBudget?.status ?? null,
    };
    if (store.lastError && !store.healthy) h.store.lastError = store.lastError.message;
    if (up?.lastError && !up.healthy) h.upstream.lastError = up.lastError.message;
    return h;
  }

  private deliveryLoop(
    name: 'store' | 'upstream',
    deliver: (records: OutboxRecord[]) => Promise<void>,
    { maxRecords, maxBytes, lingerMs, maxInFlight }: { maxRecords: number; maxBytes: number; lingerMs: number; maxInFlight: number },
  ): DeliveryLoop {
    const loop = new DeliveryLoop({
      consumer: this.outbox.consumer(name),
      deliver,
      maxRecordsPerDelivery: maxRecords,
      maxInFlight,
      maxBytesPerDelivery: maxBytes,
      lingerMs,
      logger: this.log.child({ component: `delivery-${name}` }),
      metrics: this.metrics,
    });
    loop.on('error', (err) => this.log.warn({ err: err.message }, `${name} delivery failing; readings stay in the outbox`));
    return loop;
  }

  private async deliverToStore(records: OutboxRecord[]): Promise<void> {
    this.storeReady ??= this.openStore();
    try {
      await this.storeReady;
    } catch (err) {
      this.storeReady = undefined;
      throw err;
    }
    // Deliveries reach this point in outbox order (they wait on the same promise), so report by exception sees readings in order.
    const key = `${records[0]!.seq}-${records.at(-1)!.seq}`;
    let selections = this.selections.get(key);
    if (!selections) {
      const before = { ...this.reporting.counts };
      selections = records.map((r) => this.reporting.select(r.payload));
      this.storeKept.inc({}, this.reporting.counts.kept - before.kept);
      this.storeSkipped.inc({}, this.reporting.counts.skipped - before.skipped);
      this.selections.set(key, selections);
    }
    const started = performance.now();
    try {
      await this.store.writeOutboxBatches(
        records.map((r) => r.payload),
        selections,
      );
      this.storeLatency.observe((performance.now() - started) / 1000);
    } catch (err) {
      if (err instanceof StoreWriteError && !err.retryable) {
        this.selections.delete(key);
        await this.setAside(records, err);
        return;
      }
      throw err;
    }
    this.selections.delete(key);
  }

  /** Creates or migrates the store, and starts report by exception from what it holds. */
  private async openStore(): Promise<void> {
    await this.store.init();
    this.reporting.seed(await this.store.latest());
  }

  /** A batch the store will never accept (e.g. a field type conflict) is kept on disk for an operator, not retried forever. */
  private async setAside(records: OutboxRecord[], err: Error): Promise<void> {
    const dir = join(this.options.dataDir, 'rejected');
    await mkdir(dir, { recursive: true });
    for (const r of records) await writeFile(join(dir, `${r.seq}.batch`), r.payload);
    this.storeRejected.inc({}, records.length);
    this.log.error({ err: err.message, dir, records: records.length }, 'reading store refused readings for good; kept them on disk');
  }

  private async startConnectors(): Promise<void> {
    const ctx = {
      site: this.site,
      ingest: this.ingest,
      metrics: this.metrics,
      logger: this.log,
      deviceBrokerUrl: this.options.deviceBrokerUrl,
      deviceBrokerUsername: this.options.deviceBrokerUsername,
      deviceBrokerPassword: this.options.deviceBrokerPassword,
      now: this.now,
    };
    for (const [name, entry] of Object.entries(CONNECTORS)) {
      if (!entry.wanted(this.site)) continue;
      const connector = entry.create(ctx);
      connector.on('error', (err) => this.log.warn({ connector: name, err: err.message }, 'connector problem'));
      connector.on('status', (s) => this.log.info({ connector: name, state: s.state, detail: s.detail }, 'connector status'));
      connector.on('connections', () => {
        if (this.linksKnown) this.upstream?.publishStatus();
      });
      this.connectors.push(connector);
      await connector.start();
    }
    this.linksKnown = true;
    this.upstream?.publishStatus();
  }

  private connectionStatuses(): ConnectionStatus[] {
    return this.connectors.flatMap((c) => c.connections?.() ?? []);
  }

  private async stopConnectors(): Promise<void> {
    this.linksKnown = false;
    const running = this.connectors;
    this.connectors = [];
    await Promise.all(running.map((c) => c.stop()));
  }
}
