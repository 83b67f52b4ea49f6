import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkOrderRepository } from '../server/records/work-order-repository.ts';
import type { RecordsClient } from '../server/records/records-client.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../server/work-orders/deadlines.ts';
import { WorkOrderInputError, WorkOrderNotFoundError, WorkOrderPermissionError } from '../server/work-orders/errors.ts';
import type { CreateWorkOrderInput, WorkOrder, WorkOrderEvent } from '../server/work-orders/types.ts';
import type { WorkOrderQueries } from '../server/work-orders/work-order-queries.ts';
import { WorkOrderService } from '../server/work-orders/work-order-service.ts';
import { workOrderFixture } from './fixtures/work-orders/service.ts';
import { describeRecords } from './harness/records.ts';

const T0 = Date.parse('2024-11-23T02:00:00Z');
const ENGINEER = 1;
const DESK = 2;
const SUPERVISOR = 3;
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
        { id: SUPERVISOR, username: 'zhao', role: 'engineering-supervisor' },
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
        ['quality-check', SUPERVISOR, HOUR_MS, { result: 'pass', comment: 'joint dry, area cleaned' }],
        ['leak-test', ENGINEER, DAY_MS, { leakTestAt: T0 + DAY_MS, comment: '24 h ponding test passed' }],
        ['callback', DESK, HOUR_MS, { outcome: 'satisfied', satisfaction: 'satisfied', comment: 'owner content' }],
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
        'resolved>quality_checked',
        'quality_checked>quality_checked',
        'quality_checked>callback_done',
        'callback_done>closed',
        'closed>reopened',
      ]);
      expect(timeline[1]!.details).toEqual({ responseDueAt: T0 + 30 * MINUTE_MS, onTime: true });
      expect(timeline[2]!.details).toEqual({ userId: ENGINEER, teamId: PLUMBING, previousUserId: null, previousTeamId: null });
      expect(timeline[4]!.details).toEqual({ item: 'replaced riser joint', cost: 120.5, callbackDueAt: null });
      expect(timeline[5]!.details).toEqual({ result: 'pass' });
      expect(timeline[6]!.details).toEqual({ leakTestAt: T0 + DAY_MS, callbackDueAt: T0 + 4 * DAY_MS });
      expect(timeline[7]!.details).toMatchObject({ outcome: 'satisfied', satisfaction: 'satisfied', method: 'phone', onTime: true });
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
    const repaired = async (over: Partial<CreateWorkOrderInput> = {}) => {
      const wo = (await service.create({ source: 'manual', category: 'electrical', priority: 'critical', title: 'Corridor lights out', building: 'B2', unit: '2-1-101', createdBy: DESK, ...over })).workOrder;
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      await service.act(wo.id, 'start', ENGINEER, {});
      now += HOUR_MS;
      await service.act(wo.id, 'resolve', ENGINEER, { item: 'breaker' });
      await service.act(wo.id, 'quality-check', SUPERVISOR, { result: 'pass' });
      return wo;
    };

    it('a callback finding a problem reopens the work order with new deadlines, keeping the repair team, and escalates it', async () => {
      const wo = (await service.create({ source: 'manual', category: 'electrical', priority: 'critical', title: 'Corridor lights out', building: 'B2', createdBy: DESK })).workOrder;
      await service.act(wo.id, 'assign', ENGINEER, { teamId: PLUMBING });
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      await service.act(wo.id, 'start', ENGINEER, {});
      now += HOUR_MS;
      await service.act(wo.id, 'resolve', ENGINEER, { item: 'breaker' });
      await service.act(wo.id, 'quality-check', SUPERVISOR, { result: 'pass' });
      now += DAY_MS;
      const { workOrder, event } = await service.act(wo.id, 'callback', DESK, { outcome: 'problem', satisfaction: 'dissatisfied', comment: 'lights flicker' });
      expect(event).toMatchObject({ action: 'callback', fromState: 'quality_checked', toState: 'reopened', details: { outcome: 'problem', onTime: true, responseDueAt: now + 15 * MINUTE_MS } });
      expect(workOrder).toMatchObject({
        state: 'reopened',
        reopenedAt: now,
        reopenCount: 1,
        callbackOutcome: 'problem',
        satisfaction: 'dissatisfied',
        responseDueAt: now + 15 * MINUTE_MS,
        callbackDueAt: null,
        callbackStatus: 'not-resolved',
        acknowledgedAt: null,
        resolvedAt: null,
        resolvedBy: null,
        qualityCheckedAt: null,
        assigneeTeamId: PLUMBING,
        escalationLevel: 1,
        escalatedAt: now,
        allowedActions: ['acknowledge', 'assign', 'escalate'],
      });
      const escalation = changes.at(-1)![1];
      expect(escalation).toMatchObject({ action: 'escalate', by: null, at: now, details: { level: 1, role: 'engineering-supervisor', reason: 'callback-problem' } });
      await expect(service.act(wo.id, 'close', DESK, {})).rejects.toThrow(/cannot close in state reopened/);
      now += 16 * MINUTE_MS;
      expect((await queries.get(wo.id)).overdue).toEqual(['response']);
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      await service.act(wo.id, 'start', ENGINEER, {});
      await service.act(wo.id, 'resolve', ENGINEER, {});
      await service.act(wo.id, 'quality-check', SUPERVISOR, { result: 'pass' });
      expect((await queries.get(wo.id)).callbackDueAt).toBe(now + 2 * DAY_MS);
      await service.act(wo.id, 'callback', DESK, { outcome: 'satisfied', satisfaction: 'basically-satisfied' });
      expect((await service.act(wo.id, 'close', DESK, {})).workOrder).toMatchObject({ state: 'closed', closedAt: now, callbackOutcome: 'satisfied' });
    });

    it('the person who repaired it may neither check nor call back nor verify the repair', async () => {
      const wo = (await service.create({ source: 'manual', category: 'general', priority: 'low', title: 'Loose tap', building: 'B1', createdBy: DESK })).workOrder;
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      await service.act(wo.id, 'start', ENGINEER, {});
      await service.act(wo.id, 'resolve', ENGINEER, {});
      const check = await service.act(wo.id, 'quality-check', ENGINEER, { result: 'pass' }).catch((err: unknown) => err);
      expect(check).toBeInstanceOf(WorkOrderPermissionError);
      expect(check).toMatchObject({ statusCode: 403, message: expect.stringMatching(/someone other than who repaired it \(user 1 resolved it\)/) });
      await service.act(wo.id, 'quality-check', SUPERVISOR, { result: 'pass' });
      await expect(service.act(wo.id, 'callback', ENGINEER, { outcome: 'satisfied', satisfaction: 'satisfied' })).rejects.toThrow(/made by customer service, not by who repaired it/);
      expect((await queries.get(wo.id)).state).toBe('quality_checked');
    });

    it('a callback falling due at 21:30 local time is due at 09:00 the next morning; an attempt that finds nobody at home is tried again inside the window', async () => {
      now = Date.parse('2025-03-03T20:00:00+08:00');
      const wo = await repaired({ category: 'general', priority: 'low' });
      now = Date.parse('2025-03-03T21:30:00+08:00');
      await service.act(wo.id, 'reopen', SUPERVISOR, {});
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      await service.act(wo.id, 'start', ENGINEER, {});
      await service.act(wo.id, 'resolve', ENGINEER, {});
      expect((await queries.get(wo.id)).callbackDueAt).toBe(Date.parse('2025-03-06T09:00:00+08:00'));
      await service.act(wo.id, 'quality-check', SUPERVISOR, { result: 'pass' });

      now = Date.parse('2025-03-05T19:00:00+08:00');
      const attempt = await service.act(wo.id, 'callback', DESK, { outcome: 'not-home', comment: 'no answer at the door' });
      expect(attempt.workOrder).toMatchObject({ state: 'quality_checked', callbackAttempts: 1, callbackAt: null, callbackDueAt: Date.parse('2025-03-06T19:00:00+08:00') });
      expect(attempt.event.details).toMatchObject({ outcome: 'not-home', attempt: 1, onTime: true, retryDueAt: Date.parse('2025-03-06T19:00:00+08:00') });
      const late = await service.act(wo.id, 'callback', DESK, { outcome: 'not-home', retryAt: Date.parse('2025-03-06T22:15:00+08:00') });
      expect(late.workOrder).toMatchObject({ callbackAttempts: 2, callbackDueAt: Date.parse('2025-03-07T09:00:00+08:00') });
      await expect(service.act(wo.id, 'callback', DESK, { outcome: 'not-home', retryAt: now - 1 })).rejects.toThrow(/retryAt: .* is not in the future/);
      await expect(service.act(wo.id, 'callback', DESK, { outcome: 'satisfied' })).rejects.toThrow(/satisfaction: ask the owner/);
      now = Date.parse('2025-03-07T10:00:00+08:00');
      const reached = await service.act(wo.id, 'callback', DESK, { outcome: 'satisfied', satisfaction: 'satisfied', method: 'visit' });
      expect(reached.event.details).toMatchObject({ onTime: false, method: 'visit', callbackDueAt: Date.parse('2025-03-07T09:00:00+08:00') });
    });

    it('an offline-device work order closes after internal verification, without any callback to an owner', async () => {
      const { workOrder: wo } = await service.raiseFromAlarm({ deviceId: 'B1-meter-7', building: 'B1', ruleId: 'device-offline', category: 'general', priority: 'medium', title: 'Meter not reporting', detail: '', at: T0 });
      expect(wo).toMatchObject({ source: 'alarm', followUp: 'verification', reporter: null });
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      await service.act(wo.id, 'start', ENGINEER, {});
      now += HOUR_MS;
      await service.act(wo.id, 'resolve', ENGINEER, { item: 'RS-485 connector re-seated' });
      expect((await queries.get(wo.id)).callbackDueAt).toBe(now + 2 * DAY_MS);
      await service.act(wo.id, 'quality-check', SUPERVISOR, { result: 'pass' });
      expect((await queries.get(wo.id)).allowedActions).toEqual(['verify', 'escalate', 'reopen']);
      await expect(service.act(wo.id, 'callback', DESK, { outcome: 'satisfied', satisfaction: 'satisfied' })).rejects.toThrow(/no owner to call back/);
      const verified = await service.act(wo.id, 'verify', SUPERVISOR, { result: 'ok', comment: 'readings arrive every minute again' });
      expect(verified.workOrder).toMatchObject({ state: 'verified', verifiedAt: now, callbackStatus: 'done', overdue: [] });
      expect(verified.event.details).toEqual({ result: 'ok', callbackDueAt: now + 2 * DAY_MS, onTime: true });
      const closed = await service.act(wo.id, 'close', ENGINEER, {});
      expect(closed.workOrder).toMatchObject({ state: 'closed', callbackAt: null, satisfaction: null });
      expect((await queries.get(wo.id)).timeline.map((e) => e.action)).toEqual(['raise', 'acknowledge', 'start', 'resolve', 'quality-check', 'verify', 'close']);
    });
  });

  describe('complaints', () => {
    const complaint = async () =>
      (await service.create({ source: 'complaint', complaintType: 'valid', category: 'complaint', priority: 'medium', title: 'Noise from pump room', building: 'B3', reporter: 'Mr Zhou', createdBy: DESK })).workOrder;

    it('owe a reply 72 hours after they were made, whether or not the fix is done', async () => {
      const wo = await complaint();
      expect(wo).toMatchObject({ complaintType: 'valid', replyDueAt: T0 + 72 * HOUR_MS, repliedAt: null, callbackDueAt: null, callbackStatus: 'not-resolved', responseDueAt: T0 + 12 * HOUR_MS });
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      await service.act(wo.id, 'start', ENGINEER, {});
      now = T0 + 48 * HOUR_MS;
      await service.act(wo.id, 'resolve', ENGINEER, { item: 'pump mounts replaced' });
      await service.act(wo.id, 'quality-check', SUPERVISOR, { result: 'pass' });
      now = T0 + 72 * HOUR_MS;
      expect((await queries.get(wo.id)).overdue).toEqual([]);
      now += 1;
      expect(await queries.get(wo.id)).toMatchObject({ state: 'quality_checked', overdue: ['reply'], replyDueAt: T0 + 72 * HOUR_MS });
      expect((await queries.overdue()).map((o) => [o.workOrder.id, o.missed.map((m) => m.kind)])).toEqual([[wo.id, ['reply']]]);
    });

    it('an interim reply stops the clock, and reopening does not restart it', async () => {
      const wo = await complaint();
      now += 5 * HOUR_MS;
      const interim = await service.act(wo.id, 'reply', DESK, { comment: 'the pump contractor comes on Thursday' });
      expect(interim.workOrder).toMatchObject({ state: 'open', repliedAt: now, overdue: [] });
      expect(interim.event.details).toEqual({ first: true, replyDueAt: T0 + 72 * HOUR_MS, onTime: true });
      now += HOUR_MS;
      expect((await service.act(wo.id, 'reply', DESK, { comment: 'contractor confirmed' })).event.details).toEqual({ first: false, replyDueAt: T0 + 72 * HOUR_MS });
      for (const action of ['acknowledge', 'start', 'resolve'] as const) await service.act(wo.id, action, ENGINEER, {});
      await service.act(wo.id, 'quality-check', SUPERVISOR, { result: 'pass' });
      now = T0 + 2 * DAY_MS;
      const reopened = await service.act(wo.id, 'callback', DESK, { outcome: 'problem', satisfaction: 'dissatisfied' });
      expect(reopened.workOrder).toMatchObject({ state: 'reopened', replyDueAt: T0 + 72 * HOUR_MS, repliedAt: T0 + 5 * HOUR_MS });
      now = T0 + 10 * DAY_MS;
      expect((await queries.get(wo.id)).overdue).toEqual(['response']);
    });

    it('a reply after the deadline is recorded as late; a complaint without its type is refused', async () => {
      const wo = await complaint();
      now = T0 + 80 * HOUR_MS;
      expect((await service.act(wo.id, 'reply', DESK, { comment: 'sorry for the delay' })).event.details).toMatchObject({ first: true, onTime: false });
      await expect(service.create({ source: 'complaint', category: 'complaint', priority: 'low', title: 'x', building: 'B1', createdBy: DESK })).rejects.toThrow(
        new WorkOrderInputError('complaintType: a complaint needs its type (valid, help, enquiry, venting)'),
      );
    });
  });

  describe('lifts', () => {
    it('people trapped in a lift make a critical lift work order with the safety deadlines', async () => {
      const { workOrder } = await service.create({ source: 'manual', category: 'lift', priority: 'medium', peopleTrapped: true, title: 'Lift stuck, people trapped', building: 'B1', createdBy: DESK });
      expect(workOrder).toMatchObject({ category: 'lift', priority: 'critical', peopleTrapped: true, responseDueAt: T0 + 5 * MINUTE_MS, followUp: 'callback' });
      for (const action of ['acknowledge', 'start', 'resolve'] as const) await service.act(workOrder.id, action, ENGINEER, {});
      expect((await queries.get(workOrder.id)).callbackDueAt).toBe(T0 + 2 * DAY_MS);
      await expect(service.create({ source: 'manual', category: 'general', priority: 'low', peopleTrapped: true, title: 'x', building: 'B1', createdBy: DESK })).rejects.toThrow(/peopleTrapped: people are trapped in a lift/);
    });
  });

  describe('escalation of missed deadlines', () => {
    it('goes one level up once per missed deadline, to the supervisor of the team that owes it, then the managers', async () => {
      const repair = await leak({ priority: 'critical' });
      now = T0 + 15 * MINUTE_MS;
      expect(await service.escalateOverdue()).toEqual([]);
      now += 1;
      const [first] = await service.escalateOverdue();
      expect(first!.workOrder).toMatchObject({ id: repair.id, escalationLevel: 1, escalatedAt: now });
      expect(first!.event).toMatchObject({ action: 'escalate', by: null, fromState: 'open', toState: 'open', details: { level: 1, role: 'engineering-supervisor', reason: 'response-overdue', missed: [{ kind: 'response', dueAt: T0 + 15 * MINUTE_MS }] } });
      now += HOUR_MS;
      expect(await service.escalateOverdue()).toEqual([]);

      await service.act(repair.id, 'acknowledge', ENGINEER, {});
      await service.act(repair.id, 'start', ENGINEER, {});
      await service.act(repair.id, 'resolve', ENGINEER, { leakTestAt: now });
      await service.act(repair.id, 'quality-check', SUPERVISOR, { result: 'pass' });
      const due = (await queries.get(repair.id)).callbackDueAt!;
      now = due + 1;
      const [second] = await service.escalateOverdue();
      expect(second!.event.details).toMatchObject({ level: 2, role: 'estate-manager', reason: 'callback-overdue' });
      await service.act(repair.id, 'escalate', DESK, { comment: 'owner unreachable for a week' });
      const third = (await queries.get(repair.id)).timeline.at(-1)!;
      expect(third).toMatchObject({ action: 'escalate', by: DESK, comment: 'owner unreachable for a week', details: { level: 3, role: 'property-manager', reason: 'by-hand' } });
      await service.act(repair.id, 'escalate', DESK, { comment: 'still nothing' });
      expect((await queries.get(repair.id)).escalationLevel).toBe(3);
      expect(await queries.counts()).toMatchObject({ escalated: { '1': 0, '2': 0, '3': 1 } });
      expect((await queries.list({ escalatedTo: 2 })).items.map((w) => w.id)).toEqual([repair.id]);
    });

    it('a complaint not answered in 72 hours goes to the customer-service supervisor', async () => {
      const wo = (await service.create({ source: 'complaint', complaintType: 'venting', category: 'complaint', priority: 'low', title: 'Parking fees', building: 'B1', createdBy: DESK })).workOrder;
      await service.act(wo.id, 'acknowledge', ENGINEER, {});
      now = T0 + 72 * HOUR_MS + 1;
      const [change] = await service.escalateOverdue();
      expect(change!.event.details).toMatchObject({ level: 1, role: 'service-supervisor', reason: 'reply-overdue' });
    });
  });

  describe('overdue detection with an injected clock', () => {
    it('lists work orders past their response or callback deadline, saying which, the longest overdue first', async () => {
      const fire = (await service.raiseFromAlarm({ deviceId: 'B1-FP-01', building: 'B1', ruleId: 'fire-panel.alarm', category: 'fire-safety', priority: 'critical', title: 'Fire alarm', detail: 'zone 3', at: T0 })).workOrder;
      const general = (await service.create({ source: 'inspection', sourceRef: 'task-9', category: 'general', priority: 'low', title: 'Loose railing', building: 'B2', createdBy: ENGINEER })).workOrder;
      const complaint = (await service.create({ source: 'complaint', complaintType: 'valid', category: 'complaint', priority: 'low', title: 'Rude guard', building: 'B1', createdBy: DESK })).workOrder;
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
        [complaint.id, ['response', 'reply']],
        [general.id, ['verification']],
      ]);
      expect(overdue.find((o) => o.workOrder.id === general.id)!.missed[0]!.dueAt).toBe(T0 + 2 * DAY_MS);

      now = day4;
      expect((await queries.get(complaint.id)).overdue).toEqual(['response', 'reply']);
      expect(await queries.get(pending.id)).toMatchObject({ overdue: [], callbackStatus: 'leak-test-pending' });
      expect((await queries.list({ overdue: true })).items.map((w) => w.id).sort()).toEqual([fire.id, general.id, complaint.id].sort());
      expect((await queries.list({ overdue: false })).items.map((w) => w.id)).toEqual([pending.id]);
      expect(await queries.counts()).toMatchObject({ overdue: { response: 2, reply: 1, callback: 0, verification: 1 }, leakTestPending: 1, total: 4 });

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
        byState: { open: 6, acknowledged: 1, in_progress: 0, resolved: 0, quality_checked: 0, callback_done: 0, verified: 0, closed: 0, reopened: 0 },
        openByCategory: { 'fire-safety': 0, lift: 0, 'access-security': 0, 'water-leak': 5, 'water-supply': 0, electrical: 0, general: 2, complaint: 0 },
        overdue: { response: 0, reply: 0, callback: 0, verification: 0 },
        leakTestPending: 0,
        escalated: { '1': 0, '2': 0, '3': 0 },
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
      expect(await service.act(wo.id, 'resolve', ENGINEER, { leakTestAt: now + 1 }).catch((err: unknown) => err)).toMatchObject({ field: 'leakTestAt' });
      await expect(service.act(wo.id, 'resolve', ENGINEER, { leakTestAt: T0 - 1 })).rejects.toThrow(/before this repair began/);
      const fire = (await service.create({ source: 'manual', category: 'fire-safety', priority: 'high', title: 'Smoke detector', building: 'B1', createdBy: DESK })).workOrder;
      await service.act(fire.id, 'acknowledge', ENGINEER, {});
      await service.act(fire.id, 'start', ENGINEER, {});
      await expect(service.act(fire.id, 'resolve', ENGINEER, { leakTestAt: now })).rejects.toThrow(/leakTestAt: applies to water-leak work orders only/);
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
