import { join } from 'node:path';
import type { Logger } from '../../common/logger.ts';
import { InfluxReadingStore } from './influx-store.ts';
import type { ReadingStore } from './reading-store.ts';
import { normaliseRetention, retentionMs } from './retention.ts';
import { SqliteReadingStore } from './sqlite-store.ts';

export interface ReadingStoreConfig {
  /** INFLUX_URL; unset: the embedded SQLite store in `dataDir`. */
  influxUrl?: string | undefined;
  dataDir: string;
  /** `365d`, `30d`, `12h`, `INF`. */
  retention: string;
  /** Readings per InfluxDB write request (site file gateway.store.batchSize). */
  batchSize?: number;
  logger?: Logger;
}

/** The reading store of docs/site-file.md: InfluxDB when INFLUX_URL is set, else `DATA_DIR/readings.db`. Call init() next. */
export function createReadingStore(config: ReadingStoreConfig): ReadingStore {
  const retention = normaliseRetention(config.retention);
  const logger = config.logger?.child({ component: 'reading-store' });
  if (config.influxUrl) {
    return new InfluxReadingStore({ url: config.influxUrl, retention, ...(config.batchSize ? { batchSize: config.batchSize } : {}), ...(logger ? { logger } : {}) });
  }
  const ms = retentionMs(retention);
  return new SqliteReadingStore({
    file: join(config.dataDir, 'readings.db'),
    ...(ms !== undefined ? { retentionMs: ms } : {}),
    ...(logger ? { logger } : {}),
  });
}
