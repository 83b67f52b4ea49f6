import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { insideWindow, withinWindow } from '../server/work-orders/callback-window.ts';
import {
  DEFAULT_DEADLINE_RULES,
  callbackDeadline,
  callbackRule,
  deadlineRules,
  missedDeadlines,
  replyDueAt,
  responseDueAt,
  type DeadlineFacts,
} from '../server/work-orders/deadlines.ts';
import {
  WORK_ORDER_CATEGORIES,
  WORK_ORDER_PRIORITIES,
  type FollowUp,
  type WorkOrderCategory,
  type WorkOrderPriority,
  type WorkOrderSource,
  type WorkOrderState,
} from '../server/work-orders/types.ts';

interface DeadlineCase {
  name: string;
  workOrder: {
    category: WorkOrderCategory;
    priority: WorkOrderPriority;
    state: WorkOrderState;
    createdAt: string;
    source?: WorkOrderSource;
    followUp?: FollowUp;
    reopenedAt?: string;
    resolvedAt?: string;
    leakTestAt?: string;
    repliedAt?: string;
  };
  now: string;
  expect: {
    responseDueAt: string;
    replyDueAt: string | null;
    callback: { status: string; rule: string; dueAt?: string; from?: string };
    missed: string[];
  };
}

const cases = JSON.parse(readFileSync(new URL('./fixtures/work-orders/deadlines.json', import.meta.url), 'utf8')) as DeadlineCase[];
const ms = (iso: string | undefined) => (iso === undefined ? null : Date.parse(iso));

describe('work-order deadline fixtures', () => {
  it('cover every category, both callback states of a leak repair, complaints and internal verification', () => {
    expect(new Set(cases.map((c) => c.workOrder.category))).toEqual(new Set(WORK_ORDER_CATEGORIES));
    expect(new Set(cases.map((c) => c.workOrder.priority))).toEqual(new Set(WORK_ORDER_PRIORITIES));
    expect(cases.some((c) => c.expect.callback.status === 'leak-test-pending')).toBe(true);
    expect(new Set(cases.flatMap((c) => c.expect.missed))).toEqual(new Set(['response', 'reply', 'callback', 'verification']));
  });

  describe.each(cases)('$name', (c) => {
    const source = c.workOrder.source ?? 'manual';
    const facts: DeadlineFacts = {
      source,
      category: c.workOrder.category,
      priority: c.workOrder.priority,
      followUp: c.workOrder.followUp ?? 'callback',
      createdAt: Date.parse(c.workOrder.createdAt),
      reopenedAt: ms(c.workOrder.reopenedAt),
      resolvedAt: ms(c.workOrder.resolvedAt),
      leakTestAt: ms(c.workOrder.leakTestAt),
    };

    it('response and reply due times', () => {
      expect(new Date(responseDueAt(facts)).toISOString()).toBe(new Date(c.expect.responseDueAt).toISOString());
      const reply = replyDueAt(facts);
      expect(reply === null ? null : new Date(reply).toISOString()).toBe(c.expect.replyDueAt === null ? null : new Date(c.expect.replyDueAt).toISOString());
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
        {
          state: c.workOrder.state,
          followUp: facts.followUp,
          responseDueAt: responseDueAt(facts),
          replyDueAt: replyDueAt(facts),
          repliedAt: ms(c.workOrder.repliedAt),
          callbackDueAt: cb.status === 'due' ? cb.dueAt : null,
        },
        Date.parse(c.now),
      );
      expect(missed.map((m) => m.kind)).toEqual(c.expect.missed);
      for (const m of missed) expect(m.overdueMs).toBe(Date.parse(c.now) - m.dueAt);
    });
  });
});

describe('deadline rules', () => {
  it('fire, lift and access and security repairs are safety facilities; leaks have their rule; the rest are other repairs', () => {
    expect(WORK_ORDER_CATEGORIES.map((c) => [c, callbackRule(c)])).toEqual([
      ['fire-safety', 'safety-facility'],
      ['lift', 'safety-facility'],
      ['access-security', 'safety-facility'],
      ['water-leak', 'leak-repair'],
      ['water-supply', 'other-repair'],
      ['electrical', 'other-repair'],
      ['general', 'other-repair'],
      ['complaint', 'other-repair'],
    ]);
  });

  it('a site override changes only what it names', () => {
    const rules = deadlineRules({ responseMinutes: { 'fire-safety': { critical: 5 } }, callbackDays: { leakRepair: 1 }, replyHours: 48 });
    expect(rules.responseMinutes['fire-safety']).toEqual({ ...DEFAULT_DEADLINE_RULES.responseMinutes['fire-safety'], critical: 5 });
    expect(rules.responseMinutes.general).toEqual(DEFAULT_DEADLINE_RULES.responseMinutes.general);
    expect(rules.callbackDays).toEqual({ ...DEFAULT_DEADLINE_RULES.callbackDays, leakRepair: 1 });
    const t0 = Date.parse('2024-11-23T02:00:00Z');
    const facts: DeadlineFacts = { source: 'complaint', category: 'complaint', priority: 'low', followUp: 'callback', createdAt: t0, reopenedAt: null, resolvedAt: null, leakTestAt: null };
    expect(replyDueAt(facts, rules)).toBe(t0 + 48 * 3_600_000);
    expect(responseDueAt({ ...facts, category: 'fire-safety', priority: 'critical' }, rules)).toBe(t0 + 5 * 60_000);
  });

  it('moves a time outside the callback window to the next window start, in the estate time zone', () => {
    const shanghai = DEFAULT_DEADLINE_RULES.callbackWindow;
    const at = (iso: string) => Date.parse(iso);
    expect(withinWindow(at('2025-03-04T21:30:00+08:00'), shanghai, 'Asia/Shanghai')).toBe(at('2025-03-05T09:00:00+08:00'));
    expect(withinWindow(at('2025-03-04T21:00:00+08:00'), shanghai, 'Asia/Shanghai')).toBe(at('2025-03-04T21:00:00+08:00'));
    expect(withinWindow(at('2025-03-04T21:00:00.001+08:00'), shanghai, 'Asia/Shanghai')).toBe(at('2025-03-05T09:00:00+08:00'));
    expect(withinWindow(at('2025-03-04T00:10:00+08:00'), shanghai, 'Asia/Shanghai')).toBe(at('2025-03-04T09:00:00+08:00'));
    expect(withinWindow(at('2025-03-31T23:00:00+08:00'), shanghai, 'Asia/Shanghai')).toBe(at('2025-04-01T09:00:00+08:00'));
    // The same instant is 14:30 in London: inside its window.
    expect(insideWindow(at('2025-03-04T21:30:00+08:00'), shanghai, 'Europe/London')).toBe(true);
    // Across a daylight-saving change the window starts at 09:00 local time.
    expect(withinWindow(at('2025-03-08T22:00:00-05:00'), shanghai, 'America/New_York')).toBe(at('2025-03-09T09:00:00-04:00'));
  });

  it('rejects a non-positive time and an unknown category, naming it', () => {
    expect(() => deadlineRules({ callbackDays: { safetyFacility: 0 } })).toThrow(/callbackDays\.safetyFacility must be a positive number/);
    expect(() => deadlineRules({ callbackWindow: { from: 21 * 60, to: 9 * 60 } })).toThrow(/callbackWindow must start before it ends/);
    expect(() => deadlineRules({ responseMinutes: { plumbing: { low: 5 } } as never })).toThrow(/unknown category plumbing/);
  });
});
