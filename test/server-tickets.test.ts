import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { describeRecords } from './harness/records.ts';
import { smallSite, startTestServer, type TestServer } from './harness/server-app.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.parse('2025-03-03T01:00:00Z');

// Demo accounts in creation order: ids 1..4.
const ADMIN = { name: 'demo', id: 1 };
const ENGINEER = { name: 'demo-engineer', id: 2 };
const DESK = { name: 'demo-desk', id: 3 };
const SUPERVISOR = { name: 'demo-eng-supervisor', id: 6 };

let server: TestServer;
let now = T0;

describeRecords('tickets', (backend) => {
  beforeAll(async () => {
    now = T0;
    server = await startTestServer({ site: smallSite(true), clock: () => now, ...(await backend.serverOptions()) });
  });
  afterAll(async () => {
  await server?.close();
  });

  const call = async (user: string, options: InjectOptions) => server.as(user, options);
  const create = async (payload: Record<string, unknown>, user = DESK.name) => {
  const res = await call(user, { method: 'POST', url: '/api/tickets', payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
  };
  const act = async (id: number, action: string, user: string, payload: Record<string, unknown> = {}) => {
  const res = await call(user, { method: 'POST', url: `/api/tickets/${id}/${action}`, payload });
  expect(res.statusCode, `${action}: ${res.body}`).toBe(200);
  return res.json();
  };
  const get = async (id: number) => (await call(ADMIN.name, { url: `/api/tickets/${id}` })).json();

  describe('creating tickets', () => {
  it('records a manual repair call with its response deadline and a create entry', async () => {
    now = T0;
    const t = await create({ title: 'Water through ceiling', building: 'B1', unit: 'B1-0101', category: 'water-leak', priority: 'high', reporter: 'Ms Li 138-0000-0000', comment: 'called the 24-hour line' });
    expect(t).toMatchObject({
      source: 'manual',
      category: 'water-leak',
      priority: 'high',
      state: 'open',
      building: 'B1',
      unit: 'B1-0101',
      reporter: 'Ms Li 138-0000-0000',
      createdBy: DESK.id,
      createdAt: T0,
      responseDueAt: T0 + 30 * MINUTE,
      callbackDueAt: null,
      callbackStatus: 'not-resolved',
      followUp: 'callback',
      escalationLevel: 0,
      allowedActions: ['acknowledge', 'assign', 'escalate'],
    });
    expect(t.timeline).toEqual([
      expect.objectContaining({ action: 'create', by: DESK.id, byName: expect.stringContaining('Demo Service Desk'), at: T0, comment: 'called the 24-hour line', fromState: null, toState: 'open' }),
    ]);
  });

  it('records a complaint: its type, category complaint, a reply due 72 hours after it, the callback after the fix', async () => {
    now = T0 + 5 * MINUTE;
    const t = await create({ source: 'complaint', complaintType: 'valid', title: 'Guard was rude at the gate', building: 'B2', reporter: 'Mr Zhang' });
    expect(t).toMatchObject({ source: 'complaint', complaintType: 'valid', category: 'complaint', priority: 'medium', replyDueAt: now + 72 * HOUR, repliedAt: null, callbackDueAt: null, followUp: 'callback' });
    const untyped = await call(DESK.name, { method: 'POST', url: '/api/tickets', payload: { source: 'complaint', title: 'x', building: 'B2' } });
    expect(untyped.statusCode).toBe(400);
    expect(untyped.json()).toMatchObject({ field: 'complaintType', message: expect.stringMatching(/^complaintType: a complaint needs its type/) });
  });

  it('records "lift stuck, people trapped" as a critical lift ticket with the safety deadlines', async () => {
    now = T0;
    const t = await create({ title: 'Lift stuck, people trapped', building: 'B1', category: 'lift', peopleTrapped: true, reporter: 'guard on duty' });
    expect(t).toMatchObject({ category: 'lift', priority: 'critical', peopleTrapped: true, responseDueAt: T0 + 5 * MINUTE, followUp: 'callback' });
    for (const action of ['acknowledge', 'start', 'resolve']) {
      now += MINUTE;
      await act(t.id, action, ENGINEER.name);
    }
    expect((await get(t.id)).callbackDueAt).toBe(now + 2 * DAY);
  });

  it('needs a category for a manual ticket, and a building, unit and device of the estate', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ title: 'x', building: 'B1' }, 'category'],
      [{ title: 'x', building: 'B9', category: 'general' }, 'building'],
      [{ title: 'x', building: 'B1', unit: 'B2-0101', category: 'general' }, 'unit'],
      [{ title: 'x', building: 'B1', deviceId: 'B2-sos', category: 'general' }, 'deviceId'],
    ];
    for (const [payload, field] of cases) {
      const res = await call(DESK.name, { method: 'POST', url: '/api/tickets', payload });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().field).toBe(field);
      expect(res.json().message).toMatch(new RegExp(`^${field}: `));
    }
  });
  });

  describe('acting on tickets', () => {
  it('puts every action in the timeline with who, when and the comment', async () => {
    now = T0;
    const t = await create({ title: 'Leak under sink', building: 'B1', unit: 'B1-0102', category: 'water-leak', comment: 'owner phoned' });
    const steps: Array<[string, { name: string; id: number }, number, Record<string, unknown>, string]> = [
      ['acknowledge', ENGINEER, 5 * MINUTE, { comment: 'on my way' }, 'acknowledged'],
      ['assign', ADMIN, MINUTE, { userId: ENGINEER.id, comment: 'Wang is on duty' }, 'acknowledged'],
      ['start', ENGINEER, 20 * MINUTE, { comment: 'on site' }, 'in_progress'],
      ['resolve', ENGINEER, 2 * HOUR, { item: 'replaced trap seal', cost: 35.5, comment: 'seal perished' }, 'resolved'],
      ['quality-check', SUPERVISOR, HOUR, { result: 'pass', comment: 'checked under the sink' }, 'quality_checked'],
      ['leak-test', ENGINEER, DAY, { leakTestAt: T0 + DAY, comment: '24 h test dry' }, 'quality_checked'],
      ['callback', DESK, HOUR, { outcome: 'satisfied', satisfaction: 'satisfied', comment: 'owner content' }, 'callback_done'],
      ['close', DESK, MINUTE, { comment: 'filed' }, 'closed'],
      ['reopen', ENGINEER, DAY, { comment: 'drip is back' }, 'reopened'],
    ];
    const times: number[] = [];
    for (const [action, user, advance, payload, state] of steps) {
      now += advance;
      times.push(now);
      const change = await act(t.id, action, user.name, payload);
      expect(change.ticket.state).toBe(state);
      expect(change.event).toMatchObject({ action, by: user.id, at: now, comment: payload.comment, toState: state });
    }
    const full = await get(t.id);
    expect(full.timeline.map((e: { action: string; by: number; at: number; comment: string }) => [e.action, e.by, e.at, e.comment])).toEqual([
      ['create', DESK.id, T0, 'owner phoned'],
      ...steps.map(([action, user, , payload], i) => [action, user.id, times[i], payload.comment]),
    ]);
    expect(full.timeline.every((e: { byName: string | null }) => typeof e.byName === 'string' && e.byName.length > 0)).toBe(true);
    expect(full).toMatchObject({ reopenCount: 1, assigneeUserId: ENGINEER.id });
    expect(full.timeline[4].details).toMatchObject({ item: 'replaced trap seal', cost: 35.5 });
    expect(full.timeline[7].details).toMatchObject({ outcome: 'satisfied', satisfaction: 'satisfied', method: 'phone' });
  });

  it('answers 409 naming the allowed actions for a transition the state does not allow', async () => {
    now = T0;
    const leak = await create({ title: 'Dripping riser', building: 'B1', category: 'water-leak' });
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['start', {}, /cannot start in state open.*allowed now: acknowledge, assign, escalate/],
      ['close', {}, /cannot close in state open/],
      ['callback', { outcome: 'satisfied' }, /cannot callback in state open/],
      ['leak-test', { leakTestAt: T0 }, /cannot leak-test in state open/],
    ];
    for (const [action, payload, message] of cases) {
      const res = await call(ADMIN.name, { method: 'POST', url: `/api/tickets/${leak.id}/${action}`, payload });
      expect(res.statusCode, `${action}: ${res.body}`).toBe(409);
      expect(res.json()).toMatchObject({ error: 'Conflict', message: expect.stringMatching(message) });
    }
    await act(leak.id, 'acknowledge', ENGINEER.name);
    await act(leak.id, 'start', ENGINEER.name);
    await act(leak.id, 'resolve', ENGINEER.name);
    const unchecked = await call(DESK.name, { method: 'POST', url: `/api/tickets/${leak.id}/callback`, payload: { outcome: 'satisfied', satisfaction: 'satisfied' } });
    expect(unchecked.statusCode).toBe(409);
    expect(unchecked.json().message).toMatch(/cannot callback in state resolved \(callback is allowed from quality_checked\)/);
    await act(leak.id, 'quality-check', SUPERVISOR.name, { result: 'pass' });
    const early = await call(DESK.name, { method: 'POST', url: `/api/tickets/${leak.id}/callback`, payload: { outcome: 'satisfied', satisfaction: 'satisfied' } });
    expect(early.statusCode).toBe(409);
    expect(early.json().message).toMatch(/after its leak test/);
    expect((await get(leak.id)).timeline).toHaveLength(5);
  });

  it('answers 404 for a ticket that does not exist', async () => {
    for (const [method, url] of [['GET', '/api/tickets/999999'], ['POST', '/api/tickets/999999/acknowledge']] as const) {
      const res = await call(ADMIN.name, { method, url, ...(method === 'POST' ? { payload: {} } : {}) });
      expect(res.statusCode).toBe(404);
      expect(res.json().message).toMatch(/999999 does not exist/);
    }
  });

  it('an engineer cannot record the callback of a repair; whoever repaired it cannot either', async () => {
    now = T0;
    const t = await create({ title: 'Kitchen socket dead', building: 'B1', unit: 'B1-0101', category: 'electrical' });
    for (const action of ['acknowledge', 'start']) await act(t.id, action, ENGINEER.name);
    await act(t.id, 'resolve', ADMIN.name, { item: 'socket replaced' });
    const ownCheck = await call(ADMIN.name, { method: 'POST', url: `/api/tickets/${t.id}/quality-check`, payload: { result: 'pass' } });
    expect(ownCheck.statusCode).toBe(403);
    await act(t.id, 'quality-check', SUPERVISOR.name, { result: 'pass' });
    const payload = { outcome: 'satisfied', satisfaction: 'satisfied' };
    const byEngineer = await call(ENGINEER.name, { method: 'POST', url: `/api/tickets/${t.id}/callback`, payload });
    expect(byEngineer.statusCode).toBe(403);
    expect(byEngineer.json().message).toMatch(/engineer may not do this/);
    const byRepairer = await call(ADMIN.name, { method: 'POST', url: `/api/tickets/${t.id}/callback`, payload });
    expect(byRepairer.statusCode).toBe(403);
    expect(byRepairer.json().message).toMatch(/made by customer service, not by who repaired it/);
    expect((await get(t.id)).state).toBe('quality_checked');
    expect((await act(t.id, 'callback', DESK.name, payload)).ticket.state).toBe('callback_done');
  });

  it('writes nothing when an action is refused', async () => {
    now = T0;
    const t = await create({ title: 'Stair light', building: 'B1', category: 'electrical' });
    const before = await get(t.id);
    const res = await call(ADMIN.name, { method: 'POST', url: `/api/tickets/${t.id}/assign`, payload: { userId: 4242, teamId: null } });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/user 4242 does not exist/);
    expect(await get(t.id)).toEqual(before);
  });
  });

  describe('malformed requests get 400 naming the field', () => {
  let id: number;
  beforeAll(async () => {
    id = (await create({ title: 'For malformed requests', building: 'B1', category: 'general' })).id;
  });

  const cases: Array<[string, 'GET' | 'POST', string, unknown, string]> = [
    ['title missing', 'POST', '/api/tickets', { building: 'B1', category: 'general' }, 'title'],
    ['title empty', 'POST', '/api/tickets', { title: '', building: 'B1', category: 'general' }, 'title'],
    ['title too long', 'POST', '/api/tickets', { title: 'x'.repeat(201), building: 'B1', category: 'general' }, 'title'],
    ['title blank', 'POST', '/api/tickets', { title: '   ', building: 'B1', category: 'general' }, 'title'],
    ['detail too long', 'POST', '/api/tickets', { title: 'x', detail: 'x'.repeat(4001), building: 'B1', category: 'general' }, 'detail'],
    ['reporter too long', 'POST', '/api/tickets', { title: 'x', reporter: 'x'.repeat(201), building: 'B1', category: 'general' }, 'reporter'],
    ['unknown category', 'POST', '/api/tickets', { title: 'x', building: 'B1', category: 'plumbing' }, 'category'],
    ['unknown priority', 'POST', '/api/tickets', { title: 'x', building: 'B1', category: 'general', priority: 'urgent' }, 'priority'],
    ['source alarm is not for people', 'POST', '/api/tickets', { title: 'x', building: 'B1', category: 'general', source: 'alarm' }, 'source'],
    ['misspelt field', 'POST', '/api/tickets', { title: 'x', building: 'B1', category: 'general', detial: 'typo' }, 'detial'],
    ['building is a number', 'POST', '/api/tickets', { title: 'x', building: 7, category: 'general' }, 'building'],
    ['callback without outcome', 'POST', '/api/tickets/{id}/callback', { comment: 'rang' }, 'outcome'],
    ['callback outcome unknown', 'POST', '/api/tickets/{id}/callback', { outcome: 'happy' }, 'outcome'],
    ['callback satisfaction unknown', 'POST', '/api/tickets/{id}/callback', { outcome: 'satisfied', satisfaction: 'thrilled' }, 'satisfaction'],
    ['reply without what was said', 'POST', '/api/tickets/{id}/reply', {}, 'comment'],
    ['escalate without why', 'POST', '/api/tickets/{id}/escalate', { comment: '  ' }, 'comment'],
    ['quality check without result', 'POST', '/api/tickets/{id}/quality-check', {}, 'result'],
    ['unknown complaint type', 'POST', '/api/tickets', { title: 'x', building: 'B1', source: 'complaint', complaintType: 'rant' }, 'complaintType'],
    ['people trapped not a boolean', 'POST', '/api/tickets', { title: 'x', building: 'B1', category: 'lift', peopleTrapped: 'yes' }, 'peopleTrapped'],
    ['escalated level too high', 'GET', '/api/tickets?escalated=4', undefined, 'escalated'],
    ['leak test time as text', 'POST', '/api/tickets/{id}/leak-test', { leakTestAt: 'yesterday' }, 'leakTestAt'],
    ['negative cost', 'POST', '/api/tickets/{id}/resolve', { cost: -1 }, 'cost'],
    ['cost with more than 2 decimals', 'POST', '/api/tickets/{id}/resolve', { cost: 1.005 }, 'cost'],
    ['cost beyond any repair', 'POST', '/api/tickets/{id}/resolve', { cost: 1e300 }, 'cost'],
    ['repair item too long', 'POST', '/api/tickets/{id}/resolve', { item: 'x'.repeat(501) }, 'item'],
    ['leak test before 1970', 'POST', '/api/tickets/{id}/leak-test', { leakTestAt: -1 }, 'leakTestAt'],
    ['assign to nobody', 'POST', '/api/tickets/{id}/assign', { comment: 'who?' }, 'userId'],
    ['assign to a name', 'POST', '/api/tickets/{id}/assign', { userId: 'wang' }, 'userId'],
    ['comment too long', 'POST', '/api/tickets/{id}/acknowledge', { comment: 'x'.repeat(4001) }, 'comment'],
    ['id not a number', 'GET', '/api/tickets/abc', undefined, 'id'],
    ['page zero', 'GET', '/api/tickets?page=0', undefined, 'page'],
    ['limit too high', 'GET', '/api/tickets?limit=501', undefined, 'limit'],
    ['unknown state filter', 'GET', '/api/tickets?state=done', undefined, 'state.0'],
    ['overdue not a boolean', 'GET', '/api/tickets?overdue=maybe', undefined, 'overdue'],
  ];

  it.each(cases)('%s', async (_name, method, url, payload, field) => {
    const res = await call(ADMIN.name, { method, url: url.replace('{id}', String(id)), ...(payload === undefined ? {} : { payload: payload as object }) });
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json();
    expect(body.error).toBe('Bad Request');
    expect(body.field).toBe(field);
    expect(body.message).toContain(field);
  });

  it('says why a blank title or a fraction of a cent is refused; a cost of 0.1 + 0.2 is 0.30', async () => {
    const blank = await call(DESK.name, { method: 'POST', url: '/api/tickets', payload: { title: ' \t ', building: 'B1', category: 'general' } });
    expect(blank.json().message).toBe('title: must not be blank');
    const cents = await call(ENGINEER.name, { method: 'POST', url: `/api/tickets/${id}/resolve`, payload: { cost: 12.345 } });
    expect(cents.json().message).toBe('cost: must have at most 2 decimals');
    now = T0;
    const t = await create({ title: 'Tap washer', building: 'B1', category: 'general' });
    await act(t.id, 'acknowledge', ENGINEER.name);
    await act(t.id, 'start', ENGINEER.name);
    expect((await act(t.id, 'resolve', ENGINEER.name, { cost: 0.1 + 0.2 })).ticket.cost).toBe(0.3);
  });

  it('a body that is not JSON is a 400 too', async () => {
    const res = await call(ADMIN.name, { method: 'POST', url: '/api/tickets', payload: '{"title": ', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('Bad Request');
  });
  });

  describe('listing tickets', () => {
  it('filters by state, category, building and assignee, newest first, paged', async () => {
    now = T0 + 10 * DAY;
    const a = await create({ title: 'List A', building: 'B2', category: 'access-security' });
    now += MINUTE;
    const b = await create({ title: 'List B', building: 'B2', category: 'access-security' });
    await act(b.id, 'assign', ADMIN.name, { userId: ENGINEER.id });
    await act(a.id, 'acknowledge', ENGINEER.name);

    const list = async (query: string, user = ADMIN.name) => (await call(user, { url: `/api/tickets?${query}` })).json();
    expect((await list('building=B2&category=access-security')).items.map((t: { id: number }) => t.id)).toEqual([b.id, a.id]);
    expect((await list('building=B2&category=access-security&state=acknowledged')).items.map((t: { id: number }) => t.id)).toEqual([a.id]);
    expect((await list('building=B2&category=access-security&state=open&state=acknowledged')).total).toBe(2);
    expect((await list('building=B2&category=access-security&assignee=me', ENGINEER.name)).items.map((t: { id: number }) => t.id)).toEqual([b.id]);
    expect((await list(`building=B2&category=access-security&assignee=${ENGINEER.id}`)).items.map((t: { id: number }) => t.id)).toEqual([b.id]);
    const page = await list('building=B2&category=access-security&limit=1&page=2');
    expect(page).toMatchObject({ total: 2, page: 2, limit: 1 });
    expect(page.items.map((t: { id: number }) => t.id)).toEqual([a.id]);
  });
  });

  describe('deadlines per category (domain rules 3 and 4)', () => {
  // [category, what to do after creation: [action, advance ms, body], callback due relative to creation]
  const rules: Array<[string, Record<string, unknown>, Array<[string, number, Record<string, unknown>]>, number, string]> = [
    [
      'leak repair: within 3 days after the leak test',
      { category: 'water-leak' },
      [
        ['acknowledge', 10 * MINUTE, {}],
        ['start', 10 * MINUTE, {}],
        ['resolve', 2 * HOUR, {}],
        ['leak-test', 6 * HOUR, { leakTestAt: T0 + 8 * HOUR }],
      ],
      8 * HOUR + 3 * DAY,
      'water-leak',
    ],
    [
      'safety-facility repair: within 2 days of the repair',
      { category: 'fire-safety' },
      [
        ['acknowledge', 5 * MINUTE, {}],
        ['start', 5 * MINUTE, {}],
        ['resolve', HOUR, {}],
      ],
      70 * MINUTE + 2 * DAY,
      'fire-safety',
    ],
    [
      'other repair: within 2 days of the repair',
      { category: 'general' },
      [
        ['acknowledge', HOUR, {}],
        ['start', HOUR, {}],
        ['resolve', HOUR, {}],
      ],
      3 * HOUR + 2 * DAY,
      'general',
    ],
    [
      'complaint: the callback 2 days after the fix, the reply 72 hours after the complaint',
      { source: 'complaint', complaintType: 'help' },
      [
        ['acknowledge', HOUR, {}],
        ['start', HOUR, {}],
        ['resolve', HOUR, {}],
      ],
      3 * HOUR + 2 * DAY,
      'complaint',
    ],
  ];

  it.each(rules)('%s', async (_name, body, actions, callbackDue, category) => {
    const start = T0 + 20 * DAY;
    now = start;
    const t = await create({ title: `Deadline ${category}`, building: 'B1', ...body });
    expect(t.category).toBe(category);
    for (const [action, advance, payload] of actions) {
      now += advance;
      const leakTestAt = payload.leakTestAt === undefined ? {} : { leakTestAt: (payload.leakTestAt as number) - T0 + start };
      await act(t.id, action, ENGINEER.name, { ...payload, ...leakTestAt });
    }
    const after = await get(t.id);
    expect(after.callbackDueAt).toBe(start + callbackDue);
    expect(after.callbackStatus).toBe('due');
    expect(after.replyDueAt).toBe(category === 'complaint' ? start + 72 * HOUR : null);
  });

  it('a resolved leak repair has no callback due until its leak test', async () => {
    now = T0 + 30 * DAY;
    const t = await create({ title: 'Pipe joint', building: 'B1', category: 'water-leak' });
    await act(t.id, 'acknowledge', ENGINEER.name);
    await act(t.id, 'start', ENGINEER.name);
    const resolved = await act(t.id, 'resolve', ENGINEER.name);
    expect(resolved.ticket).toMatchObject({ callbackDueAt: null, callbackStatus: 'leak-test-pending' });
  });
  });

  describe('overdue callbacks', () => {
  let clean: TestServer;
  let at = T0;
  beforeAll(async () => {
      clean = await startTestServer({ site: smallSite(true), clock: () => at, ...(await backend.serverOptions()) });
  });
  afterAll(async () => {
    await clean?.close();
  });

  const overdueGauge = async (kind: string): Promise<number> => {
    const text = (await clean.app.inject({ url: '/metrics' })).body;
    const m = new RegExp(`^fm_work_orders_overdue\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text);
    expect(m, text).not.toBeNull();
    return Number(m![1]);
  };

  it('shows in /api/tickets?overdue=true and in /metrics once the 2 days have passed, and leaves when the callback is made', async () => {
    at = Date.parse('2025-03-03T10:00:00+08:00');
    const t = (await clean.as(DESK.name, { method: 'POST', url: '/api/tickets', payload: { title: 'Corridor light', building: 'B1', category: 'general' } })).json();
    for (const action of ['acknowledge', 'start', 'resolve']) {
      at += 10 * MINUTE;
      expect((await clean.as(ENGINEER.name, { method: 'POST', url: `/api/tickets/${t.id}/${action}`, payload: {} })).statusCode).toBe(200);
    }
    const resolvedAt = at;
    expect((await clean.as(SUPERVISOR.name, { method: 'POST', url: `/api/tickets/${t.id}/quality-check`, payload: { result: 'pass' } })).statusCode).toBe(200);
    const overdueIds = async (flag: boolean) =>
      ((await clean.as(DESK.name, { url: `/api/tickets?overdue=${flag}` })).json().items as Array<{ id: number; overdue: string[] }>).map((x) => [x.id, x.overdue]);

    at = resolvedAt + 2 * DAY;
    expect(await overdueIds(true)).toEqual([]);
    expect(await overdueGauge('callback')).toBe(0);

    at = resolvedAt + 2 * DAY + 1;
    expect(await overdueIds(true)).toEqual([[t.id, ['callback']]]);
    expect(await overdueIds(false)).toEqual([]);
    expect(await overdueGauge('callback')).toBe(1);
    expect(await overdueGauge('response')).toBe(0);
    const metrics = (await clean.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^fm_work_orders_open\{category="general"\} 1$/m);

    at += HOUR;
    const callback = await clean.as(DESK.name, { method: 'POST', url: `/api/tickets/${t.id}/callback`, payload: { outcome: 'satisfied', satisfaction: 'basically-satisfied', comment: 'late, but content' } });
    expect(callback.json().event.details).toMatchObject({ onTime: false });
    expect(await overdueIds(true)).toEqual([]);
    expect(await overdueGauge('callback')).toBe(0);
  });
  });
});
