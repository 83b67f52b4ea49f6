import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteConfigError } from '../common/site/load.ts';
import { buildApp } from '../server/app.ts';
import { dashboard, type Recorder } from './fixtures/server-live/stack.ts';
import { waitFor } from './harness/ports.ts';
import { smallSite, startTestServer, testEnvironment, type TestServer } from './harness/server-app.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2025-03-03T10:00:00+08:00');

/** A local HTTP server standing in for the SMS gateway: records every POST; answers each with the next status given, then 200. */
async function webhookReceiver(): Promise<{ url: string; received: Array<{ headers: IncomingHttpHeaders; body: any }>; answers: number[]; close(): Promise<void> }> {
  const received: Array<{ headers: IncomingHttpHeaders; body: any }> = [];
  const answers: number[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text) });
      res.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`,
    received,
    answers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('escalation and paging through the webhook', () => {
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  let server: TestServer;
  let screen: Recorder;
  let now = T0;

  beforeAll(async () => {
    hook = await webhookReceiver();
    const workOrders = {
      escalation: {
        webhook: { url: hook.url, headers: { authorization: 'Bearer sms-token' } },
        contacts: { 'service-supervisor': [{ name: '王主管 Wang', phone: '138-0000-0001' }], 'engineering-supervisor': [{ name: '赵工 Zhao' }] },
      },
      emergencyTeam: [
        { name: '张工 Zhang', phone: '139-0000-0002' },
        { name: '李工 Li', phone: '139-0000-0003' },
      ],
    };
    server = await startTestServer({ site: smallSite(true, { workOrders }), clock: () => now, escalationCheckMs: 50 });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.app.server.address() as AddressInfo;
    screen = await dashboard(`http://127.0.0.1:${port}`, await server.login('demo-eng-supervisor'));
  });
  afterAll(async () => {
    screen?.socket.disconnect();
    await server?.close();
    await hook?.close();
  });

  const post = async (user: string, url: string, payload: Record<string, unknown> = {}) => {
    const res = await server.as(user, { method: 'POST', url, payload });
    expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(300);
    return res.json();
  };

  it('an overdue callback escalates to the customer-service supervisor: a timeline entry, a socket event and the webhook', async () => {
    const t = await post('demo-desk', '/api/tickets', { title: 'Bathroom extractor fan noisy', building: 'B1', unit: 'B1-0101', category: 'general', priority: 'low', reporter: 'Ms Li 138-0000-0000' });
    for (const action of ['acknowledge', 'start', 'resolve']) {
      now += 10 * MINUTE;
      await post('demo-engineer', `/api/tickets/${t.id}/${action}`);
    }
    const checked = await post('demo-eng-supervisor', `/api/tickets/${t.id}/quality-check`, { result: 'pass' });
    const due = checked.ticket.callbackDueAt as number;
    expect(due).toBe(now + 2 * 24 * 60 * MINUTE);

    now = due + 1;
    const message = await waitFor(() => hook.received.find((r) => r.body.kind === 'escalation' && r.body.workOrder.id === t.id), 10_000, 'the escalation at the webhook');
    expect(message.headers).toMatchObject({ authorization: 'Bearer sms-token', 'content-type': 'application/json', 'x-facility-monitor-notice': String(message.body.id) });
    expect(message.body).toMatchObject({
      kind: 'escalation',
      estate: { id: 'test-estate', name: 'Test estate 测试小区' },
      escalation: { level: 1, role: 'service-supervisor', reason: 'callback-overdue', missed: ['callback'] },
      recipients: [{ name: '王主管 Wang', phone: '138-0000-0001' }],
      workOrder: { id: t.id, title: 'Bathroom extractor fan noisy', building: 'B1', unit: 'B1-0101', state: 'quality_checked', callbackDueAt: due, escalationLevel: 1 },
    });
    expect(message.body.text['zh-CN']).toBe(`【Test estate 测试小区】维修工作单 #${t.id}「Bathroom extractor fan noisy」（B1 B1-0101）：回访超时，已上报客服部主管。`);
    expect(message.body.text.en).toContain('Callback overdue; escalated to Customer-service supervisor.');
    // The owner's name and phone stay in the records.
    expect(JSON.stringify(message.body)).not.toContain('138-0000-0000');

    const pushed = await waitFor(() => screen.of('ticket:escalated').find((m) => m.ticket.id === t.id), 10_000, 'ticket:escalated');
    expect(pushed).toMatchObject({ level: 1, role: 'service-supervisor', reason: 'callback-overdue', ticket: { escalationLevel: 1 }, event: { action: 'escalate', by: null } });
    const timeline = (await server.as('demo', { url: `/api/tickets/${t.id}` })).json().timeline;
    expect(timeline.at(-1)).toMatchObject({ action: 'escalate', by: null, at: now, details: { level: 1, role: 'service-supervisor', reason: 'callback-overdue' } });

    // Escalated once per missed deadline.
    expect(await server.app.workOrders.escalateOverdue()).toEqual([]);
    const metrics = (await server.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^fm_work_orders_escalated\{level="1"\} 1$/m);
    expect(metrics).toMatch(/^fm_webhook_notices_total\{result="delivered"\} [1-9]/m);
  });

  it('"lift stuck, people trapped" pages the emergency team at once, on every dashboard', async () => {
    const t = await post('demo-desk', '/api/tickets', { title: '2号电梯困人 Lift 2 stuck, people trapped', building: 'B2', category: 'lift', peopleTrapped: true });
    expect(t).toMatchObject({ priority: 'critical', peopleTrapped: true });
    const page = await waitFor(() => hook.received.find((r) => r.body.kind === 'emergency-page' && r.body.workOrder.id === t.id), 10_000, 'the emergency page');
    expect(page.body).toMatchObject({ page: { reason: 'people-trapped' }, recipients: [{ name: '张工 Zhang' }, { name: '李工 Li' }], workOrder: { category: 'lift', priority: 'critical', peopleTrapped: true } });
    expect(page.body.text['zh-CN']).toContain('电梯困人，请突发事件应急小组立即处理');
    expect(t.timeline.map((e: { action: string }) => e.action)).toEqual(['create', 'page']);
    const created = await waitFor(() => screen.of('ticket:created').find((m) => m.ticket.id === t.id), 10_000, 'ticket:created');
    expect(created.critical).toBe(true);
  });

  it('a notice the webhook refuses is kept and sent again later', async () => {
    hook.answers.push(503);
    const before = hook.received.length;
    const t = await post('demo-desk', '/api/tickets', { title: 'Lift 1 stuck between floors, two people inside', building: 'B1', category: 'lift', peopleTrapped: true });
    await waitFor(() => hook.received.length > before, 10_000, 'the first attempt');
    const [notice] = await server.app.records.notifications.ofWorkOrders([t.id]);
    await waitFor(async () => (await server.app.records.notifications.ofWorkOrders([t.id]))[0]!.attempts === 1, 10_000, 'the failed attempt recorded');
    expect(notice!.deliveredAt).toBeNull();
    now += 31_000;
    await server.app.notifier.kick();
    const attempts = hook.received.filter((r) => r.body.workOrder.id === t.id);
    expect(attempts.map((a) => a.headers['x-facility-monitor-notice'])).toEqual([String(notice!.id), String(notice!.id)]);
    expect((await server.app.records.notifications.ofWorkOrders([t.id]))[0]).toMatchObject({ attempts: 2, deliveredAt: now });
  });
});

