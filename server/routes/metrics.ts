import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ALARM_SEVERITIES, isActive } from '../alarms/alarm.ts';
import { checkHealth } from '../http/health.ts';
import { HttpError } from '../http/http-error.ts';
import { startMetricsListener, tokenMatches } from '../http/metrics-listener.ts';
import { errors } from './schemas/common.ts';
import { WORK_ORDER_CATEGORIES } from '../work-orders/types.ts';

/**
 * Prometheus text at /metrics: what the server's plugins register, and the figures of the records.
 * With METRICS_TOKEN it answers only that bearer token; with METRICS_PORT it leaves the API port
 * for a listener of its own on METRICS_HOST (docs/security.md#metrics).
 */
export const metricsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const m = app.metrics;
  const readingsIn = m.gauge('fm_readings_received_total', 'Readings received from the gateways (upstream state messages)');
  const alarmsActive = m.gauge('fm_alarms_active', 'Active alarms (condition in alarm) per severity');
  const open = m.gauge('fm_work_orders_open', 'Work orders not closed, per category');
  const overdue = m.gauge('fm_work_orders_overdue', 'Work orders past a deadline now, per kind of deadline (response, reply, callback, verification)');
  const escalated = m.gauge('fm_work_orders_escalated', 'Work orders not closed that were escalated, per level reached (1 supervisor, 2 estate manager, 3 property manager)');
  const byState = m.gauge('fm_work_orders', 'Work orders per state');
  const leakTests = m.gauge('fm_work_orders_leak_test_pending', 'Resolved leak repairs waiting for their leak test');
  const storeUp = m.gauge('fm_reading_store_up', '1 when the reading store answers');
  const databaseUp = m.gauge('fm_records_database_up', '1 when the records database answers');
  const brokerUp = m.gauge('fm_upstream_connected', '1 while subscribed to the upstream broker');

  m.onCollect(() => {
    readingsIn.set(app.hasDecorator('bus') ? app.bus.counters.readings : 0);
    const active = Object.fromEntries(ALARM_SEVERITIES.map((s) => [s, 0])) as Record<string, number>;
    if (app.hasDecorator('alarms')) for (const a of app.alarms.listActive()) if (isActive(a)) active[a.severity]!++;
    for (const [severity, n] of Object.entries(active)) alarmsActive.set(n, { severity });
  });

  const render = async (): Promise<string> => {
      const counts = await app.workOrderQueries.counts();
      for (const category of WORK_ORDER_CATEGORIES) open.set(counts.openByCategory[category], { category });
      for (const [kind, n] of Object.entries(counts.overdue)) overdue.set(n, { kind });
      for (const [state, n] of Object.entries(counts.byState)) byState.set(n, { state });
      leakTests.set(counts.leakTestPending);
      for (const [level, n] of Object.entries(counts.escalated)) escalated.set(n, { level });
      const health = await checkHealth(app);
      storeUp.set(health.checks.store.ok ? 1 : 0, { backend: health.checks.store.backend });
      databaseUp.set(health.checks.database.ok ? 1 : 0);
      brokerUp.set(health.checks.broker.ok ? 1 : 0);
      return m.render();
  };

  const { token, port, host } = app.env.metrics;
  if (port !== undefined) {
    let listener: Awaited<ReturnType<typeof startMetricsListener>> | undefined;
    app.addHook('onReady', async () => {
      listener = await startMetricsListener({ port, host, token, render, ...(app.env.tls && { tls: app.env.tls }), log: app.log });
    });
    app.addHook('onClose', async () => listener?.close());
    return;
  }

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus text exposition',
        description: 'With METRICS_TOKEN set, send it as `Authorization: Bearer <token>`.',
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }), ...errors(401) },
      },
    },
    async (request, reply) => {
      if (token !== undefined && !tokenMatches(request.headers.authorization, token)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw new HttpError(401, 'send the metrics token (METRICS_TOKEN) as "Authorization: Bearer <token>"');
      }
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(await render());
    },
  );
};
