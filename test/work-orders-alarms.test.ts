import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UniqueViolationError } from '../server/records/records-client.ts';
import { WorkOrderRepository } from '../server/records/work-order-repository.ts';
import { WorkOrderTransitionError } from '../server/work-orders/errors.ts';
import type { AlarmInput } from '../server/work-orders/types.ts';
import { WorkOrderQueries } from '../server/work-orders/work-order-queries.ts';
import { WorkOrderService } from '../server/work-orders/work-order-service.ts';
import { seedPeople, workOrderFixture, type WorkOrderFixture } from './fixtures/work-orders/service.ts';
import { waitFor } from './harness/ports.ts';
import { describeRecords, type RecordsBackend } from './harness/records.ts';

const T0 = Date.parse('2024-11-23T02:00:00Z');

const setup = async (backend: RecordsBackend) =>
  workOrderFixture({
    client: await backend.open(),
    clock: () => T0,
    users: [
      { id: 1, username: 'wang', role: 'engineer' },
      { id: 2, username: 'zhao', role: 'engineering-supervisor' },
    ],
  });

const fireAlarm = (at: number, over: Partial<AlarmInput> = {}): AlarmInput => ({
  deviceId: 'B1-FP-01',
  building: 'B1',
  ruleId: 'fire-panel.alarm',
  category: 'fire-safety',
  priority: 'critical',
  title: 'Fire alarm B1',
  detail: 'zone B1-3F-east in alarm',
  at,
  ...over,
});

/** Repaired by user 1, checked and verified by user 2 (an alarm's work order has no owner to call back). */
async function closeVerified(service: WorkOrderService, id: number) {
  const steps = [['acknowledge', 1, {}], ['start', 1, {}], ['resolve', 1, {}], ['quality-check', 2, { result: 'pass' }], ['verify', 2, { result: 'ok' }], ['close', 1, {}]] as const;
  for (const [action, by, payload] of steps) await service.act(id, action, by, payload as never);
}

