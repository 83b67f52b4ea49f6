import type { Logger } from '../../common/logger.ts';
import type { SiteConfig } from '../../common/site/types.ts';
import type { MetricsRegistry } from '../../common/metrics.ts';
import { ModbusConnector } from '../modbus/modbus-connector.ts';
import { MqttConnector } from '../mqtt/mqtt-connector.ts';
import type { Connector, Ingest } from './connector.ts';

export interface ConnectorContext {
  site: SiteConfig;
  ingest: Ingest;
  metrics: MetricsRegistry;
  logger: Logger;
  /** Broker the MQTT devices publish to, and the gateway's credentials there. */
  deviceBrokerUrl: string;
  deviceBrokerUsername?: string | undefined;
  deviceBrokerPassword?: string | undefined;
}

/** Every connector the gateway runs, by name. A connector with no device in the site file is not started. */
export const CONNECTORS: Record<string, { wanted(site: SiteConfig): boolean; create(ctx: ConnectorContext): Connector }> = {
  modbus: {
    wanted: (site) => site.devices.some((d) => d.modbus),
    create: (ctx) => new ModbusConnector({ site: ctx.site, ingest: ctx.ingest, metrics: ctx.metrics, logger: ctx.logger }),
  },
  mqtt: {
    wanted: (site) => site.devices.some((d) => d.mqtt),
    create: (ctx) =>
      new MqttConnector({
        site: ctx.site,
        brokerUrl: ctx.deviceBrokerUrl,
        ingest: ctx.ingest,
        metrics: ctx.metrics,
        logger: ctx.logger,
        ...(ctx.deviceBrokerUsername ? { username: ctx.deviceBrokerUsername } : {}),
        ...(ctx.deviceBrokerPassword ? { password: ctx.deviceBrokerPassword } : {}),
      }),
  },
};
