import { brokerUrl, type Environment, type MqttLogin } from '../common/env.ts';
import type { Logger } from '../common/logger.ts';
import { isMainModule, runUntilSignalled } from '../common/run-process.ts';
import { siteOfItsGateway } from '../common/site/gateways.ts';
import { DEMO_SITE_FILE, loadSiteFile } from '../common/site/load.ts';
import { Gateway } from './gateway.ts';
import { startGatewayHttp } from './http-endpoint.ts';
import { watchSiteFile } from './site-watcher.ts';

export interface RunningGateway {
  gateway: Gateway;
  httpPort: number;
  stop(): Promise<void>;
}

/**
 * Starts the gateway process (docs/gateway.md#environment). Throws before opening any socket when
 * the site file is invalid. `upstreamLogin` overrides the environment's (npm start passes the demo
 * gateway's).
 */
export async function runGateway(env: Environment, logger: Logger, upstreamLogin: MqttLogin | undefined = env.gateway.upstreamLogin): Promise<RunningGateway> {
  const file = env.siteConfig ?? DEMO_SITE_FILE;
  // The gateway reads the devices of the buildings it serves (gateway.buildings), no others.
  const site = siteOfItsGateway(loadSiteFile(file, env.siteVariables));
  const httpPort = env.gateway.httpPort;
  const url = brokerUrl(env);
  const deviceLogin = env.gateway.deviceBrokerLogin ?? upstreamLogin;
  const gateway = new Gateway({
    site,
    dataDir: env.dataDir,
    influxUrl: env.influxUrl,
    deviceBrokerUrl: url,
    upstreamBrokerUrl: env.gateway.upstreamMqttUrl ?? url,
    ...(upstreamLogin ? { upstreamUsername: upstreamLogin.username } : {}),
    ...(upstreamLogin?.password !== undefined ? { upstreamPassword: upstreamLogin.password } : {}),
    ...(deviceLogin ? { deviceBrokerUsername: deviceLogin.username } : {}),
    ...(deviceLogin?.password !== undefined ? { deviceBrokerPassword: deviceLogin.password } : {}),
    logger,
  });
  let http: Awaited<ReturnType<typeof startGatewayHttp>>;
  try {
    await gateway.start();
    http = await startGatewayHttp({ port: httpPort, host: env.gateway.httpHost, ...(env.tls && { tls: env.tls }), metrics: gateway.metrics, health: () => gateway.health() });
  } catch (err) {
    // A half-started gateway would keep its broker sessions, loops and the outbox lock.
    await gateway.stop().catch((e: unknown) => logger.error({ err: (e as Error).message }, 'stopping the half-started gateway failed'));
    throw err;
  }
  const unwatch = watchSiteFile({ file, variables: env.siteVariables, logger, metrics: gateway.metrics, apply: (s) => gateway.reconfigure(siteOfItsGateway(s)) });
  logger.info({ metrics: `${env.tls ? 'https' : 'http'}://${env.gateway.httpHost}:${http.port}/metrics`, broker: url, store: env.influxUrl ? 'influxdb' : 'sqlite' }, 'gateway ready');
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

if (isMainModule(import.meta.url)) void runUntilSignalled('gateway', runGateway);
