import { describe, expect, it } from 'vitest';
import { LABELS, LANGUAGES, alarmTitle, label } from '../common/i18n/labels.ts';
import { BUILTIN_PROFILES } from '../common/profiles.ts';
import { DEVICE_EVENTS, DEVICE_KINDS } from '../common/reading.ts';
import { UI_EN, UI_ZH } from '../dashboard/src/i18n/ui-strings.ts';
import { ALARM_CATEGORIES, ALARM_SEVERITIES, ALARM_STATES } from '../server/alarms/alarm.ts';
import { USER_ROLES } from '../server/auth/roles.ts';
import { DEFAULT_RULES } from '../server/rules/default-rules.ts';
import {
  CALLBACK_METHODS,
  CALLBACK_OUTCOMES,
  CALLBACK_STATUSES,
  COMPLAINT_TYPES,
  DEADLINE_KINDS,
  ESCALATION_LEVELS,
  ESCALATION_REASONS,
  FOLLOW_UPS,
  QUALITY_CHECK_RESULTS,
  SATISFACTION_LEVELS,
  SYSTEM_TIMELINE_ACTIONS,
  VERIFICATION_RESULTS,
  WORK_ORDER_ACTIONS,
  WORK_ORDER_CATEGORIES,
  WORK_ORDER_PRIORITIES,
  WORK_ORDER_SOURCES,
  WORK_ORDER_STATES,
} from '../server/work-orders/types.ts';
import type { Notice } from '../server/work-orders/notices.ts';

const CJK = /[\u3400-\u9fff]/;
const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

describe.each([
  ['domain labels (common/i18n/labels.ts)', LABELS.en as Record<string, string>, LABELS['zh-CN'] as Record<string, string>],
  ['dashboard strings (dashboard/src/i18n/ui-strings.ts)', UI_EN as Record<string, string>, UI_ZH as Record<string, string>],
])('%s: the two languages key by key', (_name, en, zh) => {
  it('have the same keys', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
  });

  it.each(Object.keys(en))('%s: both texts present, each in its own script, with the same placeholders', (key) => {
    const e = en[key]!;
    const z = zh[key]!;
    expect(e.trim()).not.toBe('');
    expect(z.trim()).not.toBe('');
    expect(CJK.test(e), `en ${key}: ${e}`).toBe(false);
    // A Chinese text with words has Chinese in it ('—' or a number pattern may stand alone).
    if (/[A-Za-z]{2}/.test(z.replace(/\{\w+\}/g, ''))) expect(CJK.test(z), `zh ${key}: ${z}`).toBe(true);
    expect(placeholders(z)).toEqual(placeholders(e));
  });
});

describe('domain labels cover every value the server names (every enum, walked)', () => {
  const metrics = new Set(Object.values(BUILTIN_PROFILES).flatMap((p) => p.points.map((pt) => pt.metric)));
  const defaultRules = [...new Set(Object.values(DEFAULT_RULES).flatMap((rules) => rules.map((r) => r.id)))];
  const pageReasons: Array<Extract<Notice, { kind: 'emergency-page' }>['details']['reason']> = ['people-trapped', 'critical'];
  const groups: [string, readonly string[]][] = [
    ['category', [...WORK_ORDER_CATEGORIES, ...ALARM_CATEGORIES]],
    ['ticketState', WORK_ORDER_STATES],
    ['ticketAction', [...WORK_ORDER_ACTIONS, ...SYSTEM_TIMELINE_ACTIONS]],
    ['source', WORK_ORDER_SOURCES],
    ['priority', WORK_ORDER_PRIORITIES],
    ['severity', ALARM_SEVERITIES],
    ['role', USER_ROLES],
    ['alarmState', ALARM_STATES],
    ['callbackStatus', CALLBACK_STATUSES],
    ['callbackOutcome', CALLBACK_OUTCOMES],
    ['callbackMethod', CALLBACK_METHODS],
    ['satisfaction', SATISFACTION_LEVELS],
    ['complaintType', COMPLAINT_TYPES],
    ['followUp', FOLLOW_UPS],
    ['qualityCheck', QUALITY_CHECK_RESULTS],
    ['verification', VERIFICATION_RESULTS],
    ['escalationLevel', ESCALATION_LEVELS.map(String)],
    ['escalationReason', ESCALATION_REASONS],
    ['pageReason', pageReasons],
    ['deadline', DEADLINE_KINDS],
    ['notice', ['escalation', 'emergency-page']],
    ['alarmTitle', defaultRules],
    ['deviceKind', DEVICE_KINDS],
    ['deviceStatus', ['online', 'offline', 'unknown']],
    ['buildingCondition', ['alarm', 'warning', 'offline', 'normal']],
    ['quality', ['good', 'uncertain', 'bad']],
    ['event', [...new Set(Object.values(DEVICE_EVENTS).flat())]],
    ['metric', [...metrics]],
    ['rule', defaultRules],
  ];
  it.each(groups)('%s', (group, values) => {
    for (const language of LANGUAGES) {
      const missing = values.filter((v) => label(language, group, v) === undefined);
      expect({ language, group, missing }).toEqual({ language, group, missing: [] });
    }
  });
});

describe('the words of the procedures (docs/domain.md)', () => {
  const zh = [...Object.values(LABELS['zh-CN']), ...Object.values(UI_ZH)].join('\n');
  it.each([
    '报修',
    '维修工作单',
    '签领',
    '回访',
    '回复',
    '试漏',
    '渗漏水',
    '安全设施',
    '报警区域',
    '燃气',
    '电梯',
    '困人',
    '质量检查',
    '有效投诉',
    '沟通性投诉',
    '客服部主管',
    '工程部主管',
    '项目经理',
    '物业经理',
    '突发事件应急小组',
  ])('uses %s', (word) => {
    expect(zh).toContain(word);
  });

  it('titles the default rules\' alarms, and so their work orders, from the catalogue', () => {
    for (const rule of Object.values(DEFAULT_RULES).flat()) expect(rule.title, rule.id).toEqual(alarmTitle(rule.id));
  });

  it('never says 防区 for a fire panel zone, nor 煤气 for gas, in the labels or the default rule titles', () => {
    const titles = Object.values(DEFAULT_RULES).flatMap((rules) => rules.map((r) => r.title.zh));
    for (const text of [zh, ...titles]) {
      expect(text).not.toMatch(/防区|煤气/);
    }
  });
});
