import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlarmService } from '../server/alarms/alarm-service.ts';
import { SessionStore } from '../server/auth/sessions.ts';
import { UserStore } from '../server/auth/users.ts';
import { UniqueViolationError, type RecordsClient, type SqlParams, type SqlRunner } from '../server/records/records-client.ts';
import { recordsOver } from '../server/records/records.ts';
import { openSqliteRecords, type SqliteClient } from '../server/records/sqlite/sqlite-client.ts';
import { RulesEngine } from '../server/rules/rules-engine.ts';
import { WORK_ORDER_CATEGORIES, WORK_ORDER_STATES } from '../server/work-orders/types.ts';
import { WorkOrderQueries } from '../server/work-orders/work-order-queries.ts';
import { WorkOrderService } from '../server/work-orders/work-order-service.ts';
import { event, manualClock, reading, testSite } from './fixtures/rules/harness.ts';

describe('SQLite client', () => {
  let client: SqliteClient;
  beforeEach(async () => {
    client = openSqliteRecords(':memory:');
    await client.run('CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER NOT NULL)');
  });
  afterEach(() => client.close());

  it('runs a transaction alone: statements asked for meanwhile wait for its end, in order', async () => {
    const seen: string[] = [];
    const tx = client.transaction(async (t) => {
      await t.run('INSERT INTO t (k, n) VALUES (?, ?)', ['a', 1]);
      seen.push('tx wrote a');
      await t.run('UPDATE t SET n = ? WHERE k = ?', [2, 'a']);
      seen.push('tx updated a');
    });
    // Asked for while the transaction is open: must not see its first write without its second.
    const read = client.query<{ n: number }>('SELECT n FROM t WHERE k = ?', ['a']).then((rows) => seen.push(`read ${rows.map((r) => r.n).join()}`));
    await Promise.all([tx, read]);
    expect(seen).toEqual(['tx wrote a', 'tx updated a', 'read 2']);
  });

  it('rolls a transaction back whole when its work throws, and maps a unique violation', async () => {
    await client.run('INSERT INTO t (k, n) VALUES (?, ?)', ['a', 1]);
    const failed = client.transaction(async (t) => {
      await t.run('UPDATE t SET n = ? WHERE k = ?', [5, 'a']);
      await t.run('INSERT INTO t (k, n) VALUES (?, ?)', ['a', 9]);
    });
    await expect(failed).rejects.toBeInstanceOf(UniqueViolationError);
    expect(await client.query('SELECT k, n FROM t')).toEqual([{ k: 'a', n: 1 }]);
    // The connection is free again.
    expect(await client.run('UPDATE t SET n = n + 1')).toBe(1);
  });

  it('binds booleans as 1 and 0, and refuses statements of a transaction that has ended', async () => {
    await client.run('INSERT INTO t (k, n) VALUES (?, ?), (?, ?)', ['yes', true, 'no', false]);
    expect(await client.query('SELECT k, n FROM t ORDER BY k')).toEqual([
      { k: 'no', n: 0 },
      { k: 'yes', n: 1 },
    ]);
    let leaked: SqlRunner | undefined;
    await client.transaction(async (t) => {
      leaked = t;
    });
    await expect(leaked!.query('SELECT 1')).rejects.toThrow(/transaction already ended/);
  });
});

