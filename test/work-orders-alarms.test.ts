import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../server/records/sqlite/open-database.ts';
import { UniqueViolationError } from '../server/records/records-client.ts';
import { WorkOrderTransitionError } from '../server/work-orders/errors.ts';
import type { AlarmInput } from '../server/work-orders/types.ts';
import type { WorkOrderService } from '../server/work-orders/work-order-service.ts';
import { workOrderFixture, type WorkOrderFixture } from './fixtures/work-orders/service.ts';
import { waitFor } from './harness/ports.ts';

const T0 = Date.parse('2024-11-23T02:00:00Z');

const setup = () => workOrderFixture({ clock: () => T0, users: [{ id: 1, username: 'wang', role: 'engineer' }] });

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

async function closeSatisfied(service: WorkOrderService, id: number) {
  for (const [action, payload] of [['acknowledge', {}], ['start', {}], ['resolve', {}], ['callback', { outcome: 'satisfied' }], ['close', {}]] as const) {
    await service.act(id, action, 1, payload as never);
  }
}

describe('raiseFromAlarm', () => {
  let ctx: WorkOrderFixture;
  beforeAll(async () => {
    ctx = await setup();
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
    expect(wo).toMatchObject({ source: 'alarm', state: 'open', occurrences: 1_000, lastOccurrenceAt: T0 + 999_000, createdAt: T0, createdBy: null, deviceId: 'B1-FP-01' });
    expect(wo.timeline).toHaveLength(1_000);
    expect(wo.timeline[0]).toMatchObject({ action: 'raise', by: null, at: T0, toState: 'open' });
    expect(wo.timeline.slice(1).every((e, i) => e.action === 'occurrence' && e.at === T0 + (i + 1) * 1_000 && e.details.occurrence === i + 2)).toBe(true);
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
    await service.act(id, 'callback', 1, { outcome: 'satisfied' });
    await service.act(id, 'close', 1, {});
    const next = await service.raiseFromAlarm(fireAlarm(T0 + 3_000_000));
    expect(next.created).toBe(true);
    expect(next.workOrder).toMatchObject({ state: 'open', occurrences: 1 });
    expect(next.workOrder.id).not.toBe(id);
    await expect(service.act(id, 'reopen', 1, {})).rejects.toThrow(WorkOrderTransitionError);
    await expect(service.act(id, 'reopen', 1, {})).rejects.toThrow(new RegExp(`work order ${next.workOrder.id} is already open`));
    await closeSatisfied(service, next.workOrder.id);
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

describe('raiseFromAlarm from two processes on one database file', () => {
  let dir: string;
  let db: Database;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fm-wo-race-'));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('still makes one work order holding every occurrence', async () => {
    const file = join(dir, 'records.db');
    openDatabase(file).close();
    const script = fileURLToPath(new URL('./fixtures/work-orders/raise-alarms.ts', import.meta.url));
    const perProcess = 150;
    const start = (label: string) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, file, String(perProcess), label], { stdio: ['pipe', 'pipe', 'pipe'] });
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
    db = openDatabase(file);
    const rows = db.prepare('SELECT id, occurrences FROM work_orders').all() as Array<{ id: number; occurrences: number }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.occurrences).toBe(2 * perProcess);
    expect((db.prepare('SELECT COUNT(*) AS n FROM work_order_events WHERE work_order_id = ?').get(rows[0]!.id) as { n: number }).n).toBe(2 * perProcess);
  });
});
