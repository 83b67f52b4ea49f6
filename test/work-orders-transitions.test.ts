import { beforeAll, describe, expect, it } from 'vitest';
import { WorkOrderTransitionError } from '../server/work-orders/errors.ts';
import { WORK_ORDER_ACTIONS, WORK_ORDER_STATES, type ActionPayloads, type WorkOrderAction, type WorkOrderState } from '../server/work-orders/types.ts';
import type { WorkOrderQueries } from '../server/work-orders/work-order-queries.ts';
import type { WorkOrderService } from '../server/work-orders/work-order-service.ts';
import { workOrderFixture } from './fixtures/work-orders/service.ts';
import { describeRecords } from './harness/records.ts';

const T0 = Date.parse('2024-11-23T02:00:00Z');
let now = T0;
const REPAIRER = 1;
const CHECKER = 2;
let service: WorkOrderService;
let queries: WorkOrderQueries;

/**
 * Written out by hand, independently of TRANSITIONS: the state each action leads to, or null when
 * refused, for the work order the case uses (see kindFor): a repair request, a complaint for
 * `reply`, a work order with no owner for `verify` (but from `callback_done`) and in state `verified`.
 */
const EXPECTED: Record<WorkOrderState, Record<WorkOrderAction, WorkOrderState | null>> = {
  open: { acknowledge: 'acknowledged', assign: 'open', start: null, resolve: null, 'leak-test': null, 'quality-check': null, reply: 'open', callback: null, verify: null, escalate: 'open', close: null, reopen: null },
  acknowledged: { acknowledge: null, assign: 'acknowledged', start: 'in_progress', resolve: null, 'leak-test': null, 'quality-check': null, reply: 'acknowledged', callback: null, verify: null, escalate: 'acknowledged', close: null, reopen: null },
  in_progress: { acknowledge: null, assign: 'in_progress', start: null, resolve: 'resolved', 'leak-test': null, 'quality-check': null, reply: 'in_progress', callback: null, verify: null, escalate: 'in_progress', close: null, reopen: null },
  resolved: { acknowledge: null, assign: null, start: null, resolve: null, 'leak-test': 'resolved', 'quality-check': 'quality_checked', reply: 'resolved', callback: null, verify: null, escalate: 'resolved', close: null, reopen: 'reopened' },
  quality_checked: { acknowledge: null, assign: null, start: null, resolve: null, 'leak-test': 'quality_checked', 'quality-check': null, reply: 'quality_checked', callback: 'callback_done', verify: 'verified', escalate: 'quality_checked', close: null, reopen: 'reopened' },
  callback_done: { acknowledge: null, assign: null, start: null, resolve: null, 'leak-test': null, 'quality-check': null, reply: 'callback_done', callback: null, verify: null, escalate: 'callback_done', close: 'closed', reopen: 'reopened' },
  verified: { acknowledge: null, assign: null, start: null, resolve: null, 'leak-test': null, 'quality-check': null, reply: null, callback: null, verify: null, escalate: 'verified', close: 'closed', reopen: 'reopened' },
  closed: { acknowledge: null, assign: null, start: null, resolve: null, 'leak-test': null, 'quality-check': null, reply: null, callback: null, verify: null, escalate: null, close: null, reopen: 'reopened' },
  reopened: { acknowledge: 'acknowledged', assign: 'reopened', start: null, resolve: null, 'leak-test': null, 'quality-check': null, reply: 'reopened', callback: null, verify: null, escalate: 'reopened', close: null, reopen: null },
};

const PAYLOADS: { [A in WorkOrderAction]: () => ActionPayloads[A] } = {
  acknowledge: () => ({ comment: 'on my way' }),
  assign: () => ({ teamId: 1, userId: 1 }),
  start: () => ({}),
  resolve: () => ({ leakTestAt: now, item: 'pipe joint', cost: 35.5 }),
  'leak-test': () => ({ leakTestAt: now }),
  'quality-check': () => ({ result: 'pass' }),
  reply: () => ({ comment: 'the plumber comes tomorrow morning' }),
  callback: () => ({ outcome: 'satisfied', satisfaction: 'satisfied' }),
  verify: () => ({ result: 'ok' }),
  escalate: () => ({ comment: 'the riser needs the water company' }),
  close: () => ({}),
  reopen: () => ({ comment: 'owner called again' }),
};

