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
 * Hosts the embedded aedes broker on MQTT_PORT (all interfaces unless MQTT_HOST says otherwise)
 * with gateway and device authentication and topic ACLs, unless MQTT_URL names another broker.
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
    const policy = brokerPolicy(app.env.brokerAccess, { demo: app.site.site.demo, gatewayId: app.site.gateway.id });
    const secured = await startSecuredBroker({ port: app.env.mqttPort, host: app.env.mqttHost, policy, logger: log });
    log.info(
      { port: secured.broker.port, gateways: [...policy.gateways.keys()], anonymousDevices: policy.anonymousDevices, devices: [...policy.devices.keys()] },
      'embedded broker access',
    );
    app.decorate('broker', { url: secured.broker.url, credential: policy.server, embedded: secured });
    const refused = app.metrics.gauge('fm_broker_refused_total', 'Connections, publishes and subscriptions the embedded broker refused');
    const clients = app.metrics.gauge('fm_broker_clients', 'Clients connected to the embedded broker');
    app.metrics.onCollect(() => {
      for (const [what, n] of Object.entries(secured.refused)) refused.set(n, { what });
      clients.set(secured.broker.aedes.connectedClients);
    });
    app.addHook('onClose', async () => {
      await secured.close();
    });
  },
  { name: 'broker', dependencies: ['config', 'metrics'], fastify: '5.x' },
);
