import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { DeviceEvent, Reading } from '../reading.ts';
import { checkRangeQuery, type EventQuery, type LatestFilter, type RangeQuery, type ReadingHistory, type SeriesPoint } from './reading-history.ts';
import { hasReadingTables, sqliteCount, sqliteEvents, sqliteLatest, sqliteRange } from './sqlite-queries.ts';

export interface SqliteReadingHistoryOptions {
  /** `DATA_DIR/readings.db`, as the gateway writes it. */
  file: string;
}

/**
 * The reading history in the gateway's SQLite file, opened read-only: it can neither write nor
 * delete. Until the gateway has created the file and its tables, every query answers as empty.
 */
export class SqliteReadingHistory implements ReadingHistory {
  readonly backend = 'sqlite' as const;
  private readonly file: string;
  private db: Database.Database | undefined;
  private closed = false;

  constructor(opts: SqliteReadingHistoryOptions) {
    this.file = opts.file;
  }

  async latest(filter: LatestFilter = {}): Promise<Reading[]> {
    const db = this.open();
    return db ? sqliteLatest(db, filter) : [];
  }

  async range(q: RangeQuery): Promise<SeriesPoint[]> {
    checkRangeQuery(q);
    const db = this.open();
    return db ? sqliteRange(db, q) : [];
  }

  async count(filter: LatestFilter = {}): Promise<number> {
    const db = this.open();
    return db ? sqliteCount(db, filter) : 0;
  }

  async events(q: EventQuery): Promise<DeviceEvent[]> {
    const db = this.open();
    return db ? sqliteEvents(db, q) : [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db?.close();
  }

  /** The read-only connection, or undefined while the gateway has not created the file and its tables. */
  private open(): Database.Database | undefined {
    if (this.closed) throw new Error('reading history is closed');
    if (this.db) return this.db;
    if (!existsSync(this.file)) return undefined;
    const db = new Database(this.file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    if (!hasReadingTables(db)) {
      db.close();
      return undefined;
    }
    this.db = db;
    return db;
  }
}
