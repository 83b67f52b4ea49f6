// The gateway's Modbus side alone in a process: ModbusConnector polling every device, readings
// made durable in the disk outbox and delivered to the SQLite reading store, as in the gateway.
import { join } from 'node:path';
import { readEnvironment } from '../../common/env.ts';
import { createLogger } from '../../common/logger.ts';
import type { DeviceEvent, Reading } from '../../common/reading.ts';
import { parseSiteConfig } from '../../common/site/load.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { ModbusConnector } from '../../gateway/modbus/modbus-connector.ts';
import { decodeBatch, encodeBatch } from '../../gateway/outbox/batch-codec.ts';
import { DeliveryLoop } from '../../gateway/outbox/delivery-loop.ts';
import { DiskOutbox } from '../../gateway/outbox/disk-outbox.ts';
import { SqliteReadingStore } from '../../gateway/store/sqlite-store.ts';
import { serveParent } from '../child-process.ts';

export interface CycleSample {
  connection: string;
  phase: string;
  ms: number;
  requests: number;
  overruns: number;
  /** Epoch ms the cycle started. */
  startedAt: number;
}

const [dataDir] = process.argv.slice(2);
const logger = createLogger('gateway', { level: readEnvironment().logLevel });
const metrics = new MetricsRegistry();
let connector: ModbusConnector | undefined;
let outbox: DiskOutbox | undefined;
let store: SqliteReadingStore | undefined;
let loop: DeliveryLoop | undefined;
let sampler: NodeJS.Timeout | undefined;
let phase = 'warm-up';
let samples: CycleSample[] = [];
let readings = 0;
let problems = 0;
const seen = new Map<string, number>();

serveParent({
  async start(msg) {
    const site = parseSiteConfig(msg.site, '<bench modbus estate>');
    outbox = await DiskOutbox.open({ dir: join(dataDir!, 'outbox'), maxBytes: 1024 ** 3, whenFull: 'drop-oldest', consumers: ['store'], metrics });
    store = new SqliteReadingStore({ file: join(dataDir!, 'readings.db') });
    await store.init();
    loop = new DeliveryLoop({
      consumer: outbox.consumer('store'),
      metrics,
      deliver: async (records) => {
        const rs: Reading[] = [];
        const es: DeviceEvent[] = [];
        for (const r of records) {
          const b = decodeBatch(r.payload);
          rs.push(...b.readings);
          es.push(...b.events);
        }
        await store!.write(rs, es);
      },
    });
    loop.start();
    connector = new ModbusConnector({
      site,
      metrics,
      logger,
      pollIntervalMs: 1000,
      ingest: {
        submit: async (rs, es) => {
          await outbox!.append(encodeBatch({ readings: rs, events: es }));
          readings += rs.length;
        },
      },
    });
    connector.on('error', () => problems++);
    await connector.start();
    sampler = setInterval(() => {
      for (const s of connector!.pollCycleStats()) {
        if (seen.get(s.connection) === s.cycles) continue;
        seen.set(s.connection, s.cycles);
        samples.push({ connection: s.connection, phase, ms: s.lastCycleMs, requests: s.lastRequests, overruns: s.overruns, startedAt: s.lastCycleEndedAt - s.lastCycleMs });
      }
    }, 50);
    return {};
  },
  phase(msg) {
    phase = String(msg.phase);
    return {};
  },
  /** Cycle samples since the last call. */
  take() {
    const out = samples;
    samples = [];
    return { samples: out, readings, problems };
  },
  async stop() {
    clearInterval(sampler);
    await connector?.stop();
    await loop?.stop();
    await outbox?.close();
    await store?.close();
    return {};
  },
});
process.send?.({ type: 'ready' });
