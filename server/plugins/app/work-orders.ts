import { EventEmitter } from 'node:events';
import fp from 'fastify-plugin';
import type { Logger } from '../../../common/logger.ts';
import type { WorkOrderChange } from '../../work-orders/types.ts';
import { WebhookNotifier } from '../../work-orders/webhook-notifier.ts';
import { WorkOrderQueries } from '../../work-orders/work-order-queries.ts';
import { WorkOrderService } from '../../work-orders/work-order-service.ts';
import { resolveWorkOrderSettings, type WorkOrderSettings } from '../../work-orders/work-order-settings.ts';

export interface WorkOrderFeedEvents {
  /** After each committed change, once per timeline entry: creation, alarm occurrence, action, escalation, paging. */
  change: [change: WorkOrderChange];
}

export interface WorkOrdersPluginOptions {
  /** The site file's `workOrders` section, checked before anything opened; resolved here when not given. */
  settings?: WorkOrderSettings;
  /** How often missed deadlines are looked for and escalated (default 30 s). */
  escalationCheckMs?: number;
  /** How often the webhook's notices are retried (default 5 s); new ones are sent at once. */
  notifierRetryCheckMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Changes to work orders: creation, alarms, people's actions, escalation of missed deadlines. */
    workOrders: WorkOrderService;
    /** Reading work orders: one with its timeline, lists, overdue ones, figures, monthly statistics. */
    workOrderQueries: WorkOrderQueries;
    /** Committed work-order changes, for the sockets and anything else that pushes them. */
    workOrderChanges: EventEmitter<WorkOrderFeedEvents>;
    /** Sends escalations and emergency pages to the estate's webhook. */
    notifier: WebhookNotifier;
  }
}

export const workOrdersPlugin = fp<WorkOrdersPluginOptions>(
  async (app, opts) => {
    const log = app.log.child({ component: 'work-orders' }) as Logger;
    const settings = opts.settings ?? resolveWorkOrderSettings(app.site);
    const changes = new EventEmitter<WorkOrderFeedEvents>();
    const notifier = new WebhookNotifier({
      notifications: app.records.notifications,
      workOrders: app.records.workOrders,
      settings,
      estate: { id: app.site.site.id, name: app.site.site.name },
      clock: app.clock,
      logger: app.log.child({ component: 'webhook' }) as Logger,
    });
    const service = new WorkOrderService({
      records: app.records.workOrders,
      clock: app.clock,
      settings,
      logger: log,
      onChange: (workOrder, event) => changes.emit('change', { workOrder, event }),
      onNotices: () => void notifier.kick(),
    });
    app.decorate('workOrders', service);
    app.decorate('workOrderQueries', new WorkOrderQueries(app.records.workOrders, app.clock));
    app.decorate('workOrderChanges', changes);
    app.decorate('notifier', notifier);

    // Missed deadlines go up a level (domain rule 9); a sweep that fails is logged and tried at the next.
    let sweeping: Promise<unknown> | undefined;
    const sweep = (): void => {
      if (sweeping) return;
      sweeping = service
        .escalateOverdue()
        .catch((err: unknown) => log.error({ err }, 'escalation of missed deadlines failed'))
        .finally(() => (sweeping = undefined));
    };
    const escalation = setInterval(sweep, opts.escalationCheckMs ?? 30_000);
    escalation.unref();
    notifier.start(opts.notifierRetryCheckMs);

    const notices = app.metrics.gauge('fm_webhook_notices_total', 'Webhook notices (escalations, emergency pages) delivered, retried after a failure, given up');
    app.metrics.onCollect(() => {
      for (const [result, n] of Object.entries(notifier.counters)) notices.set(n, { result });
    });
    app.addHook('onClose', async () => {
      clearInterval(escalation);
      await sweeping;
      await notifier.close();
      changes.removeAllListeners();
    });
  },
  { name: 'work-orders', dependencies: ['config', 'records', 'metrics'], fastify: '5.x' },
);
