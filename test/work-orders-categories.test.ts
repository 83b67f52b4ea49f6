import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.ts';
import { linkAlarmsToWorkOrders } from '../server/live/alarm-work-orders.ts';
import { WorkOrderRepository } from '../server/records/work-order-repository.ts';
import { DEFAULT_RULES } from '../server/rules/default-rules.ts';
import { callbackRule } from '../server/work-orders/deadlines.ts';
import { WorkOrderQueries } from '../server/work-orders/work-order-queries.ts';
import { WorkOrderService } from '../server/work-orders/work-order-service.ts';
import { manualClock, newEngine, reading, type EngineFixture } from './fixtures/rules/harness.ts';

const T0 = Date.parse('2025-03-03T02:00:00Z');
const ENGINEER = 1;
const SUPERVISOR = 2;

let fixture: EngineFixture;
let clock: ReturnType<typeof manualClock>;
let service: WorkOrderService;
let queries: WorkOrderQueries;

beforeEach(async () => {
  clock = manualClock(T0);
  fixture = newEngine({ clock: clock.now });
  for (const [id, role] of [[ENGINEER, 'engineer'], [SUPERVISOR, 'engineering-supervisor']] as const) {
    await fixture.client.run('INSERT INTO users (id, username, display_name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, 0)', [id, role, role, role, 'x']);
  }
  const records = new WorkOrderRepository(fixture.client);
  service = new WorkOrderService({ records, clock: clock.now });
  queries = new WorkOrderQueries(records, clock.now);
  linkAlarmsToWorkOrders(fixture.engine.alarms, service, { logger: createLogger('test', { level: 'silent' }) });
  await fixture.engine.restore(T0);
});
afterEach(async () => {
  await fixture.close();
});

const workOrderOf = async (device: string, ruleId: string) => {
  await fixture.engine.settled();
  const [wo] = (await queries.list({ deviceId: device })).items.filter((w) => w.ruleId === ruleId);
  expect(wo, `${device}/${ruleId} work order`).toBeDefined();
  return wo!;
};

describe('the work orders of the default rules', () => {
  it('a tank overflow is a water-supply job: repaired, checked and verified with no leak test', async () => {
    fixture.engine.onReading(reading('tank-1', 'level_mm', 3950, clock.now()));
    fixture.engine.tick(clock.advance(31_000));
    const wo = await workOrderOf('tank-1', 'tank-level-high');
    expect(wo).toMatchObject({ category: 'water-supply', priority: 'high', followUp: 'verification', title: expect.stringContaining('水位过高，有溢流风险') });
    for (const action of ['acknowledge', 'start', 'resolve'] as const) await service.act(wo.id, action, ENGINEER, {});
    expect((await queries.get(wo.id)).allowedActions).not.toContain('leak-test');
    await service.act(wo.id, 'quality-check', SUPERVISOR, { result: 'pass' });
    expect((await service.act(wo.id, 'verify', SUPERVISOR, { result: 'ok' })).workOrder.state).toBe('verified');
  });

  it('a fire panel that went offline is a safety facility out of service', async () => {
    fixture.engine.onGatewayStatus('gw-1', false, clock.advance(1000));
    const wo = await workOrderOf('fire-1', 'device-offline');
    expect(wo).toMatchObject({ category: 'fire-safety', priority: 'high', followUp: 'verification' });
    expect(callbackRule(wo.category)).toBe('safety-facility');
    expect(await workOrderOf('sos-1', 'device-offline')).toMatchObject({ category: 'access-security', priority: 'high' });
    expect(callbackRule('access-security')).toBe('safety-facility');
  });

  it('docs/rules.md states the category of every default rule, as the code has it', () => {
    const table = readFileSync(new URL('../docs/rules.md', import.meta.url), 'utf8').split('## Default rules')[1]!.split('\n## ')[0]!;
    const documented = new Map<string, string>();
    let kind = '';
    for (const line of table.split('\n')) {
      const cells = line.split('|').map((c) => c.trim());
      if (cells.length < 8 || !/^`[a-z-]+`$/.test(cells[2] ?? '')) continue;
      if (cells[1]) kind = cells[1].replace(/`/g, '');
      documented.set(`${kind}/${cells[2]!.replace(/`/g, '')}`, cells[5]!);
    }
    const inCode = new Map(Object.entries(DEFAULT_RULES).flatMap(([k, rules]) => rules.map((r) => [`${k}/${r.id}`, r.category] as const)));
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(inCode));
  });
});