describe('response-time standards of the site file', () => {
  let server: TestServer;
  const at = T0;
  beforeAll(async () => {
    server = await startTestServer({ site: smallSite(true, { workOrders: { responseMinutes: { general: { low: 90 } }, callbackWindow: { from: '08:30', to: '20:00' } } }), clock: () => at });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a site file overriding a response time changes the deadline of the next work order, and only that one', async () => {
    const create = async (category: string, priority: string) =>
      (await server.as('demo-desk', { method: 'POST', url: '/api/tickets', payload: { title: 'x', building: 'B1', category, priority } })).json();
    expect((await create('general', 'low')).responseDueAt).toBe(at + 90 * MINUTE);
    expect((await create('general', 'high')).responseDueAt).toBe(at + 60 * MINUTE);
    expect((await create('electrical', 'low')).responseDueAt).toBe(at + 480 * MINUTE);
  });

  it('a workOrders section that cannot work stops the start, naming every problem with its path', async () => {
    const bad = smallSite(true, {
      workOrders: { responseMinutes: { plumbing: { low: 5 }, general: { urgent: 5, low: -1 } }, callbackWindow: { from: '21:00', to: '09:00' }, emergencyTeam: [{ name: 'Zhang' }] },
    });
    const error = await buildApp({ site: bad, env: testEnvironment('/nonexistent-data-dir') }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SiteConfigError);
    const problems = (error as SiteConfigError).problems.map((p) => `${p.path}: ${p.reason}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        "/workOrders/responseMinutes: unknown property 'plumbing'",
        "/workOrders/responseMinutes/general: unknown property 'urgent'",
        '/workOrders/responseMinutes/general/low: must be > 0',
      ]),
    );
    const later = smallSite(true, { workOrders: { callbackWindow: { from: '21:00', to: '09:00' }, emergencyTeam: [{ name: 'Zhang' }] } });
    const second = (await buildApp({ site: later, env: testEnvironment('/nonexistent-data-dir') }).catch((err: unknown) => err)) as SiteConfigError;
    expect(second.problems).toEqual([
      { path: '/workOrders/callbackWindow', reason: 'must start before it ends (21:00 is not before 09:00)' },
      { path: '/workOrders/emergencyTeam', reason: 'the emergency team is paged through escalation.webhook: set it' },
    ]);
  });
});