type Kind = 'owner' | 'complaint' | 'internal';
const kindFor = (state: WorkOrderState, action: WorkOrderAction): Kind =>
  state === 'verified' || (action === 'verify' && state !== 'callback_done') ? 'internal' : action === 'reply' ? 'complaint' : 'owner';
/** The repairer does the work; someone else checks it, calls the owner back or verifies it. */
const byFor = (action: WorkOrderAction): number => (['quality-check', 'callback', 'verify'].includes(action) ? CHECKER : REPAIRER);

/** A water-leak work order (every action applies to that category) of the kind, brought to `state` by real actions. */
async function workOrderIn(state: WorkOrderState, kind: Kind): Promise<number> {
  const source = kind === 'owner' ? 'manual' : kind === 'complaint' ? 'complaint' : 'inspection';
  const { workOrder } = await service.create({
    source,
    category: 'water-leak',
    priority: 'medium',
    title: 'Leak under sink',
    building: 'B1',
    unit: '1-2-301',
    createdBy: 1,
    ...(kind === 'complaint' && { complaintType: 'valid' as const }),
  });
  const repaired: Array<[WorkOrderAction, object]> = [['acknowledge', {}], ['start', {}], ['resolve', { leakTestAt: now }], ['quality-check', { result: 'pass' }]];
  const followUp: [WorkOrderAction, object] = kind === 'internal' ? ['verify', { result: 'ok' }] : ['callback', { outcome: 'satisfied', satisfaction: 'satisfied' }];
  const path: Record<WorkOrderState, Array<[WorkOrderAction, object]>> = {
    open: [],
    acknowledged: repaired.slice(0, 1),
    in_progress: repaired.slice(0, 2),
    resolved: repaired.slice(0, 3),
    quality_checked: repaired,
    callback_done: [...repaired, followUp],
    verified: [...repaired, followUp],
    closed: [...repaired, followUp, ['close', {}]],
    reopened: [...repaired, ['reopen', {}]],
  };
  if (kind === 'complaint') await service.act(workOrder.id, 'reply', CHECKER, { comment: 'we have your complaint' });
  for (const [action, payload] of path[state]) await service.act(workOrder.id, action, byFor(action), payload as never);
  expect((await queries.get(workOrder.id)).state).toBe(state);
  return workOrder.id;
}

const cases = WORK_ORDER_STATES.flatMap((state) => WORK_ORDER_ACTIONS.map((action) => ({ state, action, expected: EXPECTED[state][action] })));

