import { brokerUrl, readEnvironment, readPort, type Environment } from '../common/env.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { isMainModule, runUntilSignalled } from '../common/run-process.ts';
import { DEMO_SITE_FILE, loadSiteFile } from '../common/site/load.ts';
import { Gateway } from './gateway.ts';
import { startGatewayHttp } from './http-endpoint.ts';
import { watchSiteFile } from './site-watcher.ts';

export interface RunningGateway {
  gateway: Gateway;
  httpPort: number;
  stop(): Promise<void>;
}

/** Starts the gateway process from the environment (docs/site-file.md). Throws before opening any socket when the configuration is invalid. */
export async function runGateway(env: Environment = readEnvironment(), logger: Logger = createLogger('gateway')): Promise<RunningGateway> {
  const file = env.siteConfig ?? DEMO_SITE_FILE;
  const site = loadSiteFile(file);
  const httpPort = readPort('GATEWAY_HTTP_PORT', 9102);
  const url = brokerUrl(env);
  const upstreamUsername = process.env.GATEWAY_MQTT_USERNAME || undefined;
  const upstreamPassword = process.env.GATEWAY_MQTT_PASSWORD || undefined;
  const deviceBrokerUsername = process.env.DEVICE_MQTT_USERNAME || upstreamUsername;
  const deviceBrokerPassword = process.env.DEVICE_MQTT_PASSWORD || upstreamPassword;
  const gateway = new Gateway({
    site,
    dataDir: env.dataDir,
    influxUrl: env.influxUrl,
    deviceBrokerUrl: url,
    upstreamBrokerUrl: process.env.UPSTREAM_MQTT_URL || url,
    ...(upstreamUsername ? { upstreamUsername } : {}),
    ...(upstreamPassword ? { upstreamPassword } : {}),
    ...(deviceBrokerUsername ? { deviceBrokerUsername } : {}),
    ...(deviceBrokerPassword ? { deviceBrokerPassword } : {}),
    logger,
  });
  let http: Awaited<ReturnType<typeof startGatewayHttp>>;
  try {
    await gateway.start();
    http = await startGatewayHttp({ port: httpPort, metrics: gateway.metrics, health: () => gateway.health() });
  } catch (err) {
    // A half-started gateway would keep its broker sessions, loops and the outbox lock.
    await gateway.stop().catch((e: unknown) => logger.error({ err: (e as Error).message }, 'stopping the half-started gateway failed'));
    throw err;
  }
  const unwatch = watchSiteFile({ file, logger, metrics: gateway.metrics, apply: (s) => gateway.reconfigure(s) });
  logger.info({ metrics: `http://127.0.0.1:${http.port}/metrics`, broker: url, store: env.influxUrl ? 'influxdb' : 'sqlite' }, 'gateway ready');
  return {
    gateway,
    httpPort: http.port,
    stop: async () => {
      await unwatch();
      await http.close();
      await gateway.stop();
    },
  };
}

if (isMainModule(import.meta.url)) {
  const logger = createLogger('gateway');
  void runUntilSignalled('gateway', logger, () => runGateway(readEnvironment(), logger));
}
