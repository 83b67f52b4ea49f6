import type { DeviceEvent, Reading } from '../reading.ts';
import { InfluxQueryClient, isMissingDatabase } from './influx-client.ts';
import { countQuery, decodeCount, decodeEvents, decodeLatest, decodeRange, eventsQuery, latestQuery, rangeQuery, type InfluxQuery, type QueryResponse } from './influxql.ts';
import type { EventQuery, LatestFilter, RangeQuery, ReadingHistory, SeriesPoint } from './reading-history.ts';

export interface InfluxReadingHistoryOptions {
  /** INFLUX_URL: `http://user:pass@127.0.0.1:8086/facility`. */
  url: string;
  requestTimeoutMs?: number;
}

/**
 * The reading history in InfluxDB 1.x, read-only: it sends SELECT queries and nothing else, so it
 * never creates the database nor touches its retention policy (the gateway does both). Until the
 * gateway has created them, every query answers as empty.
 */
export class InfluxReadingHistory implements ReadingHistory {
  readonly backend = 'influxdb' as const;
  private readonly client: InfluxQueryClient;

  constructor(opts: InfluxReadingHistoryOptions) {
    this.client = new InfluxQueryClient(opts.url, opts.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: opts.requestTimeoutMs });
  }

  get database(): string {
    return this.client.target.database;
  }

  async latest(filter: LatestFilter = {}): Promise<Reading[]> {
    return decodeLatest(await this.select(latestQuery(filter)));
  }

  async range(q: RangeQuery): Promise<SeriesPoint[]> {
    return decodeRange(await this.select(rangeQuery(q)));
  }

  async count(filter: LatestFilter = {}): Promise<number> {
    return decodeCount(await this.select(countQuery(filter)));
  }

  async events(q: EventQuery): Promise<DeviceEvent[]> {
    return decodeEvents(await this.select(eventsQuery(q)));
  }

  async close(): Promise<void> {
    this.client.close();
  }

  private async select(q: InfluxQuery): Promise<QueryResponse> {
    try {
      return await this.client.query(q);
    } catch (err) {
      if (isMissingDatabase(err)) return {};
      throw err;
    }
  }
}
