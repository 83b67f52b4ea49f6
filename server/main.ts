import type { Environment } from '../common/env.ts';
import type { Logger } from '../common/logger.ts';
import { isMainModule, runUntilSignalled } from '../common/run-process.ts';
import { DEMO_SITE_FILE, loadSiteFile } from '../common/site/load.ts';
import { buildApp } from './app.ts';
import { ensureDashboardBuilt } from './dashboard/dashboard-build.ts';
import { DEMO_PASSWORD, DEMO_USERS } from './plugins/app/auth.ts';

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * The server process (`npm run server`): the site file (rules included) and the environment are
 * checked by buildApp before it opens the broker port, then the server listens on HOST:PORT.
 */
export async function runServer(env: Environment, logger: Logger): Promise<RunningServer> {
  const site = loadSiteFile(env.siteConfig ?? DEMO_SITE_FILE, env.siteVariables);
  await ensureDashboardBuilt({ logger: logger.child({ component: 'dashboard' }) });
  const app = await buildApp({ site, env, logger });
  try {
    await app.listen({ port: env.port, host: env.host });
  } catch (err) {
    await app.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : env.port;
  const url = `${env.tls ? 'https' : 'http'}://${env.host === '0.0.0.0' || env.host === '::' ? 'localhost' : env.host.includes(':') ? `[${env.host}]` : env.host}:${port}`;
  const tlsBroker = app.broker.embedded?.broker.tlsUrl;
  const lines = ['', `Facility Monitor server: ${site.site.name}`, `  dashboard: ${url}  (API docs: ${url}/docs)`, `  broker: ${app.broker.url}${tlsBroker ? `, ${tlsBroker}` : ''}${app.broker.embedded ? ' (embedded)' : ''}`];
  if (site.site.demo) {
    lines.push(`  demo login: ${DEMO_USERS[0]!.username} / ${DEMO_PASSWORD}  (also ${DEMO_USERS.slice(1).map((u) => `${u.username} as ${u.role}`).join(', ')}; same password)`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
  return { url, stop: () => app.close() };
}

if (isMainModule(import.meta.url)) void runUntilSignalled('server', runServer);