describeRecords('work-order transition table', (backend) => {
  beforeAll(async () => {
    ({ service, queries } = await workOrderFixture({
      client: await backend.open(),
      clock: () => now,
      users: [
        { id: REPAIRER, username: 'wang', role: 'engineer' },
        { id: CHECKER, username: 'chen', role: 'service-desk' },
      ],
      teams: [{ id: 1, name: 'Plumbing' }],
    }));
  });

  it('covers every state and action', () => {
    expect(cases).toHaveLength(WORK_ORDER_STATES.length * WORK_ORDER_ACTIONS.length);
  });

  describe.each(cases)('$action from $state', ({ state, action, expected }) => {
    it(expected === null ? 'is refused with WorkOrderTransitionError and changes nothing' : `leads to ${expected}`, async () => {
      now += 60_000;
      const id = await workOrderIn(state, kindFor(state, action));
      const before = await queries.get(id);
      const payload = PAYLOADS[action]() as never;
      if (expected === null) {
        const error = await service.act(id, action, byFor(action), payload).catch((err: unknown) => err);
        expect(error).toBeInstanceOf(WorkOrderTransitionError);
        const e = error as WorkOrderTransitionError;
        expect(e.statusCode).toBe(409);
        expect(e.state).toBe(state);
        expect(e.message).toContain(`cannot ${action} in state ${state}`);
        expect(e.message).toContain(`allowed now: ${before.allowedActions.join(', ')}`);
        expect(await queries.get(id)).toEqual(before);
      } else {
        const { workOrder, event } = await service.act(id, action, byFor(action), payload);
        expect(workOrder.state).toBe(expected);
        expect(event).toMatchObject({ action, fromState: state, toState: expected, by: byFor(action), at: now });
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
    expect((await queries.get(workOrder.id)).allowedActions).toEqual(['quality-check', 'escalate', 'reopen']);
    await service.act(workOrder.id, 'quality-check', CHECKER, { result: 'pass' });
    expect((await queries.get(workOrder.id)).allowedActions).toEqual(['callback', 'escalate', 'reopen']);
  });

  it('follows a leak repair up only after its leak test', async () => {
    now += 60_000;
    const { workOrder } = await service.create({ source: 'manual', category: 'water-leak', priority: 'high', title: 'Ceiling drip', building: 'B2', createdBy: 1 });
    await service.act(workOrder.id, 'acknowledge', 1, {});
    await service.act(workOrder.id, 'start', 1, {});
    await service.act(workOrder.id, 'resolve', 1, { item: 'sealed riser' });
    await service.act(workOrder.id, 'quality-check', CHECKER, { result: 'pass' });
    expect(await queries.get(workOrder.id)).toMatchObject({ callbackStatus: 'leak-test-pending', callbackDueAt: null, allowedActions: ['leak-test', 'escalate', 'reopen'] });
    const payload = { outcome: 'satisfied', satisfaction: 'satisfied' } as const;
    await expect(service.act(workOrder.id, 'callback', CHECKER, payload)).rejects.toThrow(WorkOrderTransitionError);
    await expect(service.act(workOrder.id, 'callback', CHECKER, payload)).rejects.toThrow(/after its leak test/);
    await service.act(workOrder.id, 'leak-test', 1, { leakTestAt: now });
    expect((await service.act(workOrder.id, 'callback', CHECKER, payload)).workOrder.state).toBe('callback_done');
  });

  it('calls back work for an owner and verifies work with no owner, never the other way round', async () => {
    const owner = await workOrderIn('quality_checked', 'owner');
    const internal = await workOrderIn('quality_checked', 'internal');
    await expect(service.act(owner, 'verify', CHECKER, { result: 'ok' })).rejects.toThrow(/called back by customer service, not verified internally/);
    await expect(service.act(internal, 'callback', CHECKER, { outcome: 'satisfied', satisfaction: 'satisfied' })).rejects.toThrow(/no owner to call back/);
  });

  it('replies only to complaints, and closes a complaint only once it was answered', async () => {
    const repair = await workOrderIn('open', 'owner');
    await expect(service.act(repair, 'reply', CHECKER, { comment: 'x' })).rejects.toThrow(/replies are to complaints/);
    const { workOrder } = await service.create({ source: 'complaint', complaintType: 'enquiry', category: 'complaint', priority: 'low', title: 'Why is the pool shut?', building: 'B1', createdBy: 1 });
    for (const [action, payload] of [['acknowledge', {}], ['start', {}], ['resolve', {}]] as const) await service.act(workOrder.id, action, REPAIRER, payload);
    await service.act(workOrder.id, 'quality-check', CHECKER, { result: 'pass' });
    await service.act(workOrder.id, 'callback', CHECKER, { outcome: 'satisfied', satisfaction: 'basically-satisfied' });
    await expect(service.act(workOrder.id, 'close', CHECKER, {})).rejects.toThrow(/a complaint is answered before it is closed/);
    await service.act(workOrder.id, 'reply', CHECKER, { comment: 'the pool reopens in May' });
    expect((await service.act(workOrder.id, 'close', CHECKER, {})).workOrder.state).toBe('closed');
  });
});
