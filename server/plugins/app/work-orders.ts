import { EventEmitter } from 'node:events';
import fp from 'fastify-plugin';
import type { Logger } from '../../../common/logger.ts';
import type { WorkOrderChange } from '../../work-orders/types.ts';
import { WorkOrderQueries } from '../../work-orders/work-order-queries.ts';
import { WorkOrderService } from '../../work-orders/work-order-service.ts';

export interface WorkOrderFeedEvents {
  /** After each committed change: creation, alarm occurrence, action. */
  change: [change: WorkOrderChange];
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Changes to work orders: creation, alarms, people's actions. */
    workOrders: WorkOrderService;
    /** Reading work orders: one with its timeline, lists, overdue ones, figures. */
    workOrderQueries: WorkOrderQueries;
    /** Committed work-order changes, for the sockets and anything else that pushes them. */
    workOrderChanges: EventEmitter<WorkOrderFeedEvents>;
  }
}

export const workOrdersPlugin = fp(
  async (app) => {
    const changes = new EventEmitter<WorkOrderFeedEvents>();
    const service = new WorkOrderService({
      records: app.records.workOrders,
      clock: app.clock,
      logger: app.log.child({ component: 'work-orders' }) as Logger,
      onChange: (workOrder, event) => changes.emit('change', { workOrder, event }),
    });
    app.decorate('workOrders', service);
    app.decorate('workOrderQueries', new WorkOrderQueries(app.records.workOrders, app.clock));
    app.decorate('workOrderChanges', changes);
    app.addHook('onClose', async () => {
      changes.removeAllListeners();
    });
  },
  { name: 'work-orders', dependencies: ['config', 'records'], fastify: '5.x' },
);
