import type { Alarm, AlarmHistoryQuery, PendingTimer, Shelf, TimerPhase } from '../alarms/alarm.ts';
import type { Flood } from '../alarms/flood-monitor.ts';
import { first, type RecordsClient, type SqlRunner, type SqlValue } from './records-client.ts';

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

interface FloodRow {
  id: number;
  started_at: number;
  ended_at: number | null;
  peak: number;
  alarms: number;
  grouped: number;
}

const parse = (r: { body: string }): Alarm => JSON.parse(r.body) as Alarm;

const toFlood = (r: FloodRow): Flood & { rowId: number } => ({
  rowId: r.id,
  id: `flood-${r.started_at}`,
  startedAt: r.started_at,
  ...(r.ended_at !== null ? { endedAt: r.ended_at } : {}),
  peak: r.peak,
  alarms: r.alarms,
  grouped: r.grouped,
});

/**
 * Alarms with their history, pending rule timers, shelves and alarm floods (tables of migrations 3, 4 and 5).
 * Written only on state changes; an alarm is one row holding its JSON body, with the columns
 * the queries filter on.
 */
export class AlarmRepository {
  constructor(private readonly client: RecordsClient) {}

  saveAlarm(alarm: Alarm): Promise<void> {
    return saveAlarm(this.client, alarm);
  }

  async getAlarm(id: string): Promise<Alarm | undefined> {
    const row = first(await this.client.query<{ body: string }>('SELECT body FROM alarms WHERE id = ?', [id]));
    return row && parse(row);
  }

  /** Every alarm not yet cleared and acknowledged, oldest first. */
  async openAlarms(): Promise<Alarm[]> {
    return (await this.client.query<{ body: string }>("SELECT body FROM alarms WHERE state <> 'cleared' ORDER BY raised_at")).map(parse);
  }

  async history(query: AlarmHistoryQuery = {}): Promise<Alarm[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (sql: string, value: SqlValue) => (where.push(sql), params.push(value));
    if (query.from !== undefined) add('raised_at >= ?', query.from);
    if (query.to !== undefined) add('raised_at < ?', query.to);
    if (query.device !== undefined) add('device = ?', query.device);
    if (query.building !== undefined) add('building = ?', query.building);
    if (query.category !== undefined) add('category = ?', query.category);
    if (query.state !== undefined) add('state = ?', query.state);
    const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? 100)), 1000);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return (await this.client.query<{ body: string }>(`SELECT body FROM alarms ${clause} ORDER BY raised_at DESC, id LIMIT ?`, [...params, limit])).map(parse);
  }

  /** Alarms of the points that tripped at or after `from` and before `to`, and those still open from before: what a report of the period looks at. */
  async overlapping(from: number, to: number): Promise<Alarm[]> {
    const rows = await this.client.query<{ body: string }>(
      "SELECT body FROM alarms WHERE raised_at < ? AND (raised_at >= ? OR state <> 'cleared' OR updated_at >= ?) ORDER BY raised_at, id",
      [to, from, from],
    );
    return rows.map(parse);
  }

  /** A new flood; resolves with its row id. */
  async startFlood(f: Flood): Promise<number> {
    const [row] = await this.client.query<{ id: number }>('INSERT INTO alarm_floods (started_at, ended_at, peak, alarms, grouped) VALUES (?, ?, ?, ?, ?) RETURNING id', [
      f.startedAt,
      f.endedAt ?? null,
      f.peak,
      f.alarms,
      f.grouped,
    ]);
    return row!.id;
  }

  async updateFlood(rowId: number, f: Flood): Promise<void> {
    await this.client.run('UPDATE alarm_floods SET ended_at = ?, peak = ?, alarms = ?, grouped = ? WHERE id = ?', [f.endedAt ?? null, f.peak, f.alarms, f.grouped, rowId]);
  }

  /** The flood a previous run left going on, if any. */
  async openFlood(): Promise<(Flood & { rowId: number }) | undefined> {
    const row = first(await this.client.query<FloodRow>('SELECT * FROM alarm_floods WHERE ended_at IS NULL ORDER BY started_at DESC LIMIT 1'));
    return row && toFlood(row);
  }

  /** Floods that went on at some time in [from, to), oldest first. */
  async floods(from: number, to: number): Promise<Flood[]> {
    const rows = await this.client.query<FloodRow>('SELECT * FROM alarm_floods WHERE started_at < ? AND (ended_at IS NULL OR ended_at >= ?) ORDER BY started_at', [to, from]);
    return rows.map(({ ...r }) => {
      const { rowId: _rowId, ...flood } = toFlood(r);
      return flood;
    });
  }

  async saveTimer(t: PendingTimer): Promise<void> {
    await this.client.run(
      `INSERT INTO alarm_timers (rule_id, device, instance, phase, since, due, value, rule_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (rule_id, device, instance) DO UPDATE SET phase = excluded.phase, since = excluded.since, due = excluded.due,
         value = excluded.value, rule_limit = excluded.rule_limit`,
      [t.ruleId, t.device, t.instance, t.phase, t.since, t.due, t.value ?? null, t.limit ?? null],
    );
  }

  async deleteTimer(ruleId: string, device: string, instance: string): Promise<void> {
    await this.client.run('DELETE FROM alarm_timers WHERE rule_id = ? AND device = ? AND instance = ?', [ruleId, device, instance]);
  }

  async timers(): Promise<PendingTimer[]> {
    const rows = await this.client.query<TimerRow>('SELECT rule_id, device, instance, phase, since, due, value, rule_limit FROM alarm_timers');
    return rows.map((r) => ({
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

  /** Shelves an alarm point and stores its alarm as it is now, in one transaction. */
  async shelve(key: string, shelf: Shelf, alarm: Alarm): Promise<void> {
    await this.client.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO alarm_shelves (key, shelved_by, reason, shelved_at, until) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET shelved_by = excluded.shelved_by, reason = excluded.reason, shelved_at = excluded.shelved_at, until = excluded.until`,
        [key, shelf.by, shelf.reason, shelf.at, shelf.until],
      );
      await saveAlarm(tx, alarm);
    });
  }

  /** Ends the shelf of a point and stores its open alarm, if it has one, in one transaction. */
  async unshelve(key: string, alarm: Alarm | undefined): Promise<void> {
    await this.client.transaction(async (tx) => {
      await tx.run('DELETE FROM alarm_shelves WHERE key = ?', [key]);
      if (alarm) await saveAlarm(tx, alarm);
    });
  }

  async shelves(): Promise<{ key: string; shelf: Shelf }[]> {
    const rows = await this.client.query<ShelfRow>('SELECT key, shelved_by, reason, shelved_at, until FROM alarm_shelves');
    return rows.map((r) => ({ key: r.key, shelf: { by: r.shelved_by, reason: r.reason, at: r.shelved_at, until: r.until } }));
  }
}

async function saveAlarm(sql: SqlRunner, alarm: Alarm): Promise<void> {
  await sql.run(
    `INSERT INTO alarms (id, key, state, device, building, category, raised_at, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, body = excluded.body`,
    [alarm.id, alarm.key, alarm.state, alarm.device, alarm.building, alarm.category, alarm.raisedAt, alarm.updatedAt, JSON.stringify(alarm)],
  );
}
