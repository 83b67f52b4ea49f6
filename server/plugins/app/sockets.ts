import fp from 'fastify-plugin';
import type { Logger } from '../../../common/logger.ts';
import { AlarmFeed } from '../../live/alarm-feed.ts';
import { DashboardSockets } from '../../live/dashboard-sockets.ts';
import { WORK_ORDER_STATES, type WorkOrder, type WorkOrderState } from '../../work-orders/types.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Socket.IO feed of the dashboards at /socket.io. */
    sockets: DashboardSockets;
  }
}

const NOT_CLOSED: WorkOrderState[] = WORK_ORDER_STATES.filter((s) => s !== 'closed');
const SNAPSHOT_TICKETS = 500;

export interface SocketsPluginOptions {
  /** How often sockets are checked for an expired session (default 30 s). */
  sessionCheckMs?: number;
}

/**
 * Socket.IO on the Fastify HTTP server; a socket logs in with the bearer token of POST /api/auth/login
 * and is disconnected when that session ends: at once on logout or when the user's sessions are
 * revoked, within `sessionCheckMs` of its expiry.
 */
export const socketsPlugin = fp<SocketsPluginOptions>(
  async (app, opts) => {
    const feed = new AlarmFeed(app.alarms, app.site.site);
    const sockets = new DashboardSockets({
      httpServer: app.server,
      verifyToken: (token) => app.sessions.find(token),
      site: app.site,
      liveState: app.liveState,
      alarms: feed,
      clock: app.clock,
      openTickets: async (buildings) => {
        const all = buildings.length === app.site.buildings.length;
        const filters = all ? [{}] : buildings.map((building) => ({ building }));
        const pages = await Promise.all(filters.map((f) => app.workOrderQueries.list({ ...f, state: NOT_CLOSED, limit: SNAPSHOT_TICKETS })));
        return pages.flatMap((p): WorkOrder[] => p.items);
      },
      onTicketChange: (listener) => {
        app.workOrderChanges.on('change', listener);
        return () => app.workOrderChanges.off('change', listener);
      },
      onSessionEnded: (listener) => {
        const revoked = (userId: number): void => listener({ reason: 'revoked', userId });
        app.sessions.on('ended', listener);
        app.users.on('sessions-ended', revoked);
        return () => {
          app.sessions.off('ended', listener);
          app.users.off('sessions-ended', revoked);
        };
      },
      ...(opts.sessionCheckMs !== undefined && { sessionCheckMs: opts.sessionCheckMs }),
      logger: app.log.child({ component: 'sockets' }) as Logger,
    });
    app.decorate('sockets', sockets);
    const connected = app.metrics.gauge('fm_dashboard_sockets', 'Dashboards connected over Socket.IO');
    const deltas = app.metrics.gauge('fm_dashboard_deltas_total', 'Deltas pushed to dashboards, by kind');
    const ended = app.metrics.gauge('fm_dashboard_sessions_ended_total', 'Dashboard sockets disconnected because their session ended');
    app.metrics.onCollect(() => {
      connected.set(sockets.counters.connected);
      for (const kind of ['deviceDeltas', 'alarmDeltas', 'ticketDeltas', 'buildingDeltas'] as const) deltas.set(sockets.counters[kind], { kind });
      ended.set(sockets.counters.sessionsEnded);
    });
    // Before the HTTP server closes: open websockets would otherwise hold it open.
    app.addHook('preClose', async () => {
      await sockets.close();
      feed.close();
    });
  },
  { name: 'sockets', dependencies: ['config', 'metrics', 'auth', 'work-orders', 'rules', 'bus'], fastify: '5.x' },
);
