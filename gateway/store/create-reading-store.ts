import { join } from 'node:path';
import type { Logger } from '../../common/logger.ts';
import type { StoreConfig } from '../../common/site/types.ts';
import { InfluxReadingStore } from './influx-store.ts';
import type { ReadingStore } from './reading-store.ts';
import { normaliseRetention, retentionMs } from '../../common/readings/retention.ts';
import { SqliteReadingStore } from './sqlite-store.ts';

export interface ReadingStoreConfig {
  /** INFLUX_URL; unset: the embedded SQLite store in `dataDir`. */
  influxUrl?: string | undefined;
  dataDir: string;
  /** Raw readings: `365d`, `30d`, `12h`, `INF`. */
  retention: string;
  /** Rollups; default kept forever. */
  rollups?: StoreConfig['rollups'];
  /** Readings per InfluxDB write request (site file gateway.store.batchSize). */
  batchSize?: number;
  logger?: Logger;
}

/** The reading store of docs/site-file.md: InfluxDB when INFLUX_URL is set, else `DATA_DIR/readings.db`. Call init() next. */
export function createReadingStore(config: ReadingStoreConfig): ReadingStore {
  const retention = normaliseRetention(config.retention);
  const logger = config.logger?.child({ component: 'reading-store' });
  const rollups = config.rollups ?? { '1m': 'INF', '1h': 'INF' };
  if (config.influxUrl) {
    return new InfluxReadingStore({
      url: config.influxUrl,
      retention,
      rollupRetention: rollups,
      pendingRollupsFile: join(config.dataDir, 'rollups-pending.json'),
      ...(config.batchSize ? { batchSize: config.batchSize } : {}),
      ...(logger ? { logger } : {}),
    });
  }
  const ms = retentionMs(retention);
  return new SqliteReadingStore({
    file: join(config.dataDir, 'readings.db'),
    ...(ms !== undefined ? { retentionMs: ms } : {}),
    rollupRetentionMs: { '1m': retentionMs(normaliseRetention(rollups['1m'])), '1h': retentionMs(normaliseRetention(rollups['1h'])) },
    ...(logger ? { logger } : {}),
  });
}
