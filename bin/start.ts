import { brokerUrl, EnvironmentError } from '../common/env.ts';
import { runUntilSignalled } from '../common/run-process.ts';
import { DEMO_SITE_FILE, loadSiteFile } from '../common/site/load.ts';
import { startEstate } from '../devices/estate-simulator.ts';
import { isScenarioName, SCENARIO_NAMES } from '../devices/scenarios.ts';
import { runGateway } from '../gateway/main.ts';
import { DEMO_GATEWAY_PASSWORD } from '../server/broker/broker-policy.ts';
import { redactUrl } from '../server/broker/redact-url.ts';
import { runServer } from '../server/main.ts';

/**
 * `npm start`: the whole system on one machine. The server (API, dashboard feed, rules, and the
 * embedded broker unless MQTT_URL is set), the simulated devices of the site, and the gateway.
 * Everything is checked before the first port opens; Ctrl-C stops every part, gateway first so
 * that everything it acknowledged is on disk.
 */
void runUntilSignalled('facility-monitor', async (env, logger) => {
  const site = loadSiteFile(env.siteConfig ?? DEMO_SITE_FILE, env.siteVariables);
  const scenario = env.scenario;
  if (!isScenarioName(scenario)) throw new EnvironmentError(`SCENARIO=${scenario}: unknown scenario (known: ${SCENARIO_NAMES.join(', ')})`);
  // The demo estate's gateway logs in with the demo credential the server accepts for it.
  const gatewayLogin = env.gateway.upstreamLogin ?? (site.site.demo ? { username: site.gateway.id, password: DEMO_GATEWAY_PASSWORD } : undefined);

  const server = await runServer(env, logger.child({ component: 'server' }));
  const url = brokerUrl(env);
  const estate = await startEstate({ site, brokerUrl: url, scenario: 'normal', logger: logger.child({ component: 'devices' }) });
  const gateway = await runGateway(env, logger.child({ component: 'gateway' }), gatewayLogin);
  // The scenario starts once the gateway has subscribed, so its first event is not lost.
  if (scenario !== 'normal') estate.scenario(scenario);

  process.stdout.write(
    [
      `  devices:  ${site.devices.length} simulated in ${site.buildings.length} buildings, scenario '${scenario}' (SCENARIO=name to change)`,
      `  store:    ${env.influxUrl ? redactUrl(env.influxUrl) : `SQLite in ${env.dataDir}/readings.db`}`,
      `  records:  ${env.databaseUrl ? redactUrl(env.databaseUrl) : `SQLite in ${env.dataDir}/records.db`}`,
      `  gateway:  ${env.tls ? 'https' : 'http'}://${env.gateway.httpHost}:${gateway.httpPort}/metrics  (and /health)`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  return {
    stop: async () => {
      await gateway.stop();
      await estate.stop();
      await server.stop();
    },
  };
});
