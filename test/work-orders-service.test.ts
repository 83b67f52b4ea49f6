import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkOrderRepository } from '../server/records/work-order-repository.ts';
import type { RecordsClient } from '../server/records/records-client.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../server/work-orders/deadlines.ts';
import { WorkOrderInputError, WorkOrderNotFoundError } from '../server/work-orders/errors.ts';
import type { CreateWorkOrderInput, WorkOrder, WorkOrderEvent } from '../server/work-orders/types.ts';
import type { WorkOrderQueries } from '../server/work-orders/work-order-queries.ts';
import { WorkOrderService } from '../server/work-orders/work-order-service.ts';
import { workOrderFixture } from './fixtures/work-orders/service.ts';
import { describeRecords } from './harness/records.ts';

const T0 = Date.parse('2024-11-23T02:00:00Z');
const ENGINEER = 1;
const DESK = 2;
const PLUMBING = 7;

let db: RecordsClient;
let now: number;
let changes: Array<[WorkOrder, WorkOrderEvent]>;
let service: WorkOrderService;
let queries: WorkOrderQueries;

describeRecords('work-order service', (backend) => {
  beforeEach(async () => {
    now = T0;
    ({ client: db, service, queries, changes } = await workOrderFixture({
      client: await backend.open(),
      clock: () => now,
      users: [
        { id: ENGINEER, username: 'wang', role: 'engineer' },
        { id: DESK, username: 'chen', role: 'service-desk' },
      ],
      teams: [{ id: PLUMBING, name: 'Plumbing' }],
    }));
  });
  afterEach(() => db.close());

  const leak = async (over: Partial<CreateWorkOrderInput> = {}) =>
    (await service.create({ source: 'manual', category: 'water-leak', priority: 'high', title: 'Water through ceiling', building: 'B1', unit: '1-2-301', reporter: 'Ms Li 138…', createdBy: DESK, ...over })).workOrder;

  describe('timeline', () => {
    it('records who, when, comment and details for every action, in order', async () => {
      const wo = await leak({ comment: 'owner phoned the 24-hour line' });
      const steps = [
        ['acknowledge', DESK, 5 * MINUTE_MS, { comment: 'passed to plumbing' }],
        ['assign', DESK, 1 * MINUTE_MS, { teamId: PLUMBING, userId: ENGINEER, comment: 'Wang is on duty' }],
        ['start', ENGINEER, 20 * MINUTE_MS, { comment: 'on site' }],
        ['resolve', ENGINEER, 2 * HOUR_MS, { item: 'replaced riser joint', cost: 120.5, comment: 'joint corroded' }],
        ['leak-test', ENGINEER, DAY_MS, { leakTestAt: T0 + DAY_MS, comment: '24 h ponding test passed' }],
        ['callback', DESK, HOUR_MS, { outcome: 'satisfied', comment: 'owner content' }],
        ['close', DESK, MINUTE_MS, { comment: 'archived' }],
        ['reopen', ENGINEER, DAY_MS, { comment: 'stain is back' }],
      ] as const;
      const times: number[] = [];
      for (const [action, by, advance, payload] of steps) {
        now += advance;
        times.push(now);
        await service.act(wo.id, action, by, payload as never);
      }
      const { timeline } = await queries.get(wo.id);
      expect(timeline.map((e) => [e.action, e.by, e.at, e.comment])).toEqual([
        ['create', DESK, T0, 'owner phoned the 24-hour line'],
        ...steps.map(([action, by, , payload], i) => [action, by, times[i], payload.comment]),
      ]);
      expect(timeline.map((e) => `${e.fromState}>${e.toState}`)).toEqual([
        'null>open',
        'open>acknowledged',
        'acknowledged>acknowledged',
        'acknowledged>in_progress',
        'in_progress>resolved',
        'resolved>resolved',
        'resolved>callback_done',
        'callback_done>closed',
        'closed>reopened',
      ]);
      expect(timeline[1]!.details).toEqual({ responseDueAt: T0 + 30 * MINUTE_MS, onTime: true });
      expect(timeline[2]!.details).toEqual({ userId: ENGINEER, teamId: PLUMBING, previousUserId: null, previousTeamId: null });
      expect(timeline[4]!.details).toEqual({ item: 'replaced riser joint', cost: 120.5, callbackDueAt: null });
      expect(timeline[5]!.details).toEqual({ leakTestAt: T0 + DAY_MS, callbackDueAt: T0 + 4 * DAY_MS });
      expect(timeline[6]!.details).toMatchObject({ outcome: 'satisfied', onTime: true });
      expect(changes.map(([, ev]) => ev.action)).toEqual(timeline.map((e) => e.action));
      expect(changes.at(-1)![0]).toMatchObject({ id: wo.id, state: 'reopened', reopenCount: 1 });
    });

    it('keeps the repair record (item, time, cost) on the work order', async () => {
      const wo = await leak();
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      await service.act(wo.id, 'start', ENGINEER, {});
      now += HOUR_MS;
      const { workOrder } = await service.act(wo.id, 'resolve', ENGINEER, { item: 'valve', cost: 0.1 + 0.2, leakTestAt: now });
      expect(workOrder).toMatchObject({ repairItem: 'valve', cost: 0.3, resolvedAt: now, leakTestAt: now, callbackStatus: 'due', callbackDueAt: now + 3 * DAY_MS });
    });
  });

  describe('callbacks', () => {
    it('a callback finding a problem reopens the work order with new deadlines, keeping the repair team', async () => {
      const wo = (await service.create({ source: 'manual', category: 'electrical', priority: 'critical', title: 'Corridor lights out', building: 'B2', createdBy: DESK })).workOrder;
      await service.act(wo.id, 'assign', DESK, { teamId: PLUMBING });
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      await service.act(wo.id, 'start', ENGINEER, {});
      now += HOUR_MS;
      await service.act(wo.id, 'resolve', ENGINEER, { item: 'breaker' });
      now += DAY_MS;
      const { workOrder, event } = await service.act(wo.id, 'callback', DESK, { outcome: 'problem', comment: 'lights flicker' });
      expect(event).toMatchObject({ action: 'callback', fromState: 'resolved', toState: 'reopened', details: { outcome: 'problem', onTime: true, responseDueAt: now + 15 * MINUTE_MS } });
      expect(workOrder).toMatchObject({
        state: 'reopened',
        reopenedAt: now,
        reopenCount: 1,
        callbackOutcome: 'problem',
        responseDueAt: now + 15 * MINUTE_MS,
        callbackDueAt: null,
        callbackStatus: 'not-resolved',
        acknowledgedAt: null,
        resolvedAt: null,
        assigneeTeamId: PLUMBING,
        allowedActions: ['acknowledge', 'assign'],
      });
      await expect(service.act(wo.id, 'close', DESK, {})).rejects.toThrow(/cannot close in state reopened/);
      now += 16 * MINUTE_MS;
      expect((await queries.get(wo.id)).overdue).toEqual(['response']);
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      await service.act(wo.id, 'start', ENGINEER, {});
      await service.act(wo.id, 'resolve', ENGINEER, {});
      expect((await queries.get(wo.id)).callbackDueAt).toBe(now + 2 * DAY_MS);
      await service.act(wo.id, 'callback', DESK, { outcome: 'satisfied' });
      expect((await service.act(wo.id, 'close', DESK, {})).workOrder).toMatchObject({ state: 'closed', closedAt: now, callbackOutcome: 'satisfied' });
    });

    it('a complaint is due for its callback 72 hours after it was made', async () => {
      const wo = (await service.create({ source: 'complaint', category: 'complaint', priority: 'medium', title: 'Noise from pump room', building: 'B3', createdBy: DESK })).workOrder;
      expect(wo).toMatchObject({ callbackStatus: 'due', callbackDueAt: T0 + 72 * HOUR_MS, responseDueAt: T0 + 12 * HOUR_MS });
    });
  });

  describe('overdue detection with an injected clock', () => {
    it('lists work orders past their response or callback deadline, saying which, the longest overdue first', async () => {
      const fire = (await service.raiseFromAlarm({ deviceId: 'B1-FP-01', building: 'B1', ruleId: 'fire-panel.alarm', category: 'fire-safety', priority: 'critical', title: 'Fire alarm', detail: 'zone 3', at: T0 })).workOrder;
      const general = (await service.create({ source: 'inspection', sourceRef: 'task-9', category: 'general', priority: 'low', title: 'Loose railing', building: 'B2', createdBy: ENGINEER })).workOrder;
      const complaint = (await service.create({ source: 'complaint', category: 'complaint', priority: 'low', title: 'Rude guard', building: 'B1', createdBy: DESK })).workOrder;
      const pending = await leak();
      for (const id of [general.id, pending.id]) {
        await service.act(id, 'acknowledge', ENGINEER, {});
        await service.act(id, 'start', ENGINEER, {});
        await service.act(id, 'resolve', ENGINEER, {});
      }
      expect(await queries.overdue(T0 + 15 * MINUTE_MS)).toEqual([]);

      const at16 = T0 + 16 * MINUTE_MS;
      expect((await queries.overdue(at16)).map((o) => [o.workOrder.id, o.missed])).toEqual([[fire.id, [{ kind: 'response', dueAt: T0 + 15 * MINUTE_MS, overdueMs: MINUTE_MS }]]]);

      const day4 = T0 + 4 * DAY_MS;
      const overdue = await queries.overdue(day4);
      expect(overdue.map((o) => [o.workOrder.id, o.missed.map((m) => m.kind)])).toEqual([
        [fire.id, ['response']],
        [complaint.id, ['response', 'callback']],
        [general.id, ['callback']],
      ]);
      expect(overdue.find((o) => o.workOrder.id === general.id)!.missed[0]!.dueAt).toBe(T0 + 2 * DAY_MS);

      now = day4;
      expect((await queries.get(complaint.id)).overdue).toEqual(['response', 'callback']);
      expect(await queries.get(pending.id)).toMatchObject({ overdue: [], callbackStatus: 'leak-test-pending' });
      expect((await queries.list({ overdue: true })).items.map((w) => w.id).sort()).toEqual([fire.id, general.id, complaint.id].sort());
      expect((await queries.list({ overdue: false })).items.map((w) => w.id)).toEqual([pending.id]);
      expect(await queries.counts()).toMatchObject({ overdue: { response: 2, callback: 2 }, leakTestPending: 1, total: 4 });

      await service.act(fire.id, 'acknowledge', ENGINEER, { comment: 'late' });
      expect((await queries.get(fire.id)).timeline.at(-1)!.details).toEqual({ responseDueAt: T0 + 15 * MINUTE_MS, onTime: false });
      expect((await queries.overdue()).map((o) => o.workOrder.id)).toEqual([complaint.id, general.id]);
    });
  });

  describe('list and counts', () => {
    it('filters by state, category, building, unit, source, assignee and pages newest first', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 7; i++) {
        now = T0 + i * MINUTE_MS;
        ids.push((await leak({ building: i % 2 ? 'B2' : 'B1', unit: `1-1-${100 + i}`, category: i < 5 ? 'water-leak' : 'general' })).id);
      }
      await service.act(ids[1]!, 'assign', DESK, { userId: ENGINEER });
      await service.act(ids[2]!, 'assign', DESK, { teamId: PLUMBING });
      await service.act(ids[3]!, 'acknowledge', ENGINEER, {});

      const page1 = await queries.list({ limit: 3 });
      expect(page1).toMatchObject({ total: 7, page: 1, limit: 3 });
      expect(page1.items.map((w) => w.id)).toEqual([ids[6], ids[5], ids[4]]);
      const list = queries.list.bind(queries);
      expect((await list({ limit: 3, page: 3 })).items.map((w) => w.id)).toEqual([ids[0]]);
      expect((await list({ building: 'B2' })).items.map((w) => w.id)).toEqual([ids[5], ids[3], ids[1]]);
      expect((await list({ category: 'general' })).total).toBe(2);
      expect((await list({ category: ['general', 'water-leak'] })).total).toBe(7);
      expect((await list({ state: 'acknowledged' })).items.map((w) => w.id)).toEqual([ids[3]]);
      expect((await list({ state: ['acknowledged', 'open'], building: 'B1' })).total).toBe(4);
      expect((await list({ unit: '1-1-102' })).items.map((w) => w.id)).toEqual([ids[2]]);
      expect((await list({ assigneeUserId: ENGINEER })).items.map((w) => w.id)).toEqual([ids[1]]);
      expect((await list({ assigneeTeamId: PLUMBING })).items.map((w) => w.id)).toEqual([ids[2]]);
      expect((await list({ source: 'alarm' })).total).toBe(0);

      expect(await queries.counts()).toEqual({
        total: 7,
        byState: { open: 6, acknowledged: 1, in_progress: 0, resolved: 0, callback_done: 0, closed: 0, reopened: 0 },
        openByCategory: { 'fire-safety': 0, 'water-leak': 5, electrical: 0, 'access-security': 0, general: 2, complaint: 0 },
        overdue: { response: 0, callback: 0 },
        leakTestPending: 0,
      });
    });
  });

  // Shapes, lengths and value lists are the API schemas' (test/server-tickets.test.ts); the service checks the domain rules.
  describe('domain rule errors', () => {
    it('are typed and say what to fix, leaving nothing behind', async () => {
      await expect(leak({ createdBy: 99 })).rejects.toThrow(new WorkOrderInputError('createdBy: user 99 does not exist'));
      expect((await queries.list()).total).toBe(0);

      const wo = await leak();
      await expect(service.act(wo.id, 'acknowledge', 42, {})).rejects.toThrow(/by: user 42 does not exist/);
      await expect(service.act(wo.id, 'assign', DESK, { userId: 41 })).rejects.toThrow(/userId: user 41 does not exist/);
      await expect(service.act(wo.id, 'assign', DESK, { teamId: 3 })).rejects.toThrow(/team 3 does not exist/);
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      await service.act(wo.id, 'start', ENGINEER, {});
      await expect(service.act(wo.id, 'resolve', ENGINEER, { leakTestAt: now + 1 })).rejects.toThrow(/in the future/);
      await expect(service.act(wo.id, 'resolve', ENGINEER, { leakTestAt: T0 - 1 })).rejects.toThrow(/before this repair began/);
      const fire = (await service.create({ source: 'manual', category: 'fire-safety', priority: 'high', title: 'Smoke detector', building: 'B1', createdBy: DESK })).workOrder;
      await service.act(fire.id, 'acknowledge', ENGINEER, {});
      await service.act(fire.id, 'start', ENGINEER, {});
      await expect(service.act(fire.id, 'resolve', ENGINEER, { leakTestAt: now })).rejects.toThrow(/leakTestAt applies to water-leak work orders only/);
      expect(await queries.get(wo.id)).toMatchObject({ state: 'in_progress', resolvedAt: null, cost: null });
      expect((await queries.get(wo.id)).timeline).toHaveLength(3);

      const notFound = await queries.get(12345).catch((err: unknown) => err);
      expect(notFound).toBeInstanceOf(WorkOrderNotFoundError);
      expect(notFound).toMatchObject({ statusCode: 404, message: 'work order 12345 does not exist' });
      await expect(service.act(12345, 'start', ENGINEER, {})).rejects.toThrow(WorkOrderNotFoundError);
    });

    it('texts are stored trimmed, and blank optional ones as absent', async () => {
      const wo = await leak({ title: '  Water through ceiling ', unit: '  ', reporter: ' Ms Li ', detail: '   ', comment: '  ' });
      expect(wo).toMatchObject({ title: 'Water through ceiling', unit: null, reporter: 'Ms Li', detail: '' });
      expect((await queries.get(wo.id)).timeline[0]!.comment).toBeNull();
    });

    it('a failing change listener does not undo or break the change', async () => {
      const noisy = new WorkOrderService({
        records: new WorkOrderRepository(db),
        clock: () => now,
        onChange: () => {
          throw new Error('socket gone');
        },
      });
      const { workOrder } = await noisy.create({ source: 'manual', category: 'general', priority: 'low', title: 'Bulb', building: 'B1', createdBy: DESK });
      expect((await noisy.act(workOrder.id, 'acknowledge', ENGINEER, {})).workOrder.state).toBe('acknowledged');
    });
  });
});
