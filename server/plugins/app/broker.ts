import fp from 'fastify-plugin';
import type { MqttCredential } from '../../../common/env.ts';
import type { Logger } from '../../../common/logger.ts';
import { brokerPolicy } from '../../broker/broker-policy.ts';
import { redactUrl } from '../../broker/redact-url.ts';
import { startSecuredBroker, type SecuredBroker } from '../../broker/secured-broker.ts';

/** Where the server's own MQTT clients connect, and with which credentials. */
export interface BrokerConnection {
  url: string;
  credential?: MqttCredential;
  /** The embedded aedes broker; undefined when MQTT_URL points at another broker. */
  embedded?: SecuredBroker;
}

declare module 'fastify' {
  interface FastifyInstance {
    broker: BrokerConnection;
  }
}

/**
 * Hosts the embedded aedes broker on MQTT_HOST:MQTT_PORT (and MQTTS on MQTTS_PORT with
 * TLS_CERT/TLS_KEY) with client ids bound to logins, gateway and device authentication, topic
 * ACLs and packet and retained-message limits, unless MQTT_URL names another broker.
 */
export const brokerPlugin = fp(
  async (app) => {
    const log = app.log.child({ component: 'broker' }) as Logger;
    if (app.env.mqttUrl) {
      const connection: BrokerConnection = { url: app.env.mqttUrl };
      if (app.env.mqttCredential) connection.credential = app.env.mqttCredential;
      app.decorate('broker', connection);
      log.info({ broker: redactUrl(app.env.mqttUrl) }, 'using external MQTT broker');
      return;
    }
    const { maxPacketBytes, maxRetained } = app.env.busLimits;
    const policy = brokerPolicy(app.env.brokerAccess, { demo: app.site.site.demo, gateways: app.site.gateways }, { maxPacketBytes, maxRetained });
    const tls = app.env.tls && { cert: app.env.tls.cert, key: app.env.tls.key, port: app.env.mqttsPort };
    const secured = await startSecuredBroker({ port: app.env.mqttPort, host: app.env.mqttHost, ...(tls && { tls }), policy, logger: log });
    const unknown = [...policy.gateways.keys()].filter((g) => !policy.buildings.has(g));
    if (unknown.length > 0) log.warn({ gateways: unknown }, 'GATEWAY_CREDENTIALS names gateways the site file does not: they may log in but publish for no building');
    log.info(
      { port: secured.broker.port, gateways: [...policy.gateways.keys()], anonymousDevices: policy.anonymousDevices, devices: [...policy.devices.keys()] },
      'embedded broker access',
    );
    app.decorate('broker', { url: secured.broker.url, credential: policy.server, embedded: secured });
    const refused = app.metrics.gauge('fm_broker_refused_total', 'Connections, publishes, subscriptions and packets the embedded broker refused, by reason');
    const clients = app.metrics.gauge('fm_broker_clients', 'Clients connected to the embedded broker');
    const retained = app.metrics.gauge('fm_broker_retained_messages', 'Retained messages the embedded broker keeps');
    app.metrics.onCollect(() => {
      for (const { what, reason, n } of secured.refusals()) refused.set(n, { what, reason });
      clients.set(secured.broker.aedes.connectedClients);
      retained.set(secured.retained);
    });
    app.addHook('onClose', async () => {
      await secured.close();
    });
  },
  { name: 'broker', dependencies: ['config', 'metrics'], fastify: '5.x' },
);
