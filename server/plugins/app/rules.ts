import fp from 'fastify-plugin';
import type { Logger } from '../../../common/logger.ts';
import { ALARM_SEVERITIES, type AlarmSeverity } from '../../alarms/alarm.ts';
import type { AlarmService } from '../../alarms/alarm-service.ts';
import { EstateTopology } from '../../infrastructure/estate-topology.ts';
import { InfrastructureMonitor } from '../../infrastructure/infrastructure-monitor.ts';
import { linkAlarmsToWorkOrders, type AlarmWorkOrderCounters } from '../../live/alarm-work-orders.ts';
import type { RulesConfig } from '../../rules/rule-config.ts';
import { RulesEngine } from '../../rules/rules-engine.ts';
import { scheduleTicks } from '../../rules/tick-scheduler.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The rules engine: fed by the bus, raises and clears alarms. */
    rules: RulesEngine;
    /** Open alarms and their history; acknowledge and shelve. */
    alarms: AlarmService;
    /** The conditions gateways report about themselves and their links, as alarms that suppress their consequences. */
    infrastructure: InfrastructureMonitor;
  }
}

/**
 * The rules engine over the records database, with the rules buildApp resolved before opening anything. Pending on- and off-delays and open alarms are
 * restored at start (so a restart in the middle of an on-delay raises on time), and every
 * announced alarm opens or adds to a work order.
 */
export const rulesPlugin = fp<{ rules?: RulesConfig }>(
  async (app, opts) => {
    const log = app.log.child({ component: 'rules' }) as Logger;
    const engine = new RulesEngine({ site: app.site, ...(opts.rules ? { rules: opts.rules } : {}), store: app.records.alarms, clock: app.clock, logger: log });
    engine.on('error', (err) => log.error({ err }, 'rule evaluation failed'));
    const linked: AlarmWorkOrderCounters = { created: 0, occurrences: 0, failed: 0 };
    const unlink = linkAlarmsToWorkOrders(engine.alarms, app.workOrders, { logger: log, counters: linked });
    const infrastructure = new InfrastructureMonitor({
      alarms: engine.alarms,
      topology: new EstateTopology(app.site, (device) => engine.gatewayOf(device)),
      devices: engine,
      clock: app.clock,
      logger: log,
    });
    await engine.restore(app.clock());
    infrastructure.restore();
    const ticks = scheduleTicks(engine, { clock: app.clock });

    app.decorate('rules', engine);
    app.decorate('alarms', engine.alarms);
    app.decorate('infrastructure', infrastructure);

    const evaluated = app.metrics.gauge('fm_rules_inputs_total', 'Readings and events evaluated by the rules engine');
    const errors = app.metrics.gauge('fm_rules_errors_total', 'Rule evaluations that failed');
    const workOrders = app.metrics.gauge('fm_alarm_work_orders_total', 'Work orders opened by alarms, occurrences added, and failures to record them');
    const open = app.metrics.gauge('fm_alarms_open', 'Open alarms per severity');
    const suppressed = app.metrics.gauge('fm_alarms_suppressed', 'Open alarms suppressed by their cause (recorded, not announced)');
    app.metrics.onCollect(() => {
      evaluated.set(engine.counters.readings, { input: 'reading' });
      evaluated.set(engine.counters.events, { input: 'event' });
      evaluated.set(engine.counters.unknownDevice, { input: 'unknown-device' });
      errors.set(engine.counters.errors);
      for (const [what, n] of Object.entries(linked)) workOrders.set(n, { what });
      const bySeverity = Object.fromEntries(ALARM_SEVERITIES.map((s) => [s, 0])) as Record<AlarmSeverity, number>;
      for (const a of engine.alarms.listActive()) bySeverity[a.severity]++;
      for (const [severity, n] of Object.entries(bySeverity)) open.set(n, { severity });
      suppressed.set(engine.alarms.listActive({ suppressed: 'only' }).length);
    });
    app.addHook('onClose', async () => {
      ticks.stop();
      // What the engine has decided is stored before the records close.
      await engine.settled();
      unlink();
      engine.removeAllListeners();
    });
  },
  { name: 'rules', dependencies: ['config', 'records', 'metrics', 'work-orders'], fastify: '5.x' },
);
