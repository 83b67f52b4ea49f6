import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../server/db/database.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../server/work-orders/deadlines.ts';
import { WorkOrderInputError, WorkOrderNotFoundError } from '../server/work-orders/errors.ts';
import type { WorkOrder, WorkOrderEvent } from '../server/work-orders/types.ts';
import { WorkOrderService } from '../server/work-orders/work-order-service.ts';

const T0 = Date.parse('2024-11-23T02:00:00Z');
const ENGINEER = 1;
const DESK = 2;
const PLUMBING = 7;

let db: Database;
let now: number;
let changes: Array<[WorkOrder, WorkOrderEvent]>;
let service: WorkOrderService;

beforeEach(() => {
  db = openDatabase(':memory:');
  const user = db.prepare('INSERT INTO users (id, username, display_name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, 0)');
  user.run(ENGINEER, 'wang', 'Wang Fang', 'engineer', 'x');
  user.run(DESK, 'chen', 'Chen Jing', 'service-desk', 'x');
  db.prepare('INSERT INTO teams (id, name, created_at) VALUES (?, ?, 0)').run(PLUMBING, 'Plumbing');
  now = T0;
  changes = [];
  service = new WorkOrderService({ db, clock: () => now, onChange: (wo, ev) => changes.push([wo, ev]) });
});
afterEach(() => db.close());

const leak = (over: Partial<Parameters<WorkOrderService['create']>[0]> = {}) =>
  service.create({ source: 'manual', category: 'water-leak', priority: 'high', title: 'Water through ceiling', building: 'B1', unit: '1-2-301', reporter: 'Ms Li 138…', createdBy: DESK, ...over }).workOrder;

