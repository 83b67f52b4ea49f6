import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { EnvironmentError, type Environment } from '../common/env.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import type { SiteConfig } from '../common/site/types.ts';
import { authPlugin } from './plugins/app/auth.ts';
import { brokerPlugin } from './plugins/app/broker.ts';
import { busPlugin } from './plugins/app/bus.ts';
import { configPlugin } from './plugins/app/config.ts';
import { dashboardPlugin } from './plugins/app/dashboard.ts';
import { recordsPlugin } from './plugins/app/records.ts';
import { metricsPlugin } from './plugins/app/metrics.ts';
import { leadershipPlugin } from './plugins/app/leadership.ts';
import { custodyRosterPlugin } from './plugins/app/custody-roster.ts';
import { readingsPlugin } from './plugins/app/readings.ts';
import { rulesPlugin } from './plugins/app/rules.ts';
import { socketsPlugin } from './plugins/app/sockets.ts';
import { workOrdersPlugin } from './plugins/app/work-orders.ts';
import { buildValidator } from './http/body-validator.ts';
import { errorHandlerPlugin } from './plugins/external/error-handler.ts';
import { rateLimitPlugin } from './plugins/external/rate-limit.ts';
import { securityHeadersPlugin } from './plugins/external/security-headers.ts';
import { swaggerPlugin } from './plugins/external/swagger.ts';
import { alarmRoutes } from './routes/api/alarms.ts';
import { authRoutes, type LoginLimits } from './routes/api/auth.ts';
import { buildingRoutes } from './routes/api/buildings.ts';
import { deviceRoutes } from './routes/api/devices.ts';
import { healthRoutes } from './routes/api/health.ts';
import { labelRoutes } from './routes/api/labels.ts';
import { reportRoutes } from './routes/api/reports.ts';
import { siteRoutes } from './routes/api/site.ts';
import { ticketRoutes } from './routes/api/tickets.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { resolveRules } from './rules/rule-config.ts';
import { resolveWorkOrderSettings } from './work-orders/work-order-settings.ts';

export interface BuildAppOptions {
  site: SiteConfig;
  env: Environment;
  /** Default: a pino logger named `server` at the environment's LOG_LEVEL. */
  logger?: Logger;
  /** Epoch ms; every service reads time from it (tests move it to make deadlines pass). */
  clock?: () => number;
  /** Consume from this broker instead of MQTT_URL. */
  brokerUrl?: string;
  /** Host the embedded broker when no broker URL is given (default true); false requires a URL. */
  embeddedBroker?: boolean;
  /** Login attempts allowed per client address and per username. */
  loginLimits?: LoginLimits;
  /** Requests per client address and minute over the whole API. */
  rateLimitMax?: number;
  /** How often dashboard sockets are checked for an expired session (default 30 s). */
  sessionCheckMs?: number;
  /** How often missed work-order deadlines are escalated (default 30 s). */
  escalationCheckMs?: number;
}

/** TRUST_PROXY=n: the n proxies nearest the server are believed. */
const hopsOf = (n: number) => (_address: string, hop: number): boolean => hop < n;

/**
 * The server (fastify/demo layout): external plugins, then the app's service plugins (each a
 * named fastify-plugin with its dependencies and a typed decorator), then the routes.
 * The whole configuration is checked first, the site file's `rules:` and `workOrders:` included, so a problem
 * stops the start before any port (the embedded broker's) is open.
 * Resolves once every plugin is loaded; `listen` or `inject` next, `close` stops everything.
 */
export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const mqttUrl = opts.brokerUrl ?? opts.env.mqttUrl;
  if (opts.embeddedBroker === false && !mqttUrl) throw new EnvironmentError('no embedded broker and no MQTT_URL: the server needs a broker to read the gateways from');
  const env: Environment = { ...opts.env, mqttUrl };
  const rules = resolveRules(opts.site);
  const workOrderSettings = resolveWorkOrderSettings(opts.site);

  const app = Fastify({
    loggerInstance: opts.logger ?? createLogger('server', { level: env.logLevel }),
    // Bodies with unknown fields are refused (naming the field) rather than silently trimmed;
    // `multipleOf` compares to 1e-6, so that a cost of 0.1 + 0.2 has 2 decimals despite binary fractions.
    ajv: { customOptions: { removeAdditional: false, multipleOfPrecision: 6 } },
    // JSON bodies are taken as sent (no type coercion); query strings and paths are converted.
    schemaController: { compilersFactory: { buildValidator } },
    bodyLimit: 256 * 1024,
    // Whose X-Forwarded-For to believe (TRUST_PROXY): the client address rate limits and logins count by.
    trustProxy: typeof env.trustProxy === 'number' ? hopsOf(env.trustProxy) : env.trustProxy,
    ...(env.tls && { https: { cert: env.tls.cert, key: env.tls.key } }),
  }).withTypeProvider<TypeBoxTypeProvider>();

  try {
    // Third-party plugins, before anything that registers routes.
    await app.register(rateLimitPlugin, opts.rateLimitMax === undefined ? {} : { max: opts.rateLimitMax });
    await app.register(securityHeadersPlugin, { https: env.tls !== undefined });
    await app.register(swaggerPlugin);
    await app.register(errorHandlerPlugin);

    // The records: configuration, metrics registry, records database, work orders, reading history, users and sessions.
    await app.register(configPlugin, { site: opts.site, env, ...(opts.clock && { clock: opts.clock }) });
    await app.register(metricsPlugin);
    await app.register(recordsPlugin);
    await app.register(leadershipPlugin);
    await app.register(custodyRosterPlugin);
    await app.register(workOrdersPlugin, { settings: workOrderSettings, ...(opts.escalationCheckMs !== undefined && { escalationCheckMs: opts.escalationCheckMs }) });
    await app.register(readingsPlugin);
    await app.register(authPlugin);

    // The live side: broker, rules engine (alarms raise work orders), upstream consumer, dashboard sockets.
    await app.register(brokerPlugin);
    await app.register(rulesPlugin, { rules });
    await app.register(busPlugin);
    await app.register(socketsPlugin, opts.sessionCheckMs === undefined ? {} : { sessionCheckMs: opts.sessionCheckMs });

    // Routes: every /api route declares the roles that may call it (or that it is public).
    await app.register(
      async (api) => {
        await api.register(authRoutes, opts.loginLimits ? { loginLimits: opts.loginLimits } : {});
        await api.register(healthRoutes);
        await api.register(buildingRoutes);
        await api.register(deviceRoutes);
        await api.register(alarmRoutes);
        await api.register(ticketRoutes);
        await api.register(reportRoutes);
        await api.register(siteRoutes);
        await api.register(labelRoutes);
      },
      { prefix: '/api' },
    );
    await app.register(metricsRoutes);
    // The browser dashboard at / (built by npm start / npm run server, or npm run build:dashboard).
    await app.register(dashboardPlugin);
    await app.ready();
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
  return app as unknown as FastifyInstance;
}
