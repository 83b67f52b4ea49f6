import fp from 'fastify-plugin';
import type { Logger } from '../../../common/logger.ts';
import type { Alarm } from '../../alarms/alarm.ts';
import { upstreamSiteView } from '../../bus/site-view.ts';
import { UpstreamConsumer } from '../../bus/upstream-consumer.ts';
import { LiveDeviceState } from '../../live/device-state.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The upstream consumer: status and counters for /api/health and /metrics. */
    bus: UpstreamConsumer;
    /** Latest values, last seen and online state of every device of the site. */
    liveState: LiveDeviceState;
  }
}

const isOffline = (a: Alarm): boolean => a.ruleType === 'offline';

/**
 * Subscribes to the gateways' upstream topics on the broker (embedded or MQTT_URL) once the
 * server is ready, and feeds the live device state and the rules engine.
 */
export const busPlugin = fp(
  async (app) => {
    const log = app.log.child({ component: 'bus' }) as Logger;
    const liveState = new LiveDeviceState(app.site);
    for (const a of app.alarms.listActive({ suppressed: 'include' })) if (isOffline(a) && a.conditionActive) liveState.markOffline(a.device, a.lastTripAt);
    const raised = (a: Alarm): void => {
      if (isOffline(a)) liveState.markOffline(a.device, a.lastTripAt);
    };
    const cleared = (a: Alarm): void => {
      if (isOffline(a)) liveState.markOnline(a.device, a.clearedAt ?? a.updatedAt);
    };
    // A device whose offline alarm is suppressed by its cause is offline all the same.
    const suppressed = (a: Alarm): void => (a.conditionActive ? raised(a) : cleared(a));
    app.alarms.on('alarm-raised', raised);
    app.alarms.on('alarm-cleared', cleared);
    app.alarms.on('alarm-suppressed', suppressed);

    const bus = new UpstreamConsumer({
      brokerUrl: app.broker.url,
      ...(app.broker.credential ? { username: app.broker.credential.username, password: app.broker.credential.password } : {}),
      clientId: `fm-server-${app.site.site.id}`,
      liveState,
      sink: {
        onReading: (r, gateway) => app.rules.onReading(r, gateway),
        onEvent: (e, gateway) => app.rules.onEvent(e, gateway),
        // The gateway's own conditions first, then the devices behind it.
        onGatewayStatus: (status) => app.infrastructure.onGatewayStatus(status),
        settled: () => app.rules.settled(),
      },
      logger: log,
      site: upstreamSiteView(app.site),
      clock: app.clock,
      maxAheadMs: app.env.busLimits.maxAheadMs,
    });
    bus.on('error', (err) => log.error({ err }, 'upstream message processing failed'));
    app.decorate('bus', bus);
    app.decorate('liveState', liveState);

    const messages = app.metrics.gauge('fm_bus_messages_total', 'Upstream MQTT messages by outcome');
    const connected = app.metrics.gauge('fm_bus_connected', '1 while the server is subscribed to the upstream broker');
    const refused = app.metrics.gauge('fm_bus_refused_total', 'Upstream messages refused whole or in part, by reason');
    app.metrics.onCollect(() => {
      for (const [what, n] of Object.entries(bus.counters)) messages.set(n, { what });
      for (const { reason, n } of bus.refusals()) refused.set(n, { reason });
      connected.set(bus.connected ? 1 : 0);
    });

    app.addHook('onReady', async () => {
      await bus.start();
    });
    app.addHook('onClose', async () => {
      await bus.stop();
      app.alarms.off('alarm-raised', raised);
      app.alarms.off('alarm-cleared', cleared);
      app.alarms.off('alarm-suppressed', suppressed);
      liveState.removeAllListeners();
    });
  },
  { name: 'bus', dependencies: ['config', 'metrics', 'broker', 'rules'], fastify: '5.x' },
);