describe('timeline', () => {
  it('records who, when, comment and details for every action, in order', () => {
    const wo = leak({ comment: 'owner phoned the 24-hour line' });
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
      service.act(wo.id, action, by, payload as never);
    }
    const { timeline } = service.get(wo.id);
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

  it('keeps the repair record (item, time, cost) on the work order', () => {
    const wo = leak();
    service.act(wo.id, 'acknowledge', ENGINEER);
    service.act(wo.id, 'start', ENGINEER);
    now += HOUR_MS;
    const { workOrder } = service.act(wo.id, 'resolve', ENGINEER, { item: 'valve', cost: 0.1 + 0.2, leakTestAt: now });
    expect(workOrder).toMatchObject({ repairItem: 'valve', cost: 0.3, resolvedAt: now, leakTestAt: now, callbackStatus: 'due', callbackDueAt: now + 3 * DAY_MS });
  });
});

describe('callbacks', () => {
  it('a callback finding a problem reopens the work order with new deadlines, keeping the repair team', () => {
    const wo = service.create({ source: 'manual', category: 'electrical', priority: 'critical', title: 'Corridor lights out', building: 'B2', createdBy: DESK }).workOrder;
    service.act(wo.id, 'assign', DESK, { teamId: PLUMBING });
    service.act(wo.id, 'acknowledge', ENGINEER);
    service.act(wo.id, 'start', ENGINEER);
    now += HOUR_MS;
    service.act(wo.id, 'resolve', ENGINEER, { item: 'breaker' });
    now += DAY_MS;
    const { workOrder, event } = service.act(wo.id, 'callback', DESK, { outcome: 'problem', comment: 'lights flicker' });
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
    expect(() => service.act(wo.id, 'close', DESK)).toThrow(/cannot close in state reopened/);
    now += 16 * MINUTE_MS;
    expect(service.get(wo.id).overdue).toEqual(['response']);
    service.act(wo.id, 'acknowledge', ENGINEER);
    service.act(wo.id, 'start', ENGINEER);
    service.act(wo.id, 'resolve', ENGINEER);
    expect(service.get(wo.id).callbackDueAt).toBe(now + 2 * DAY_MS);
    service.act(wo.id, 'callback', DESK, { outcome: 'satisfied' });
    expect(service.act(wo.id, 'close', DESK).workOrder).toMatchObject({ state: 'closed', closedAt: now, callbackOutcome: 'satisfied' });
  });

  it('a complaint is due for its callback 72 hours after it was made', () => {
    const wo = service.create({ source: 'complaint', category: 'complaint', priority: 'medium', title: 'Noise from pump room', building: 'B3', createdBy: DESK }).workOrder;
    expect(wo).toMatchObject({ callbackStatus: 'due', callbackDueAt: T0 + 72 * HOUR_MS, responseDueAt: T0 + 12 * HOUR_MS });
  });
});

describe('overdue detection with an injected clock', () => {
  it('lists work orders past their response or callback deadline, saying which, the longest overdue first', () => {
    const fire = service.raiseFromAlarm({ deviceId: 'B1-FP-01', building: 'B1', ruleId: 'fire-panel.alarm', category: 'fire-safety', priority: 'critical', title: 'Fire alarm', detail: 'zone 3', at: T0 }).workOrder;
    const general = service.create({ source: 'inspection', sourceRef: 'task-9', category: 'general', priority: 'low', title: 'Loose railing', building: 'B2', createdBy: ENGINEER }).workOrder;
    const complaint = service.create({ source: 'complaint', category: 'complaint', priority: 'low', title: 'Rude guard', building: 'B1', createdBy: DESK }).workOrder;
    const pending = leak();
    for (const id of [general.id, pending.id]) {
      service.act(id, 'acknowledge', ENGINEER);
      service.act(id, 'start', ENGINEER);
      service.act(id, 'resolve', ENGINEER);
    }
    expect(service.overdue(T0 + 15 * MINUTE_MS)).toEqual([]);

    const at16 = T0 + 16 * MINUTE_MS;
    expect(service.overdue(at16).map((o) => [o.workOrder.id, o.missed])).toEqual([[fire.id, [{ kind: 'response', dueAt: T0 + 15 * MINUTE_MS, overdueMs: MINUTE_MS }]]]);

    const day4 = T0 + 4 * DAY_MS;
    const overdue = service.overdue(day4);
    expect(overdue.map((o) => [o.workOrder.id, o.missed.map((m) => m.kind)])).toEqual([
      [fire.id, ['response']],
      [complaint.id, ['response', 'callback']],
      [general.id, ['callback']],
    ]);
    expect(overdue.find((o) => o.workOrder.id === general.id)!.missed[0]!.dueAt).toBe(T0 + 2 * DAY_MS);

    now = day4;
    expect(service.get(complaint.id).overdue).toEqual(['response', 'callback']);
    expect(service.get(pending.id)).toMatchObject({ overdue: [], callbackStatus: 'leak-test-pending' });
    expect(service.list({ overdue: true }).items.map((w) => w.id).sort()).toEqual([fire.id, general.id, complaint.id].sort());
    expect(service.list({ overdue: false }).items.map((w) => w.id)).toEqual([pending.id]);
    expect(service.counts()).toMatchObject({ overdue: { response: 2, callback: 2 }, leakTestPending: 1, total: 4 });

    service.act(fire.id, 'acknowledge', ENGINEER, { comment: 'late' });
    expect(service.get(fire.id).timeline.at(-1)!.details).toEqual({ responseDueAt: T0 + 15 * MINUTE_MS, onTime: false });
    expect(service.overdue().map((o) => o.workOrder.id)).toEqual([complaint.id, general.id]);
  });
});

describe('list and counts', () => {
  it('filters by state, category, building, unit, source, assignee and pages newest first', () => {
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      now = T0 + i * MINUTE_MS;
      ids.push(leak({ building: i % 2 ? 'B2' : 'B1', unit: `1-1-${100 + i}`, category: i < 5 ? 'water-leak' : 'general' }).id);
    }
    service.act(ids[1]!, 'assign', DESK, { userId: ENGINEER });
    service.act(ids[2]!, 'assign', DESK, { teamId: PLUMBING });
    service.act(ids[3]!, 'acknowledge', ENGINEER);

    const page1 = service.list({ limit: 3 });
    expect(page1).toMatchObject({ total: 7, page: 1, limit: 3 });
    expect(page1.items.map((w) => w.id)).toEqual([ids[6], ids[5], ids[4]]);
    expect(service.list({ limit: 3, page: 3 }).items.map((w) => w.id)).toEqual([ids[0]]);
    expect(service.list({ building: 'B2' }).items.map((w) => w.id)).toEqual([ids[5], ids[3], ids[1]]);
    expect(service.list({ category: 'general' }).total).toBe(2);
    expect(service.list({ category: ['general', 'water-leak'] }).total).toBe(7);
    expect(service.list({ state: 'acknowledged' }).items.map((w) => w.id)).toEqual([ids[3]]);
    expect(service.list({ state: ['acknowledged', 'open'], building: 'B1' }).total).toBe(4);
    expect(service.list({ unit: '1-1-102' }).items.map((w) => w.id)).toEqual([ids[2]]);
    expect(service.list({ assigneeUserId: ENGINEER }).items.map((w) => w.id)).toEqual([ids[1]]);
    expect(service.list({ assigneeTeamId: PLUMBING }).items.map((w) => w.id)).toEqual([ids[2]]);
    expect(service.list({ source: 'alarm' }).total).toBe(0);

    expect(service.counts()).toEqual({
      total: 7,
      byState: { open: 6, acknowledged: 1, in_progress: 0, resolved: 0, callback_done: 0, closed: 0, reopened: 0 },
      openByCategory: { 'fire-safety': 0, 'water-leak': 5, electrical: 0, 'access-security': 0, general: 2, complaint: 0 },
      overdue: { response: 0, callback: 0 },
      leakTestPending: 0,
    });
  });

  it('rejects a bad page, limit or filter value with a message naming it', () => {
    expect(() => service.list({ page: 0 })).toThrow(/page must be a whole number from 1/);
    expect(() => service.list({ limit: 501 })).toThrow(/limit must be a whole number from 1 to 500/);
    expect(() => service.list({ state: 'done' as never })).toThrow(/state must be one of open, acknowledged/);
  });
});

