import { beforeAll, describe, expect, it } from 'vitest';
import { WorkOrderTransitionError } from '../server/work-orders/errors.ts';
import { WORK_ORDER_ACTIONS, WORK_ORDER_STATES, type ActionPayloads, type WorkOrderAction, type WorkOrderState } from '../server/work-orders/types.ts';
import type { WorkOrderQueries } from '../server/work-orders/work-order-queries.ts';
import type { WorkOrderService } from '../server/work-orders/work-order-service.ts';
import { workOrderFixture } from './fixtures/work-orders/service.ts';
import { describeRecords } from './harness/records.ts';

const T0 = Date.parse('2024-11-23T02:00:00Z');
let now = T0;
let service: WorkOrderService;
let queries: WorkOrderQueries;

/** Written out by hand, independently of TRANSITIONS: the state each action leads to, or null when refused. */
const EXPECTED: Record<WorkOrderState, Record<WorkOrderAction, WorkOrderState | null>> = {
  open: { acknowledge: 'acknowledged', assign: 'open', start: null, resolve: null, 'leak-test': null, callback: null, close: null, reopen: null },
  acknowledged: { acknowledge: null, assign: 'acknowledged', start: 'in_progress', resolve: null, 'leak-test': null, callback: null, close: null, reopen: null },
  in_progress: { acknowledge: null, assign: 'in_progress', start: null, resolve: 'resolved', 'leak-test': null, callback: null, close: null, reopen: null },
  resolved: { acknowledge: null, assign: null, start: null, resolve: null, 'leak-test': 'resolved', callback: 'callback_done', close: null, reopen: 'reopened' },
  callback_done: { acknowledge: null, assign: null, start: null, resolve: null, 'leak-test': null, callback: null, close: 'closed', reopen: 'reopened' },
  closed: { acknowledge: null, assign: null, start: null, resolve: null, 'leak-test': null, callback: null, close: null, reopen: 'reopened' },
  reopened: { acknowledge: 'acknowledged', assign: 'reopened', start: null, resolve: null, 'leak-test': null, callback: null, close: null, reopen: null },
};

const PAYLOADS: { [A in WorkOrderAction]: () => ActionPayloads[A] } = {
  acknowledge: () => ({ comment: 'on my way' }),
  assign: () => ({ teamId: 1, userId: 1 }),
  start: () => ({}),
  resolve: () => ({ leakTestAt: now, item: 'pipe joint', cost: 35.5 }),
  'leak-test': () => ({ leakTestAt: now }),
  callback: () => ({ outcome: 'satisfied' }),
  close: () => ({}),
  reopen: () => ({ comment: 'owner called again' }),
};

/** A water-leak work order (every action applies to that category) brought to `state` by real actions. */
async function workOrderIn(state: WorkOrderState): Promise<number> {
  const { workOrder } = await service.create({ source: 'manual', category: 'water-leak', priority: 'medium', title: 'Leak under sink', building: 'B1', unit: '1-2-301', createdBy: 1 });
  const path: Record<WorkOrderState, Array<[WorkOrderAction, object]>> = {
    open: [],
    acknowledged: [['acknowledge', {}]],
    in_progress: [['acknowledge', {}], ['start', {}]],
    resolved: [['acknowledge', {}], ['start', {}], ['resolve', { leakTestAt: now }]],
    callback_done: [['acknowledge', {}], ['start', {}], ['resolve', { leakTestAt: now }], ['callback', { outcome: 'satisfied' }]],
    closed: [['acknowledge', {}], ['start', {}], ['resolve', { leakTestAt: now }], ['callback', { outcome: 'satisfied' }], ['close', {}]],
    reopened: [['acknowledge', {}], ['start', {}], ['resolve', { leakTestAt: now }], ['callback', { outcome: 'problem' }]],
  };
  for (const [action, payload] of path[state]) await service.act(workOrder.id, action, 1, payload as never);
  expect((await queries.get(workOrder.id)).state).toBe(state);
  return workOrder.id;
}

const cases = WORK_ORDER_STATES.flatMap((state) => WORK_ORDER_ACTIONS.map((action) => ({ state, action, expected: EXPECTED[state][action] })));

describeRecords('work-order transition table', (backend) => {
  beforeAll(async () => {
    ({ service, queries } = await workOrderFixture({
      client: await backend.open(),
      clock: () => now,
      users: [{ id: 1, username: 'wang', role: 'engineer' }],
      teams: [{ id: 1, name: 'Plumbing' }],
    }));
  });

  it('covers every state and action', () => {
    expect(cases).toHaveLength(WORK_ORDER_STATES.length * WORK_ORDER_ACTIONS.length);
  });

  describe.each(cases)('$action from $state', ({ state, action, expected }) => {
    it(expected === null ? 'is refused with WorkOrderTransitionError and changes nothing' : `leads to ${expected}`, async () => {
      now += 60_000;
      const id = await workOrderIn(state);
      const before = await queries.get(id);
      const payload = PAYLOADS[action]() as never;
      if (expected === null) {
        const error = await service.act(id, action, 1, payload).catch((err: unknown) => err);
        expect(error).toBeInstanceOf(WorkOrderTransitionError);
        const e = error as WorkOrderTransitionError;
        expect(e.statusCode).toBe(409);
        expect(e.state).toBe(state);
        expect(e.message).toContain(`cannot ${action} in state ${state}`);
        expect(e.message).toContain(`allowed now: ${before.allowedActions.join(', ')}`);
        expect(await queries.get(id)).toEqual(before);
      } else {
        const { workOrder, event } = await service.act(id, action, 1, payload);
        expect(workOrder.state).toBe(expected);
        expect(event).toMatchObject({ action, fromState: state, toState: expected, by: 1, at: now });
        expect(before.allowedActions).toContain(action);
      }
    });
  });

  it('records a leak test only on water-leak work orders', async () => {
    const { workOrder } = await service.create({ source: 'manual', category: 'general', priority: 'low', title: 'Door hinge', building: 'B1', createdBy: 1 });
    await service.act(workOrder.id, 'acknowledge', 1, {});
    await service.act(workOrder.id, 'start', 1, {});
    await service.act(workOrder.id, 'resolve', 1, {});
    await expect(service.act(workOrder.id, 'leak-test', 1, { leakTestAt: now })).rejects.toThrow(/leak tests are recorded on water-leak work orders only/);
    expect((await queries.get(workOrder.id)).allowedActions).toEqual(['callback', 'reopen']);
  });

  it('calls a leak repair back only after its leak test', async () => {
    now += 60_000;
    const { workOrder } = await service.create({ source: 'manual', category: 'water-leak', priority: 'high', title: 'Ceiling drip', building: 'B2', createdBy: 1 });
    await service.act(workOrder.id, 'acknowledge', 1, {});
    await service.act(workOrder.id, 'start', 1, {});
    await service.act(workOrder.id, 'resolve', 1, { item: 'sealed riser' });
    expect(await queries.get(workOrder.id)).toMatchObject({ callbackStatus: 'leak-test-pending', callbackDueAt: null, allowedActions: ['leak-test', 'reopen'] });
    await expect(service.act(workOrder.id, 'callback', 1, { outcome: 'satisfied' })).rejects.toThrow(WorkOrderTransitionError);
    await expect(service.act(workOrder.id, 'callback', 1, { outcome: 'satisfied' })).rejects.toThrow(/after its leak test/);
    await service.act(workOrder.id, 'leak-test', 1, { leakTestAt: now });
    expect((await service.act(workOrder.id, 'callback', 1, { outcome: 'satisfied' })).workOrder.state).toBe('callback_done');
  });
});
