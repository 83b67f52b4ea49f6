import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionPayloads, AlarmInput, CreateWorkOrderInput, WorkOrderAction } from '../server/work-orders/types.ts';
import { workOrderFixture } from './fixtures/work-orders/service.ts';
import { smallSite, startTestServer, type TestServer } from './harness/server-app.ts';

/** A month of work orders, written as what people did and when; `expect` was counted by hand from it. */
interface ReportFixture {
  name: string;
  timezone: string;
  month: string;
  now: string;
  workOrders: Array<{
    ref: string;
    note?: string;
    create?: Omit<CreateWorkOrderInput, 'createdBy'> & { at: string };
    alarm?: Omit<AlarmInput, 'at' | 'detail'> & { at: string };
    steps: Array<[at: string, action: WorkOrderAction, user: keyof typeof USERS, payload?: Record<string, unknown>]>;
  }>;
  escalationSweeps: string[];
  expect: Record<string, unknown> & { recurring?: { items?: Array<{ workOrders: string[] }> } };
}

const USERS = { engineer: 1, supervisor: 2, desk: 3 } as const;
const dir = new URL('./fixtures/reports/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as ReportFixture);

describe('monthly report fixtures', () => {
  it('exist', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(2);
  });

  describe.each(fixtures)('$name', (f) => {
    it('the report equals the hand count', async () => {
      let now = 0;
      const { client, service, queries } = await workOrderFixture({
        clock: () => now,
        users: Object.entries(USERS).map(([username, id]) => ({ id, username, role: username === 'desk' ? 'service-desk' : username === 'supervisor' ? 'engineering-supervisor' : 'engineer' })),
      });
      try {
        // Every creation, action and escalation sweep, in the order of its time.
        const ids = new Map<string, number>();
        const happenings: Array<{ at: number; order: number; run: () => Promise<unknown> }> = [];
        f.workOrders.forEach((w, i) => {
          const at = Date.parse(w.create?.at ?? w.alarm!.at);
          happenings.push({
            at,
            order: i,
            run: async () => {
              const { at: _at, ...input } = (w.create ?? w.alarm)!;
              const change = w.create
                ? await service.create({ ...(input as Omit<CreateWorkOrderInput, 'createdBy'>), createdBy: USERS.desk })
                : await service.raiseFromAlarm({ ...(input as Omit<AlarmInput, 'at' | 'detail'>), detail: '', at });
              ids.set(w.ref, change.workOrder.id);
            },
          });
          for (const [when, action, user, payload = {}] of w.steps) {
            const body = { ...payload, ...(typeof payload.leakTestAt === 'string' && { leakTestAt: Date.parse(payload.leakTestAt) }) };
            happenings.push({ at: Date.parse(when), order: i, run: () => service.act(ids.get(w.ref)!, action, USERS[user], body as ActionPayloads[typeof action]) });
          }
        });
        for (const when of f.escalationSweeps) happenings.push({ at: Date.parse(when), order: -1, run: () => service.escalateOverdue() });
        happenings.sort((a, b) => a.at - b.at || a.order - b.order);
        for (const h of happenings) {
          now = h.at;
          await h.run();
        }

        now = Date.parse(f.now);
        const report = await queries.monthly(f.month, { id: 'estate', name: 'Estate', timezone: f.timezone });
        const expected = structuredClone(f.expect);
        for (const item of expected.recurring?.items ?? []) item.workOrders = item.workOrders.map((ref) => ids.get(ref)) as never;
        expect(report).toMatchObject(expected);
      } finally {
        await client.close();
      }
    });
  });
});

describe('GET /api/reports/monthly', () => {
  let server: TestServer;
  const now = Date.parse('2025-03-20T10:00:00+08:00');
  beforeAll(async () => {
    server = await startTestServer({ site: smallSite(true), clock: () => now });
    for (const payload of [
      { title: 'Leak under sink', building: 'B1', unit: 'B1-0101', category: 'water-leak' },
      { title: 'Leak under sink again', building: 'B1', unit: 'B1-0101', category: 'water-leak' },
      { title: 'Lobby music too loud', building: 'B2', source: 'complaint', complaintType: 'venting' },
    ]) {
      expect((await server.as('demo-desk', { method: 'POST', url: '/api/tickets', payload })).statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers the current month of the estate as JSON by default', async () => {
    const res = await server.as('demo-viewer', { url: '/api/reports/monthly' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      month: '2025-03',
      estate: { id: 'test-estate', timezone: 'Asia/Shanghai' },
      from: Date.parse('2025-03-01T00:00:00+08:00'),
      to: Date.parse('2025-04-01T00:00:00+08:00'),
      received: { total: 3, byCategory: { 'water-leak': 2, complaint: 1 } },
      complaints: { total: 1, byType: { venting: 1 } },
      recurring: { problems: 1, repeats: 1, items: [{ unit: 'B1-0101', category: 'water-leak', workOrders: [1, 2] }] },
      targets: { responseOnTimeRate: 1, callbackRate: 1, satisfactionRate: 0.85 },
    });
    expect((await server.as('demo-viewer', { url: '/api/reports/monthly?month=2025-02' })).json().received.total).toBe(0);
  });

  it('as CSV for a spreadsheet, in the language asked for, and as a page to print', async () => {
    const csv = await server.as('demo-manager', { url: '/api/reports/monthly?month=2025-03&format=csv' });
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe('attachment; filename="work-orders-test-estate-2025-03.csv"');
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toBe('\ufeff项目,指标,数值,目标');
    expect(lines).toContain('受理维修工作单,总数,3,');
    expect(lines).toContain('受理维修工作单,按类别: 渗漏水,2,');
    expect(lines).toContain('受理投诉,沟通性投诉（发泄型）,1,');
    expect(lines).toContain('重复问题：同一户同类问题30天内再次发生,B1-0101 · 渗漏水,#1 #2,');
    const en = await server.as('demo-manager', { url: '/api/reports/monthly?month=2025-03&format=csv&lang=en' });
    expect(en.body.split('\r\n')).toContain('Recurring problems: same unit and category within 30 days,B1-0101 · Seepage and leaks,#1 #2,');

    const page = await server.as('demo-manager', { url: '/api/reports/monthly?month=2025-03&format=html' });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toMatch(/^<!doctype html>/);
    expect(page.body).toContain('<h1>月度维修服务统计</h1>');
    expect(page.body).toContain('<td>总数</td><td class="n">3</td>');
    expect(page.body).toContain('@page { size: A4;');
  });

  it('refuses a month that is not YYYY-MM and a format it does not know, naming the field', async () => {
    for (const [query, field] of [
      ['month=2025-13', 'month'],
      ['month=March', 'month'],
      ['format=pdf', 'format'],
    ]) {
      const res = await server.as('demo', { url: `/api/reports/monthly?${query}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().field).toBe(field);
    }
  });
});