describe('input errors', () => {
  it('are typed and say what to fix, leaving nothing behind', () => {
    expect(() => leak({ createdBy: 99 })).toThrow(new WorkOrderInputError('createdBy: user 99 does not exist'));
    expect(() => leak({ title: '  ' })).toThrow(/title must be a non-empty string/);
    expect(() => leak({ category: 'plumbing' as never })).toThrow(/category must be one of fire-safety, water-leak/);
    expect(() => service.create({ source: 'alarm' as never, category: 'general', priority: 'low', title: 't', building: 'B1', createdBy: DESK })).toThrow(/source must be one of manual/);
    expect(service.list().total).toBe(0);

    const wo = leak();
    expect(() => service.act(wo.id, 'acknowledge', 42)).toThrow(/by: user 42 does not exist/);
    expect(() => service.act(wo.id, 'assign', DESK, {})).toThrow(/assign needs userId or teamId/);
    expect(() => service.act(wo.id, 'assign', DESK, { teamId: 3 })).toThrow(/team 3 does not exist/);
    service.act(wo.id, 'acknowledge', ENGINEER);
    service.act(wo.id, 'start', ENGINEER);
    expect(() => service.act(wo.id, 'resolve', ENGINEER, { cost: -1 })).toThrow(/cost must be a non-negative amount/);
    expect(() => service.act(wo.id, 'resolve', ENGINEER, { cost: 1.005 })).toThrow(/more than 2 decimals/);
    expect(() => service.act(wo.id, 'resolve', ENGINEER, { leakTestAt: now + 1 })).toThrow(/in the future/);
    expect(() => service.act(wo.id, 'resolve', ENGINEER, { leakTestAt: T0 - 1 })).toThrow(/before this repair began/);
    const fire = service.create({ source: 'manual', category: 'fire-safety', priority: 'high', title: 'Smoke detector', building: 'B1', createdBy: DESK }).workOrder;
    service.act(fire.id, 'acknowledge', ENGINEER);
    service.act(fire.id, 'start', ENGINEER);
    expect(() => service.act(fire.id, 'resolve', ENGINEER, { leakTestAt: now })).toThrow(/leakTestAt applies to water-leak work orders only/);
    expect(service.get(wo.id)).toMatchObject({ state: 'in_progress', resolvedAt: null, cost: null });
    expect(service.get(wo.id).timeline).toHaveLength(3);

    const notFound = (() => {
      try {
        service.get(12345);
      } catch (err) {
        return err;
      }
    })();
    expect(notFound).toBeInstanceOf(WorkOrderNotFoundError);
    expect(notFound).toMatchObject({ statusCode: 404, message: 'work order 12345 does not exist' });
    expect(() => service.act(12345, 'start', ENGINEER)).toThrow(WorkOrderNotFoundError);
  });

  it('a failing change listener does not undo or break the change', () => {
    const noisy = new WorkOrderService({
      db,
      clock: () => now,
      onChange: () => {
        throw new Error('socket gone');
      },
    });
    const { workOrder } = noisy.create({ source: 'manual', category: 'general', priority: 'low', title: 'Bulb', building: 'B1', createdBy: DESK });
    expect(noisy.act(workOrder.id, 'acknowledge', ENGINEER).workOrder.state).toBe('acknowledged');
  });
});
