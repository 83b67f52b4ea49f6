import { LANGUAGES, fill, label, type Language } from '../../common/i18n/labels.ts';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { NotificationRepository, PendingNotification } from '../records/notification-repository.ts';
import type { WorkOrderRepository } from '../records/work-order-repository.ts';
import type { EscalationRole } from './escalation.ts';
import type { WorkOrderRecord } from './types.ts';
import type { Contact, WorkOrderSettings } from './work-order-settings.ts';

export interface WebhookNotifierOptions {
  notifications: NotificationRepository;
  workOrders: WorkOrderRepository;
  settings: WorkOrderSettings;
  estate: { id: string; name: string };
  clock?: () => number;
  /** The HTTP client; the platform's fetch unless a test passes its own. */
  fetch?: typeof fetch;
  /** First wait after a failed attempt; it doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Attempts before a notice is given up (recorded as failed). */
  maxAttempts?: number;
  timeoutMs?: number;
  logger?: Logger;
}

export interface WebhookNotifierCounters {
  delivered: number;
  retried: number;
  failed: number;
}

/** What the webhook receives (docs/work-orders.md, "Escalation"): one JSON object per notice. */
export interface WebhookMessage {
  id: number;
  kind: PendingNotification['kind'];
  at: number;
  estate: { id: string; name: string };
  escalation?: { level: number; role: EscalationRole; reason: string; missed: string[] };
  page?: { reason: string };
  recipients: Contact[];
  workOrder: Pick<
    WorkOrderRecord,
    'id' | 'title' | 'category' | 'priority' | 'state' | 'building' | 'unit' | 'deviceId' | 'peopleTrapped' | 'responseDueAt' | 'replyDueAt' | 'callbackDueAt' | 'escalationLevel'
  >;
  text: Record<Language, string>;
}

/**
 * Sends the notices the work-order changes left in the records (escalations, emergency pages) to the
 * estate's webhook, an SMS or telephone gateway, oldest first. A notice is written with the change
 * that caused it, so none is lost when the webhook or this process is down: a failed attempt is
 * tried again later (doubling waits), and given up and counted after `maxAttempts`. Loops never throw.
 */
export class WebhookNotifier {
  readonly counters: WebhookNotifierCounters = { delivered: 0, retried: 0, failed: 0 };
  private readonly clock: () => number;
  private readonly fetch: typeof fetch;
  private readonly log: Logger;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: WebhookNotifierOptions) {
    this.clock = options.clock ?? Date.now;
    this.fetch = options.fetch ?? fetch;
    this.log = options.logger ?? createLogger('webhook');
  }

  /** Checks for due notices every `intervalMs` (retries), besides each `kick`. */
  start(intervalMs = 5_000): void {
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Sends what is due now; a kick while sending sends again after. Resolves when nothing is left to send. */
  kick(): Promise<void> {
    if (this.closed || this.options.settings.webhook === null) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.sendDue().catch((err: unknown) => this.log.error({ err }, 'webhook notices could not be read'));
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async sendDue(): Promise<void> {
    for (;;) {
      const due = await this.options.notifications.due(this.clock(), 20);
      if (due.length === 0 || this.closed) return;
      const orders = new Map((await this.options.workOrders.byIds([...new Set(due.map((n) => n.workOrderId))])).map((w) => [w.id, w]));
      for (const notice of due) {
        const workOrder = orders.get(notice.workOrderId);
        if (workOrder) await this.send(notice, workOrder);
        else await this.options.notifications.attemptFailed(notice.id, `work order ${notice.workOrderId} is gone`, null, this.clock());
      }
    }
  }

  private async send(notice: PendingNotification, workOrder: WorkOrderRecord): Promise<void> {
    const webhook = this.options.settings.webhook!;
    const { notifications } = this.options;
    let error: string;
    try {
      const res = await this.fetch(webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-facility-monitor-notice': String(notice.id), ...webhook.headers },
        body: JSON.stringify(this.message(notice, workOrder)),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      await res.body?.cancel();
      if (res.ok) {
        await notifications.delivered(notice.id, this.clock());
        this.counters.delivered++;
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).message;
    }
    const attempts = notice.attempts + 1;
    const now = this.clock();
    if (attempts >= (this.options.maxAttempts ?? 20)) {
      await notifications.attemptFailed(notice.id, error, null, now);
      this.counters.failed++;
      this.log.error({ notice: notice.id, workOrder: workOrder.id, kind: notice.kind, attempts, error }, 'webhook notice given up');
      return;
    }
    const wait = Math.min((this.options.retryMs ?? 30_000) * 2 ** (attempts - 1), this.options.maxRetryMs ?? 30 * 60_000);
    await notifications.attemptFailed(notice.id, error, now + wait, now);
    this.counters.retried++;
    this.log.warn({ notice: notice.id, workOrder: workOrder.id, kind: notice.kind, attempts, error, retryInMs: wait }, 'webhook notice not delivered, will retry');
  }

  /** The message of a notice, its text in both languages from the label catalogue. */
  message(notice: PendingNotification, w: WorkOrderRecord): WebhookMessage {
    const { settings, estate } = this.options;
    const place = [w.building, w.unit ?? w.deviceId].filter(Boolean).join(' ');
    const base = {
      id: notice.id,
      kind: notice.kind,
      at: notice.createdAt,
      estate,
      workOrder: {
        id: w.id,
        title: w.title,
        category: w.category,
        priority: w.priority,
        state: w.state,
        building: w.building,
        unit: w.unit,
        deviceId: w.deviceId,
        peopleTrapped: w.peopleTrapped,
        responseDueAt: w.responseDueAt,
        replyDueAt: w.replyDueAt,
        callbackDueAt: w.callbackDueAt,
        escalationLevel: w.escalationLevel,
      },
    };
    const text = (key: 'notice.escalation' | 'notice.emergency-page', values: (l: Language) => Record<string, string | number>) =>
      Object.fromEntries(LANGUAGES.map((l) => [l, fill(label(l, 'notice', key.slice('notice.'.length))!, { estate: estate.name, id: w.id, title: w.title, place, ...values(l) })])) as Record<Language, string>;
    if (notice.kind === 'escalation') {
      const d = notice.details as { level: number; role: EscalationRole; reason: string; missed?: string[] };
      return {
        ...base,
        escalation: { level: d.level, role: d.role, reason: d.reason, missed: d.missed ?? [] },
        recipients: settings.contacts[d.role] ?? [],
        text: text('notice.escalation', (l) => ({ reason: label(l, 'escalationReason', d.reason) ?? d.reason, role: label(l, 'role', d.role) ?? d.role })),
      };
    }
    const d = notice.details as { reason: string };
    return {
      ...base,
      page: { reason: d.reason },
      recipients: settings.emergencyTeam,
      text: text('notice.emergency-page', (l) => ({ reason: label(l, 'pageReason', d.reason) ?? d.reason })),
    };
  }
}
