import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AlarmRepository } from '../server/records/alarm-repository.ts';
import { MIGRATIONS } from '../server/records/migrations.ts';
import { schemaVersion } from '../server/records/sqlite/migrate.ts';
import { openDatabase } from '../server/records/sqlite/open-database.ts';
import { SqliteClient } from '../server/records/sqlite/sqlite-client.ts';
import { RulesEngine } from '../server/rules/rules-engine.ts';
import { manualClock, reading, record, tempDir, testSite } from './fixtures/rules/harness.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** The alarm tables as the alarm store created them itself, before they became migrations 3 and 4. */
const STORE_TABLES_BEFORE_MIGRATIONS = `
  CREATE TABLE IF NOT EXISTS alarms (
    id TEXT PRIMARY KEY, key TEXT NOT NULL, state TEXT NOT NULL, device TEXT NOT NULL, building TEXT NOT NULL,
    category TEXT NOT NULL, raised_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, body TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS alarms_open ON alarms (key) WHERE state != 'cleared';
  CREATE INDEX IF NOT EXISTS alarms_raised ON alarms (raised_at);
  CREATE INDEX IF NOT EXISTS alarms_device_raised ON alarms (device, raised_at);
  CREATE TABLE IF NOT EXISTS alarm_timers (
    rule_id TEXT NOT NULL, device TEXT NOT NULL, instance TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('on-delay', 'off-delay')), since INTEGER NOT NULL, due INTEGER NOT NULL,
    PRIMARY KEY (rule_id, device, instance)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS alarm_shelves (
    key TEXT PRIMARY KEY, shelved_by TEXT NOT NULL, reason TEXT NOT NULL, shelved_at INTEGER NOT NULL, until INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

const columns = (db: ReturnType<typeof openDatabase>, table: string) => (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);

describe('alarm tables (migrations 3 and 4)', () => {
  it('a new records file gets the alarm tables with the value and limit of pending timers', () => {
    const db = openDatabase(':memory:');
    try {
      expect(columns(db, 'alarm_timers')).toEqual(['rule_id', 'device', 'instance', 'phase', 'since', 'due', 'value', 'rule_limit']);
      expect(columns(db, 'alarms')).toContain('body');
      expect(columns(db, 'alarm_shelves')).toContain('until');
    } finally {
      db.close();
    }
  });

  it('keeps the alarms and pending timers of a file from before, whose timers then raise without a value until a reading comes', async () => {
    const file = join(tmp.dir, 'before.db');
    const clock = manualClock();
    const base = clock.now();
    const old = openDatabase(file, { migrations: MIGRATIONS.slice(0, 2) });
    old.exec(STORE_TABLES_BEFORE_MIGRATIONS);
    old.prepare('INSERT INTO alarm_timers (rule_id, device, instance, phase, since, due) VALUES (?, ?, ?, ?, ?, ?)').run('tank-level-high', 'tank-1', '', 'on-delay', base, base + 30_000);
    old.prepare("INSERT INTO alarm_shelves (key, shelved_by, reason, shelved_at, until) VALUES ('door-1/door-forced', 'li', 'repair', ?, ?)").run(base, base + 60_000);
    old.close();

    const db = openDatabase(file);
    const client = new SqliteClient(db);
    try {
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      const store = new AlarmRepository(client);
      expect(await store.timers()).toEqual([{ ruleId: 'tank-level-high', device: 'tank-1', instance: '', phase: 'on-delay', since: base, due: base + 30_000 }]);
      expect((await store.shelves()).map((s) => s.key)).toEqual(['door-1/door-forced']);

      clock.set(base + 10_000);
      const engine = new RulesEngine({ site: testSite({ devices: { 'tank-1': { 'device-offline': { enabled: false } } } }), store, clock: clock.now });
      const events = record(engine);
      await engine.restore(clock.now());
      engine.tick(base + 30_000);
      await engine.settled();
      expect(events.map((e) => [e.type, e.alarm.raisedAt, e.alarm.value])).toEqual([['raised', base + 30_000, undefined]]);

      // A new timer on the migrated file keeps its reading.
      engine.onReading(reading('tank-1', 'level_mm', 700, base + 31_000));
      await engine.settled();
      const timers = (await store.timers()).map(({ ruleId, phase, value, limit }) => ({ ruleId, phase, value, limit }));
      expect(timers.sort((a, b) => a.ruleId.localeCompare(b.ruleId))).toEqual([
        { ruleId: 'tank-level-high', phase: 'off-delay', value: 700, limit: 3800 },
        { ruleId: 'tank-level-low', phase: 'on-delay', value: 700, limit: 800 },
      ]);
    } finally {
      await client.close();
    }
  });
});
