import { join } from 'node:path';
import { InfluxReadingHistory } from './influx-history.ts';
import type { ReadingHistory } from './reading-history.ts';
import { SqliteReadingHistory } from './sqlite-history.ts';

export interface ReadingHistoryConfig {
  /** INFLUX_URL; unset: the gateway's SQLite store in `dataDir`. */
  influxUrl?: string | undefined;
  /** DATA_DIR. */
  dataDir: string;
  /** InfluxDB query timeout (default 30 s). */
  requestTimeoutMs?: number;
}

/** The read-only reading history: InfluxDB when INFLUX_URL is set, else `DATA_DIR/readings.db`. Opens nothing until the first query. */
export function openReadingHistory(config: ReadingHistoryConfig): ReadingHistory {
  if (config.influxUrl) {
    return new InfluxReadingHistory({ url: config.influxUrl, ...(config.requestTimeoutMs !== undefined ? { requestTimeoutMs: config.requestTimeoutMs } : {}) });
  }
  return new SqliteReadingHistory({ file: join(config.dataDir, 'readings.db') });
}
