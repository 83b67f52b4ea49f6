import { resolve } from 'node:path';

/** Environment of docs/site-file.md, read and checked once at start-up. */
export interface Environment {
  port: number;
  mqttUrl: string | undefined;
  mqttPort: number;
  influxUrl: string | undefined;
  dataDir: string;
  logLevel: string;
  siteConfig: string | undefined;
  /** ADMIN_USERNAME / ADMIN_PASSWORD: the first administrator of an estate that is not the demo (no default). */
  admin?: { username: string; password: string } | undefined;
}

export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

/** A TCP port from the environment variable `name`; `fallback` when it is unset or empty. */
export function readPort(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new EnvironmentError(`${name}=${raw}: must be a TCP port number (0-65535)`);
  return n;
}

function url(name: string, protocols: string[], env: NodeJS.ProcessEnv): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new EnvironmentError(`${name}=${raw}: not a URL (example: ${protocols[0]}//127.0.0.1)`);
  }
  if (!protocols.includes(u.protocol)) throw new EnvironmentError(`${name}=${raw}: protocol must be one of ${protocols.join(', ')}`);
  return raw;
}

function admin(env: NodeJS.ProcessEnv): Environment['admin'] {
  const username = env.ADMIN_USERNAME || undefined;
  const password = env.ADMIN_PASSWORD || undefined;
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || password === undefined) throw new EnvironmentError('ADMIN_USERNAME and ADMIN_PASSWORD: set both, or neither');
  return { username, password };
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const influxUrl = url('INFLUX_URL', ['http:', 'https:'], env);
  if (influxUrl && new URL(influxUrl).pathname.replace(/\//g, '') === '') {
    throw new EnvironmentError(`INFLUX_URL=${influxUrl}: name the database in the path, e.g. http://127.0.0.1:8086/facility`);
  }
  return {
    port: readPort('PORT', 3000, env),
    mqttUrl: url('MQTT_URL', ['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:'], env),
    mqttPort: readPort('MQTT_PORT', 1883, env),
    influxUrl,
    dataDir: resolve(env.DATA_DIR || './data'),
    logLevel: env.LOG_LEVEL || 'info',
    siteConfig: env.SITE_CONFIG || undefined,
    admin: admin(env),
  };
}

/** The broker URL every part uses: MQTT_URL, or the embedded broker on MQTT_PORT. */
export function brokerUrl(e: Environment): string {
  return e.mqttUrl ?? `mqtt://127.0.0.1:${e.mqttPort}`;
}
