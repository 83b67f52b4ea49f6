import { Ajv, type ErrorObject } from 'ajv';
import type { SiteProblem } from '../../common/protocols/protocol.ts';
import { SiteConfigError } from '../../common/site/load.ts';
import type { SiteConfig } from '../../common/site/types.ts';
import { formatClock, parseClock } from './callback-window.ts';
import { DEFAULT_DEADLINE_RULES, deadlineRules, type DeadlineRuleOverrides, type DeadlineRules } from './deadlines.ts';
import { ESCALATION_ROLES, type EscalationRole } from './escalation.ts';
import { WORK_ORDER_CATEGORIES, WORK_ORDER_PRIORITIES, type WorkOrderCategory } from './types.ts';

/** Someone to tell: a name and the number or address the gateway behind the webhook reaches them at. */
export interface Contact {
  name: string;
  phone?: string;
}

/** Where escalations and emergency pages are posted (an SMS or telephone gateway). */
export interface Webhook {
  url: string;
  headers: Record<string, string>;
}

/** The site file's `workOrders` section, checked and with the defaults filled in (docs/work-orders.md). */
export interface WorkOrderSettings {
  rules: DeadlineRules;
  webhook: Webhook | null;
  /** Who holds each escalation role, named in the webhook's messages. */
  contacts: Partial<Record<EscalationRole, Contact[]>>;
  /** The emergency team (突发事件应急小组), paged on critical work orders. */
  emergencyTeam: Contact[];
}

const contact = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, phone: { type: 'string', minLength: 1, maxLength: 50 } },
};
const contacts = { type: 'array', items: contact, maxItems: 50 };
const minutes = { type: 'number', exclusiveMinimum: 0, maximum: 7 * 24 * 60 };
const clock = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, local time' };

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    responseMinutes: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        WORK_ORDER_CATEGORIES.map((c) => [c, { type: 'object', additionalProperties: false, properties: Object.fromEntries(WORK_ORDER_PRIORITIES.map((p) => [p, minutes])) }]),
      ),
    },
    safetyCategories: { type: 'array', uniqueItems: true, items: { enum: WORK_ORDER_CATEGORIES } },
    callbackDays: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(['safetyFacility', 'leakRepair', 'otherRepair'].map((k) => [k, { type: 'number', exclusiveMinimum: 0, maximum: 30 }])),
    },
    replyHours: { type: 'number', exclusiveMinimum: 0, maximum: 30 * 24 },
    callbackWindow: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: clock, to: clock } },
    escalation: {
      type: 'object',
      additionalProperties: false,
      properties: {
        webhook: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: { type: 'string', pattern: '^https?://', description: 'http(s) URL' },
            headers: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
        contacts: { type: 'object', additionalProperties: false, properties: Object.fromEntries(ESCALATION_ROLES.map((r) => [r, contacts])) },
      },
    },
    emergencyTeam: contacts,
  },
};

interface RawSettings {
  responseMinutes?: DeadlineRuleOverrides['responseMinutes'];
  safetyCategories?: WorkOrderCategory[];
  callbackDays?: DeadlineRuleOverrides['callbackDays'];
  replyHours?: number;
  callbackWindow?: { from: string; to: string };
  escalation?: { webhook?: { url: string; headers?: Record<string, string> }; contacts?: Partial<Record<EscalationRole, Contact[]>> };
  emergencyTeam?: Contact[];
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

function problemOf(e: ErrorObject): SiteProblem {
  const path = `/workOrders${e.instancePath}`;
  if (e.keyword === 'additionalProperties') return { path, reason: `unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'` };
  if (e.keyword === 'enum') return { path, reason: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` };
  if (e.keyword === 'pattern' && e.instancePath.endsWith('/url')) return { path, reason: 'must be an http:// or https:// URL' };
  if (e.keyword === 'pattern') return { path, reason: 'must be a local time HH:MM (00:00 to 23:59)' };
  return { path, reason: e.message ?? 'invalid' };
}

/**
 * The estate's work-order settings from the site file (`workOrders:`), checked before anything
 * starts: every problem is named with its path, as for the rest of the file (SiteConfigError).
 */
export function resolveWorkOrderSettings(site: Pick<SiteConfig, 'file' | 'site' | 'workOrders'>): WorkOrderSettings {
  const raw = site.workOrders ?? {};
  if (!validate(raw)) throw new SiteConfigError(site.file, (validate.errors ?? []).map(problemOf));
  const s = raw as RawSettings;
  const problems: SiteProblem[] = [];
  let callbackWindow = DEFAULT_DEADLINE_RULES.callbackWindow;
  if (s.callbackWindow) {
    const from = parseClock(s.callbackWindow.from)!;
    const to = parseClock(s.callbackWindow.to)!;
    if (from >= to) problems.push({ path: '/workOrders/callbackWindow', reason: `must start before it ends (${formatClock(from)} is not before ${formatClock(to)})` });
    callbackWindow = { from, to };
  }
  let webhook: Webhook | null = null;
  if (s.escalation?.webhook) {
    try {
      webhook = { url: new URL(s.escalation.webhook.url).toString(), headers: s.escalation.webhook.headers ?? {} };
    } catch {
      problems.push({ path: '/workOrders/escalation/webhook/url', reason: `'${s.escalation.webhook.url}' is not a URL` });
    }
  }
  const emergencyTeam = s.emergencyTeam ?? [];
  if (emergencyTeam.length > 0 && !s.escalation?.webhook) problems.push({ path: '/workOrders/emergencyTeam', reason: 'the emergency team is paged through escalation.webhook: set it' });
  if (problems.length > 0) throw new SiteConfigError(site.file, problems);
  return {
    rules: deadlineRules({
      ...(s.responseMinutes && { responseMinutes: s.responseMinutes }),
      ...(s.safetyCategories && { safetyCategories: s.safetyCategories }),
      ...(s.callbackDays && { callbackDays: s.callbackDays }),
      ...(s.replyHours !== undefined && { replyHours: s.replyHours }),
      callbackWindow,
      timezone: site.site.timezone,
    }),
    webhook,
    contacts: s.escalation?.contacts ?? {},
    emergencyTeam,
  };
}
