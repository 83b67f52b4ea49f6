import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEADLINE_RULES,
  callbackDeadline,
  callbackRule,
  deadlineRules,
  missedDeadlines,
  responseDueAt,
  type DeadlineFacts,
} from '../server/work-orders/deadlines.ts';
import { WORK_ORDER_CATEGORIES, WORK_ORDER_PRIORITIES, type WorkOrderCategory, type WorkOrderPriority, type WorkOrderState } from '../server/work-orders/types.ts';

interface DeadlineCase {
  name: string;
  workOrder: { category: WorkOrderCategory; priority: WorkOrderPriority; state: WorkOrderState; createdAt: string; reopenedAt?: string; resolvedAt?: string; leakTestAt?: string };
  now: string;
  expect: {
    responseDueAt: string;
    callback: { status: string; rule: string; dueAt?: string; from?: string };
    missed: string[];
  };
}

const cases = JSON.parse(readFileSync(new URL('./fixtures/work-orders/deadlines.json', import.meta.url), 'utf8')) as DeadlineCase[];
const ms = (iso: string | undefined) => (iso === undefined ? null : Date.parse(iso));

describe('work-order deadline fixtures', () => {
  it('cover every category and both callback states of a leak repair', () => {
    expect(new Set(cases.map((c) => c.workOrder.category))).toEqual(new Set(WORK_ORDER_CATEGORIES));
    expect(new Set(cases.map((c) => c.workOrder.priority))).toEqual(new Set(WORK_ORDER_PRIORITIES));
    expect(cases.some((c) => c.expect.callback.status === 'leak-test-pending')).toBe(true);
  });

  describe.each(cases)('$name', (c) => {
    const facts: DeadlineFacts = {
      category: c.workOrder.category,
      priority: c.workOrder.priority,
      createdAt: Date.parse(c.workOrder.createdAt),
      reopenedAt: ms(c.workOrder.reopenedAt),
      resolvedAt: ms(c.workOrder.resolvedAt),
      leakTestAt: ms(c.workOrder.leakTestAt),
    };

    it('response due time', () => {
      expect(new Date(responseDueAt(facts)).toISOString()).toBe(new Date(c.expect.responseDueAt).toISOString());
    });

    it('callback deadline', () => {
      const cb = callbackDeadline(facts);
      const expected: Record<string, unknown> = { ...c.expect.callback };
      if (typeof expected.dueAt === 'string') expected.dueAt = Date.parse(expected.dueAt);
      expect(cb).toEqual(expected);
    });

    it('missed deadlines at now', () => {
      const cb = callbackDeadline(facts);
      const missed = missedDeadlines(
        { state: c.workOrder.state, responseDueAt: responseDueAt(facts), callbackDueAt: cb.status === 'due' ? cb.dueAt : null },
        Date.parse(c.now),
      );
      expect(missed.map((m) => m.kind)).toEqual(c.expect.missed);
      for (const m of missed) expect(m.overdueMs).toBe(Date.parse(c.now) - m.dueAt);
    });
  });
});

describe('deadline rules', () => {
  it('electrical, fire and access repairs are safety facilities; general is another repair', () => {
    expect(WORK_ORDER_CATEGORIES.map((c) => [c, callbackRule(c)])).toEqual([
      ['fire-safety', 'safety-facility'],
      ['water-leak', 'leak-repair'],
      ['electrical', 'safety-facility'],
      ['access-security', 'safety-facility'],
      ['general', 'other-repair'],
      ['complaint', 'complaint'],
    ]);
  });

  it('a site override changes only what it names', () => {
    const rules = deadlineRules({ responseMinutes: { 'fire-safety': { critical: 5 } }, callbackDays: { leakRepair: 1 }, complaintCallbackHours: 48 });
    expect(rules.responseMinutes['fire-safety']).toEqual({ ...DEFAULT_DEADLINE_RULES.responseMinutes['fire-safety'], critical: 5 });
    expect(rules.responseMinutes.general).toEqual(DEFAULT_DEADLINE_RULES.responseMinutes.general);
    expect(rules.callbackDays).toEqual({ ...DEFAULT_DEADLINE_RULES.callbackDays, leakRepair: 1 });
    const t0 = Date.parse('2024-11-23T02:00:00Z');
    const facts: DeadlineFacts = { category: 'complaint', priority: 'low', createdAt: t0, reopenedAt: null, resolvedAt: null, leakTestAt: null };
    expect(callbackDeadline(facts, rules)).toMatchObject({ status: 'due', dueAt: t0 + 48 * 3_600_000 });
    expect(responseDueAt({ ...facts, category: 'fire-safety', priority: 'critical' }, rules)).toBe(t0 + 5 * 60_000);
  });

  it('rejects a non-positive time and an unknown category, naming it', () => {
    expect(() => deadlineRules({ callbackDays: { safetyFacility: 0 } })).toThrow(/callbackDays\.safetyFacility must be a positive number/);
    expect(() => deadlineRules({ responseMinutes: { plumbing: { low: 5 } } as never })).toThrow(/unknown category plumbing/);
  });
});
