import type BetterSqlite3 from 'better-sqlite3';
import type { Alarm, AlarmCategory, AlarmState, Shelf } from './alarm.ts';

export type TimerPhase = 'on-delay' | 'off-delay';

/** A running `for` (on-delay) or off-delay of one rule on one device, kept so a restart resumes it. */
export interface PendingTimer {
  ruleId: string;
  device: string;
  /** Rule instance (fire zone); '' when the rule has one state per device. */
  instance: string;
  phase: TimerPhase;
  since: number;
  due: number;
  /** The reading that started the timer, so an alarm raised after a restart still carries it. */
  value?: number;
  /** The rule's limit when the timer started. */
  limit?: number;
}

export interface AlarmHistoryQuery {
  /** raisedAt >= from */
  from?: number;
  /** raisedAt < to */
  to?: number;
  device?: string;
  building?: string;
  category?: AlarmCategory;
  state?: AlarmState;
  /** Newest first; default 100, at most 1000. */
  limit?: number;
}

/** Where alarms, pending timers and shelves survive a restart. Written only on state changes. */
export interface AlarmStateStore {
  saveAlarm(alarm: Alarm): void;
  getAlarm(id: string): Alarm | undefined;
  /** Every alarm not yet cleared and acknowledged. */
  openAlarms(): Alarm[];
  history(query?: AlarmHistoryQuery): Alarm[];
  saveTimer(timer: PendingTimer): void;
  deleteTimer(ruleId: string, device: string, instance: string): void;
  timers(): PendingTimer[];
  saveShelf(key: string, shelf: Shelf): void;
  deleteShelf(key: string): void;
  shelves(): { key: string; shelf: Shelf }[];
}

type Db = BetterSqlite3.Database;

interface TimerRow {
  rule_id: string;
  device: string;
  instance: string;
  phase: TimerPhase;
  since: number;
  due: number;
  value: number | null;
  rule_limit: number | null;
}

interface ShelfRow {
  key: string;
  shelved_by: string;
  reason: string;
  shelved_at: number;
  until: number;
}

/** AlarmStateStore on the records database; its tables come from migrations 3 and 4 (server/db/migrations.ts). */
export class SqliteAlarmStateStore implements AlarmStateStore {
  private readonly upsertAlarm: BetterSqlite3.Statement;
  private readonly selectAlarm: BetterSqlite3.Statement<[string], { body: string }>;
  private readonly selectOpen: BetterSqlite3.Statement<[], { body: string }>;
  private readonly upsertTimer: BetterSqlite3.Statement;
  private readonly removeTimer: BetterSqlite3.Statement;
  private readonly selectTimers: BetterSqlite3.Statement<[], TimerRow>;
  private readonly upsertShelf: BetterSqlite3.Statement;
  private readonly removeShelf: BetterSqlite3.Statement;
  private readonly selectShelves: BetterSqlite3.Statement<[], ShelfRow>;

  constructor(private readonly db: Db) {
    this.upsertAlarm = db.prepare(`
      INSERT INTO alarms (id, key, state, device, building, category, raised_at, updated_at, body)
      VALUES (@id, @key, @state, @device, @building, @category, @raisedAt, @updatedAt, @body)
      ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, body = excluded.body`);
    this.selectAlarm = db.prepare('SELECT body FROM alarms WHERE id = ?');
    this.selectOpen = db.prepare("SELECT body FROM alarms WHERE state != 'cleared' ORDER BY raised_at");
    this.upsertTimer = db.prepare(`
      INSERT INTO alarm_timers (rule_id, device, instance, phase, since, due, value, rule_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (rule_id, device, instance) DO UPDATE SET phase = excluded.phase, since = excluded.since, due = excluded.due,
        value = excluded.value, rule_limit = excluded.rule_limit`);
    this.removeTimer = db.prepare('DELETE FROM alarm_timers WHERE rule_id = ? AND device = ? AND instance = ?');
    this.selectTimers = db.prepare('SELECT rule_id, device, instance, phase, since, due, value, rule_limit FROM alarm_timers');
    this.upsertShelf = db.prepare(`
      INSERT INTO alarm_shelves (key, shelved_by, reason, shelved_at, until) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET shelved_by = excluded.shelved_by, reason = excluded.reason,
        shelved_at = excluded.shelved_at, until = excluded.until`);
    this.removeShelf = db.prepare('DELETE FROM alarm_shelves WHERE key = ?');
    this.selectShelves = db.prepare('SELECT key, shelved_by, reason, shelved_at, until FROM alarm_shelves');
  }

  saveAlarm(alarm: Alarm): void {
    this.upsertAlarm.run({
      id: alarm.id,
      key: alarm.key,
      state: alarm.state,
      device: alarm.device,
      building: alarm.building,
      category: alarm.category,
      raisedAt: alarm.raisedAt,
      updatedAt: alarm.updatedAt,
      body: JSON.stringify(alarm),
    });
  }

  getAlarm(id: string): Alarm | undefined {
    const row = this.selectAlarm.get(id);
    return row ? (JSON.parse(row.body) as Alarm) : undefined;
  }

  openAlarms(): Alarm[] {
    return this.selectOpen.all().map((r) => JSON.parse(r.body) as Alarm);
  }

  history(query: AlarmHistoryQuery = {}): Alarm[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.from !== undefined) (where.push('raised_at >= ?'), args.push(query.from));
    if (query.to !== undefined) (where.push('raised_at < ?'), args.push(query.to));
    if (query.device !== undefined) (where.push('device = ?'), args.push(query.device));
    if (query.building !== undefined) (where.push('building = ?'), args.push(query.building));
    if (query.category !== undefined) (where.push('category = ?'), args.push(query.category));
    if (query.state !== undefined) (where.push('state = ?'), args.push(query.state));
    const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? 100)), 1000);
    const sql = `SELECT body FROM alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY raised_at DESC, id LIMIT ${limit}`;
    return (this.db.prepare(sql).all(...args) as { body: string }[]).map((r) => JSON.parse(r.body) as Alarm);
  }

  saveTimer(t: PendingTimer): void {
    this.upsertTimer.run(t.ruleId, t.device, t.instance, t.phase, t.since, t.due, t.value ?? null, t.limit ?? null);
  }

  deleteTimer(ruleId: string, device: string, instance: string): void {
    this.removeTimer.run(ruleId, device, instance);
  }

  timers(): PendingTimer[] {
    return this.selectTimers.all().map((r) => ({
      ruleId: r.rule_id,
      device: r.device,
      instance: r.instance,
      phase: r.phase,
      since: r.since,
      due: r.due,
      ...(r.value !== null ? { value: r.value } : {}),
      ...(r.rule_limit !== null ? { limit: r.rule_limit } : {}),
    }));
  }

  saveShelf(key: string, shelf: Shelf): void {
    this.upsertShelf.run(key, shelf.by, shelf.reason, shelf.at, shelf.until);
  }

  deleteShelf(key: string): void {
    this.removeShelf.run(key);
  }

  shelves(): { key: string; shelf: Shelf }[] {
    return this.selectShelves.all().map((r) => ({ key: r.key, shelf: { by: r.shelved_by, reason: r.reason, at: r.shelved_at, until: r.until } }));
  }
}