describeRecords('raiseFromAlarm', (backend) => {
  let ctx: WorkOrderFixture;
  beforeAll(async () => {
    ctx = await setup(backend);
  });
  afterAll(() => ctx.client.close());

  it('1,000 repeats of one (device, rule) make one work order with 1,000 occurrences, each on the timeline', async () => {
    const { service, queries, client } = ctx;
    // All at once: the records keep them to one work order however they interleave.
    const results = await Promise.all(Array.from({ length: 1_000 }, (_, i) => service.raiseFromAlarm(fireAlarm(T0 + i * 1_000))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const id = results[0]!.workOrder.id;
    expect(new Set(results.map((r) => r.workOrder.id))).toEqual(new Set([id]));
    const wo = await queries.get(id);
    expect(wo).toMatchObject({ source: 'alarm', state: 'open', occurrences: 1_000, lastOccurrenceAt: T0 + 999_000, createdBy: null, deviceId: 'B1-FP-01' });
    expect(wo.timeline).toHaveLength(1_000);
    expect(wo.timeline[0]).toMatchObject({ action: 'raise', by: null, at: wo.createdAt, toState: 'open' });
    // One after another, in whatever order they reached the database (SQLite: the order asked):
    // each occurrence is numbered by its place in the timeline, and every alarm is there once.
    expect(wo.timeline.slice(1).every((e, i) => e.action === 'occurrence' && e.details.occurrence === i + 2)).toBe(true);
    expect(new Set(wo.timeline.map((e) => e.at))).toEqual(new Set(Array.from({ length: 1_000 }, (_, i) => T0 + i * 1_000)));
    if (client.dialect === 'sqlite') expect(wo.timeline.map((e) => e.at)).toEqual(Array.from({ length: 1_000 }, (_, i) => T0 + i * 1_000));
    expect((await client.query<{ n: number }>('SELECT COUNT(*) AS n FROM work_orders'))[0]!.n).toBe(1);
    expect(ctx.changes).toHaveLength(1_000);
  });

  it('a repeat on a work order in progress (not closed) still adds an occurrence', async () => {
    const { service, queries } = ctx;
    const id = (await queries.list({ deviceId: 'B1-FP-01' })).items[0]!.id;
    await service.act(id, 'acknowledge', 1, {});
    await service.act(id, 'start', 1, {});
    const again = await service.raiseFromAlarm(fireAlarm(T0 + 2_000_000));
    expect(again).toMatchObject({ created: false, workOrder: { id, state: 'in_progress', occurrences: 1_001 } });
  });

  it('another rule or another device opens its own work order', async () => {
    const { service } = ctx;
    const fault = await service.raiseFromAlarm(fireAlarm(T0, { ruleId: 'fire-panel.fault', priority: 'medium' }));
    const other = await service.raiseFromAlarm(fireAlarm(T0, { deviceId: 'B2-FP-01', building: 'B2' }));
    expect(fault.created && other.created).toBe(true);
    expect(new Set([fault.workOrder.id, other.workOrder.id]).size).toBe(2);
  });

  it('after close, the next alarm opens a new work order; the closed one cannot be reopened while the new one is open', async () => {
    const { service, queries } = ctx;
    const id = (await queries.list({ deviceId: 'B1-FP-01', state: 'in_progress' })).items[0]!.id;
    await service.act(id, 'resolve', 1, {});
    await service.act(id, 'quality-check', 2, { result: 'pass' });
    await service.act(id, 'verify', 2, { result: 'ok' });
    await service.act(id, 'close', 1, {});
    const next = await service.raiseFromAlarm(fireAlarm(T0 + 3_000_000));
    expect(next.created).toBe(true);
    expect(next.workOrder).toMatchObject({ state: 'open', occurrences: 1 });
    expect(next.workOrder.id).not.toBe(id);
    await expect(service.act(id, 'reopen', 1, {})).rejects.toThrow(WorkOrderTransitionError);
    await expect(service.act(id, 'reopen', 1, {})).rejects.toThrow(new RegExp(`work order ${next.workOrder.id} is already open`));
    await closeVerified(service, next.workOrder.id);
    expect((await service.act(id, 'reopen', 1, {})).workOrder.state).toBe('reopened');
    expect((await service.raiseFromAlarm(fireAlarm(T0 + 4_000_000))).workOrder.id).toBe(id);
  });

  it('a fire in a new zone of a panel opens its own work order, naming the panel\'s others; a repeat of a zone adds to that zone\'s', async () => {
    const { service, queries } = ctx;
    const zone = (instance: string, at: number) => fireAlarm(at, { deviceId: 'B3-FP-01', building: 'B3', ruleId: 'fire-zone-alarm', instance, title: `Fire ${instance}` });
    const first = await service.raiseFromAlarm(zone('B3-1F-east', T0));
    const second = await service.raiseFromAlarm(zone('B3-5F-west', T0 + 60_000));
    expect(first.created && second.created).toBe(true);
    expect(second.workOrder).toMatchObject({ priority: 'critical', alarmInstance: 'B3-5F-west', occurrences: 1, createdAt: T0 + 60_000 });
    expect(second.workOrder.id).not.toBe(first.workOrder.id);
    expect(second.event.details).toMatchObject({ instance: 'B3-5F-west', related: [first.workOrder.id] });
    expect(second.workOrder.detail).toContain(`related open work orders of B3-FP-01: #${first.workOrder.id}`);
    const again = await service.raiseFromAlarm(zone('B3-1F-east', T0 + 120_000));
    expect(again).toMatchObject({ created: false, workOrder: { id: first.workOrder.id, occurrences: 2 } });
    expect((await queries.get(first.workOrder.id)).occurrences).toBe(2);
    expect((await queries.get(second.workOrder.id)).occurrences).toBe(1);
  });

  it('the unique index itself refuses a second open work order for a (device, rule)', async () => {
    const insert = ctx.client.run(
      "INSERT INTO work_orders (source, category, priority, state, title, building, device_id, rule_id, created_at, updated_at, response_due_at, last_occurrence_at) VALUES ('alarm', 'fire-safety', 'critical', 'open', 't', 'B2', 'B2-FP-01', 'fire-panel.alarm', 0, 0, 0, 0)",
    );
    await expect(insert).rejects.toThrow(UniqueViolationError);
  });
});

describeRecords('two servers on one records database', (backend) => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  it('raising one alarm from two processes at once makes one work order holding every occurrence', async () => {
    const database = await backend.database();
    const script = fileURLToPath(new URL('./fixtures/work-orders/raise-alarms.ts', import.meta.url));
    const perProcess = 150;
    const start = (label: string) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, database.location, String(perProcess), label], { stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (err += d));
      const ready = waitFor(() => out.startsWith('ready\n') || child.exitCode !== null, 30_000, `raise-alarms ${label} ready`);
      const done = new Promise<{ created: number; raised: number }>((resolve, reject) => {
        child.on('close', (code) => {
          if (code === 0) resolve(JSON.parse(out.slice('ready\n'.length)) as { created: number; raised: number });
          else reject(new Error(`raise-alarms ${label} exited ${code}: ${err}`));
        });
      });
      return { child, ready, done };
    };
    const workers = [start('a'), start('b')];
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.stdin.write('go\n');
    const results = await Promise.all(workers.map((w) => w.done));
    expect(results.map((r) => r.raised)).toEqual([perProcess, perProcess]);
    expect(results[0]!.created + results[1]!.created).toBe(1);
    const client = await database.open();
    const rows = await client.query<{ id: number; occurrences: number }>('SELECT id, occurrences FROM work_orders');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.occurrences).toBe(2 * perProcess);
    expect(await client.query('SELECT COUNT(*) AS n FROM work_order_events WHERE work_order_id = ?', [rows[0]!.id])).toEqual([{ n: 2 * perProcess }]);
  });

  // Two SQLite connections in one process would wait for each other's lock synchronously: there
  // the services share one client, and the race between processes is the test above.
  const services = async () => {
    const database = await backend.database();
    const clients = backend.dialect === 'postgres' ? [await database.open(), await database.open()] : [await database.open()];
    await seedPeople(clients[0]!, { users: [{ id: 1, username: 'wang', role: 'engineer' }] });
    const [a, b = a] = clients.map((client) => new WorkOrderService({ records: new WorkOrderRepository(client), clock: () => T0 }));
    return { a: a!, b: b!, queries: new WorkOrderQueries(new WorkOrderRepository(clients[0]!), () => T0) };
  };

  it('two services racing to raise one alarm make one work order; every occurrence is counted (PostgreSQL: two pools)', async () => {
    const { a, b, queries } = await services();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).raiseFromAlarm(fireAlarm(T0 + i))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const ids = new Set(results.map((r) => r.workOrder.id));
    expect(ids.size).toBe(1);
    // Each occurrence read the count the one before it wrote: none lost.
    const wo = await queries.get([...ids][0]!);
    expect(wo.occurrences).toBe(200);
    expect(wo.timeline).toHaveLength(200);
  });

  it('concurrent actions on one work order run one after another: one acknowledgement wins, the others are refused (PostgreSQL: two pools)', async () => {
    const { a, b, queries } = await services();
    const { workOrder } = await a.raiseFromAlarm(fireAlarm(T0));
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).act(workOrder.id, 'acknowledge', 1, { comment: `#${i}` })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as Error);
    expect(refused.map((e) => e instanceof WorkOrderTransitionError && e.message.includes('cannot acknowledge in state acknowledged'))).toEqual(Array(19).fill(true));
    expect((await queries.get(workOrder.id)).timeline.map((e) => e.action)).toEqual(['raise', 'acknowledge']);
  });
});
