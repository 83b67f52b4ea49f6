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
  // The alarm-system report of the last 24 hours (docs/rules.md), computed at each scrape.
  const reportAlarms = m.gauge('fm_alarm_report_alarms', 'Alarms announced in the last 24 hours');
  const reportRate = m.gauge('fm_alarm_report_alarms_per_window', 'Alarms announced per 10 minutes over the last 24 hours: average and peak');
  const reportFloodShare = m.gauge('fm_alarm_report_flood_window_share', 'Share of the 10-minute windows of the last 24 hours with more alarms than the flood limit');
  const reportFloods = m.gauge('fm_alarm_report_floods', 'Alarm floods that went on in the last 24 hours');
  const reportPoints = m.gauge('fm_alarm_report_points', 'Alarm points of the last 24 hours that chattered, were fleeting or stale');
  const reportTop = m.gauge('fm_alarm_report_top_trips', 'Trips of the 10 most frequent alarm points of the last 24 hours');
  const reportHeld = m.gauge('fm_alarm_report_held', 'Alarms of the last 24 hours shelved, and suppressed by their cause');
  const reportPerWorkOrder = m.gauge('fm_alarm_report_alarms_per_work_order', 'Alarms announced per work order opened by alarms in the last 24 hours (0 without work orders)');

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
      const to = app.clock();
      const from = to - 24 * 3_600_000;
      const report = await app.alarms.report(from, to, await app.workOrderQueries.openedByAlarms(from, to));
      reportAlarms.set(report.alarms);
      reportRate.set(report.perWindow.average, { stat: 'average' });
      reportRate.set(report.perWindow.peak, { stat: 'peak' });
      reportFloodShare.set(report.floodShare);
      reportFloods.set(report.floods.length);
      for (const kind of ['chattering', 'fleeting', 'stale'] as const) reportPoints.set(report[kind].length, { kind });
      reportTop.reset();
      for (const p of report.mostFrequent) reportTop.set(p.trips, { point: p.key });
      reportHeld.set(report.shelved, { how: 'shelved' });
      reportHeld.set(report.suppressed, { how: 'suppressed' });
      reportPerWorkOrder.set(report.alarmsPerWorkOrder ?? 0);
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
