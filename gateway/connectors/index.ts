import type { Logger } from '../../common/logger.ts';
import type { ProtocolName, SiteConfig } from '../../common/site/types.ts';
import { Dlt645Connector } from '../dlt645/dlt645-connector.ts';
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
  /** Time of readings and of connection changes. */
  now: () => number;
}

export interface ConnectorEntry {
  /** Whether the site has devices of this protocol; a connector without devices is not started. */
  wanted(site: SiteConfig): boolean;
  create(ctx: ConnectorContext): Connector;
}

const hasDevices = (protocol: ProtocolName) => (site: SiteConfig) => site.devices.some((d) => d.protocol === protocol);

/**
 * The connector of every protocol of `common/protocols/`, by protocol name: one explicit map, not
 * a folder scan. The type makes a protocol without a connector a compile error (docs/extending.md).
 */
export const CONNECTORS: { readonly [P in ProtocolName]: ConnectorEntry } = {
  modbus: {
    wanted: hasDevices('modbus'),
    create: (ctx) => new ModbusConnector({ site: ctx.site, ingest: ctx.ingest, metrics: ctx.metrics, logger: ctx.logger, now: ctx.now }),
  },
  mqtt: {
    wanted: hasDevices('mqtt'),
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
  dlt645: {
    wanted: hasDevices('dlt645'),
    create: (ctx) => new Dlt645Connector({ site: ctx.site, ingest: ctx.ingest, metrics: ctx.metrics, logger: ctx.logger, now: ctx.now }),
  },
};