/** A client that remembers every statement it runs, inside transactions too. */
function recording(inner: RecordsClient, statements: Set<string>): RecordsClient {
  const runner = (r: SqlRunner): SqlRunner => ({
    query: (sql: string, params?: SqlParams, options?) => (statements.add(sql), r.query(sql, params, options)),
    run: (sql: string, params?: SqlParams) => (statements.add(sql), r.run(sql, params)),
  });
  return {
    ...runner(inner),
    dialect: inner.dialect,
    transaction: (work) => inner.transaction((tx) => work(runner(tx))),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

/** The rules of docs/design.md#records that a statement can be checked against. */
const NOT_PORTABLE: Array<[RegExp, string]> = [
  [/[@:$]\w/, 'named or numbered parameters: use ?'],
  [/\bINSERT\s+OR\b|\bREPLACE\s+INTO\b/i, 'INSERT OR …: use INSERT … ON CONFLICT'],
  [/\bCOLLATE\b/i, 'collations differ: compare lower() of both sides'],
  [/\b(MAX|MIN)\s*\([^()]*,/i, 'two-argument MAX/MIN is SQLite only: use CASE'],
  [/\b(IFNULL|GLOB|datetime|strftime|julianday|last_insert_rowid|randomblob)\b/i, 'SQLite function'],
  [/\browid\b|\bsqlite_|\bPRAGMA\b/i, 'SQLite internals'],
  [/\bLIKE\b/i, 'LIKE folds case in SQLite only: compare lower() with ='],
  [/"|`/, 'double quotes and backticks: identifiers are plain, strings single-quoted'],
  [/\b(BEGIN|COMMIT|ROLLBACK|SAVEPOINT)\b/i, 'transactions belong to the client'],
  [/\bIS\s+(\?|'|\d)/i, 'IS with a value: use = (IS NULL is fine)'],
];

describe('repositories', () => {
  it('run only portable SQL (docs/design.md#records)', async () => {
    const statements = new Set<string>();
    const client = recording(openSqliteRecords(':memory:'), statements);
    const records = recordsOver(client);
    const clock = manualClock(Date.parse('2025-01-06T02:00:00Z'));
    try {
      // Users and sessions.
      const users = new UserStore(records.users, clock.now);
      const sessions = new SessionStore(records.sessions, clock.now);
      const admin = await users.create({ username: 'Admin', displayName: 'Admin', role: 'administrator', password: 'long enough password' });
      const engineer = await users.create({ username: 'wang', displayName: 'Wang', role: 'engineer', password: 'long enough password' });
      await expect(users.create({ username: 'admin', displayName: 'Again', role: 'viewer', password: 'long enough password' })).rejects.toThrow(/taken/);
      expect((await users.credentials('ADMIN'))?.user.id).toBe(admin.id);
      await users.update(engineer.id, { role: 'viewer', displayName: 'Wang Fang' });
      await users.update(engineer.id, { role: 'engineer' });
      expect([await users.administrators(), await users.activeAdministrators(), (await users.list()).length]).toEqual([1, 1, 2]);
      const { token } = await sessions.open(admin.id, '127.0.0.1');
      const session = await sessions.find(token);
      expect(session?.userId).toBe(admin.id);
      await sessions.close(session!.tokenHash);
      await users.disable(engineer.id);

      // Work orders: every action, the alarm path, every filter.
      await client.run('INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)', [1, 'Plumbing', 0]);
      const service = new WorkOrderService({ records: records.workOrders, clock: clock.now });
      const queries = new WorkOrderQueries(records.workOrders, clock.now);
      const { workOrder } = await service.create({ source: 'manual', category: 'water-leak', priority: 'high', title: 'Leak', building: 'B1', unit: 'B1-0101', createdBy: admin.id });
      await service.act(workOrder.id, 'assign', admin.id, { userId: engineer.id, teamId: 1 });
      await service.act(workOrder.id, 'acknowledge', admin.id, {});
      await service.act(workOrder.id, 'start', admin.id, {});
      await service.act(workOrder.id, 'resolve', admin.id, { item: 'seal', cost: 12.5 });
      await service.act(workOrder.id, 'leak-test', admin.id, { leakTestAt: clock.now() });
      await service.act(workOrder.id, 'callback', admin.id, { outcome: 'satisfied' });
      await service.act(workOrder.id, 'close', admin.id, {});
      await service.act(workOrder.id, 'reopen', admin.id, {});
      const alarm = { deviceId: 'fire-1', building: 'B1', ruleId: 'fire-zone-alarm', category: 'fire-safety', priority: 'critical', title: 'Fire', detail: 'zone 1', at: clock.now() } as const;
      await service.raiseFromAlarm(alarm);
      await service.raiseFromAlarm({ ...alarm, at: clock.advance(1000) });
      await queries.get(workOrder.id);
      await queries.list({
        state: [...WORK_ORDER_STATES],
        category: [...WORK_ORDER_CATEGORIES],
        source: 'manual',
        building: 'B1',
        unit: 'B1-0101',
        deviceId: 'x',
        assigneeUserId: engineer.id,
        assigneeTeamId: 1,
        overdue: true,
        page: 2,
        limit: 10,
      });
      await queries.list({ overdue: false, state: [] });
      await queries.overdue();
      await queries.counts();

      // Alarms, shelves and rule timers.
      const engine = new RulesEngine({ site: testSite({ devices: { 'tank-1': { 'tank-level-high': { forMs: 30_000 } } } }), store: records.alarms, clock: clock.now });
      await engine.restore(clock.now());
      engine.onReading(reading('tank-1', 'level_mm', 3900, clock.now()));
      engine.onReading(reading('tank-1', 'level_mm', 3000, clock.advance(1000)));
      engine.onEvent(event('door-1', 'forced', clock.now()));
      await engine.settled();
      const alarms: AlarmService = engine.alarms;
      const open = alarms.listActive()[0]!;
      await alarms.shelve(open.id, 'li', 'repair', clock.now() + 60_000);
      await alarms.unshelve(open.id);
      await alarms.acknowledge(open.id, 'li');
      engine.onEvent(event('door-1', 'closed', clock.advance(1000)));
      await engine.settled();
      await alarms.get(open.id);
      await alarms.history({ from: 0, to: clock.now() + 1, device: 'door-1', building: 'B1', category: 'access-security', state: 'cleared', limit: 5 });
      await records.alarms.timers();
      await records.alarms.shelves();
      await client.ping();
    } finally {
      await client.close();
    }

    expect(statements.size).toBeGreaterThan(30);
    const problems = [...statements].flatMap((sql) => NOT_PORTABLE.filter(([pattern]) => pattern.test(sql)).map(([, why]) => `${why}: ${sql.replace(/\s+/g, ' ')}`));
    expect(problems).toEqual([]);
  });
});
