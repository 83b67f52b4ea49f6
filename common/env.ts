import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';

/** Username and password of one MQTT client. */
export interface MqttCredential {
  username: string;
  password: string;
}

/** An MQTT login whose password may be left out (the broker then gets the username alone). */
export interface MqttLogin {
  username: string;
  password?: string;
}

/** The raw variables: `process.env`, or a map a test or tool passes in. */
export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/**
 * Every environment variable of every process (README, docs/gateway.md#environment,
 * docs/broker.md), read and checked once at start-up and passed down as typed values.
 */
export interface Environment {
  /** PORT: the server's HTTP port. */
  port: number;
  /** HOST: the server's HTTP bind address (default 127.0.0.1: this machine only). */
  host: string;
  /** TLS_CERT / TLS_KEY: HTTPS and MQTTS for the server, HTTPS for the gateway's endpoint. */
  tls: TlsFiles | undefined;
  /** TRUST_PROXY: which proxies' X-Forwarded-For the server believes (docs/security.md). */
  trustProxy: TrustProxy;
  /** METRICS_TOKEN, METRICS_PORT, METRICS_HOST: who may read /metrics. */
  metrics: MetricsAccess;
  /** MQTT_URL: an external broker; unset, the server hosts the embedded one. */
  mqttUrl: string | undefined;
  /** MQTT_PORT: the embedded broker's port. */
  mqttPort: number;
  /** MQTT_HOST: the interface the embedded broker listens on (default HOST). */
  mqttHost: string;
  /** MQTTS_PORT: the embedded broker's TLS port when TLS_CERT/TLS_KEY are set. */
  mqttsPort: number;
  /** What the embedded broker and the upstream consumer accept (docs/broker.md#limits). */
  busLimits: BusLimits;
  /** MQTT_USERNAME / MQTT_PASSWORD: the server's login on the external broker. */
  mqttCredential: MqttCredential | undefined;
  influxUrl: string | undefined;
  /** DATABASE_URL: the PostgreSQL records database; unset, SQLite in DATA_DIR. */
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: LogLevel;
  siteConfig: string | undefined;
  /** ADMIN_USERNAME / ADMIN_PASSWORD: the first administrator of an estate that is not the demo (no default). */
  admin?: { username: string; password: string } | undefined;
  /** Who may connect to the embedded broker (docs/broker.md). */
  brokerAccess: BrokerAccess;
  /** The gateway's own settings (docs/gateway.md#environment). */
  gateway: GatewayEnvironment;
  /** SCENARIO: the fault `npm start` injects (default normal). */
  scenario: string;
  /** What the site file's `${NAME}` refer to. */
  siteVariables: EnvironmentVariables;
}

/** A certificate chain and its private key, PEM, read from the files TLS_CERT and TLS_KEY name. */
export interface TlsFiles {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/** Fastify's `trustProxy`: false, true, a number of hops, or the addresses and CIDR ranges of the proxies. */
export type TrustProxy = boolean | number | string[];

export interface MetricsAccess {
  /** METRICS_TOKEN: /metrics answers only `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** METRICS_PORT: /metrics leaves the API port and is served on this port alone. */
  port: number | undefined;
  /** METRICS_HOST: the interface of METRICS_PORT (default 127.0.0.1). */
  host: string;
}

export interface BusLimits {
  /** BUS_MAX_AHEAD_MS: how far ahead of the server's clock a timestamp may be (default 5 min). */
  maxAheadMs: number;
  /** MQTT_MAX_PACKET_BYTES: the largest MQTT packet the embedded broker reads (default 256 KiB). */
  maxPacketBytes: number;
  /** MQTT_MAX_RETAINED: retained messages the embedded broker keeps (default 10,000). */
  maxRetained: number;
}

export interface BrokerAccess {
  /** GATEWAY_CREDENTIALS: gateway id → password. */
  gateways: ReadonlyMap<string, string>;
  /** DEVICE_CREDENTIALS: device login → password. */
  devices: ReadonlyMap<string, string>;
  /** DEVICE_ANONYMOUS; undefined: the site decides (the demo allows anonymous devices). */
  anonymousDevices: boolean | undefined;
}

export interface GatewayEnvironment {
  /** GATEWAY_HTTP_PORT: /metrics and /health. */
  httpPort: number;
  /** GATEWAY_HTTP_HOST: the interface of that port (default 127.0.0.1). */
  httpHost: string;
  /** UPSTREAM_MQTT_URL; unset, the device broker. */
  upstreamMqttUrl: string | undefined;
  /** GATEWAY_MQTT_USERNAME / GATEWAY_MQTT_PASSWORD: the gateway's login on the server's broker. */
  upstreamLogin: MqttLogin | undefined;
  /** DEVICE_MQTT_USERNAME / DEVICE_MQTT_PASSWORD: the login on the device broker; unset, the gateway uses its upstream login. */
  deviceBrokerLogin: MqttLogin | undefined;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

const MQTT_PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:'];

function text(env: EnvironmentVariables, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/** A TCP port from the environment variable `name`; `fallback` when it is unset or empty. */
export function readPort(name: string, fallback: number, env: EnvironmentVariables): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new EnvironmentError(`${name}=${raw}: must be a TCP port number (0-65535)`);
  return n;
}

function url(name: string, protocols: string[], env: EnvironmentVariables): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new EnvironmentError(`${name}=${redact(raw)}: not a URL (example: ${protocols[0]}//127.0.0.1)`);
  }
  if (!protocols.includes(u.protocol)) throw new EnvironmentError(`${name}=${redact(raw)}: protocol must be one of ${protocols.join(', ')}`);
  return raw;
}

function redact(raw: string): string {
  try {
    const u = new URL(raw);
    if (!u.password && !u.searchParams.has('password')) return raw;
    if (u.password) u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.href;
  } catch {
    return raw;
  }
}

function flag(name: string, env: EnvironmentVariables): boolean | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new EnvironmentError(`${name}=${raw}: must be true or false`);
}

function admin(env: EnvironmentVariables): Environment['admin'] {
  const username = text(env, 'ADMIN_USERNAME');
  const password = text(env, 'ADMIN_PASSWORD');
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || password === undefined) throw new EnvironmentError('ADMIN_USERNAME and ADMIN_PASSWORD: set both, or neither');
  return { username, password };
}

/** `{PREFIX}_USERNAME` and `{PREFIX}_PASSWORD`; a password without a username is refused. */
function login(prefix: string, env: EnvironmentVariables): MqttLogin | undefined {
  const username = text(env, `${prefix}_USERNAME`);
  const password = text(env, `${prefix}_PASSWORD`);
  if (username === undefined) {
    if (password !== undefined) throw new EnvironmentError(`${prefix}_PASSWORD is set without ${prefix}_USERNAME: set both, or neither`);
    return undefined;
  }
  return password === undefined ? { username } : { username, password };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The server's own login on its embedded broker (docs/broker.md): no gateway or device may take it. */
export const SERVER_MQTT_USERNAME = 'fm-server';

/** Parses `name:password,name:password`; the password is everything after the first colon. */
export function parseCredentialList(variable: string, raw: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (raw === undefined || raw.trim() === '') return out;
  raw.split(',').forEach((entry, i) => {
    const item = entry.trim();
    if (item === '') return;
    const colon = item.indexOf(':');
    const name = colon < 0 ? item : item.slice(0, colon);
    const password = colon < 0 ? '' : item.slice(colon + 1);
    if (!NAME.test(name)) throw new EnvironmentError(`${variable}: entry ${i + 1} '${name}' is not a valid name (letters, digits, '.', '_', '-'; at most 64)`);
    if (password.length < 8) throw new EnvironmentError(`${variable}: entry ${i + 1} (${name}) needs a password of at least 8 characters after the colon`);
    if (out.has(name)) throw new EnvironmentError(`${variable}: '${name}' is listed twice`);
    if (name === SERVER_MQTT_USERNAME) throw new EnvironmentError(`${variable}: '${name}' is the server's own MQTT user; pick another name`);
    out.set(name, password);
  });
  return out;
}

function brokerAccess(env: EnvironmentVariables): BrokerAccess {
  const gateways = parseCredentialList('GATEWAY_CREDENTIALS', env.GATEWAY_CREDENTIALS);
  const devices = parseCredentialList('DEVICE_CREDENTIALS', env.DEVICE_CREDENTIALS);
  for (const name of devices.keys()) {
    if (gateways.has(name)) throw new EnvironmentError(`DEVICE_CREDENTIALS: '${name}' is also a gateway in GATEWAY_CREDENTIALS`);
    // A device login is also the client id it is bound to: it may not be one the server or a gateway owns.
    if (name.startsWith(`${SERVER_MQTT_USERNAME}-`)) throw new EnvironmentError(`DEVICE_CREDENTIALS: '${name}' starts with '${SERVER_MQTT_USERNAME}-', the server's client ids; pick another name`);
    const gateway = /^(.+)-(upstream|devices)$/.exec(name)?.[1];
    if (gateway !== undefined && gateways.has(gateway)) throw new EnvironmentError(`DEVICE_CREDENTIALS: '${name}' is a client id of gateway '${gateway}'; pick another name`);
  }
  return { gateways, devices, anonymousDevices: flag('DEVICE_ANONYMOUS', env) };
}

function logLevel(env: EnvironmentVariables): LogLevel {
  // The test runner sets VITEST: tests stay silent unless LOG_LEVEL says otherwise.
  const raw = text(env, 'LOG_LEVEL') ?? (env.VITEST ? 'silent' : 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new EnvironmentError(`LOG_LEVEL=${raw}: must be one of ${LOG_LEVELS.join(', ')}`);
  return raw as LogLevel;
}

function host(name: string, env: EnvironmentVariables, fallback = '127.0.0.1'): string {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (/[\s/]/.test(raw)) throw new EnvironmentError(`${name}=${raw}: must be an interface address or host name (e.g. 127.0.0.1, 0.0.0.0, ::)`);
  return raw;
}

function integer(name: string, fallback: number, min: number, env: EnvironmentVariables): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new EnvironmentError(`${name}=${raw}: must be a whole number of at least ${min}`);
  return n;
}

function readPem(name: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new EnvironmentError(`${name}=${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** TLS_CERT and TLS_KEY: both or neither; the files must hold a certificate and its matching key (PEM). */
export function readTls(env: EnvironmentVariables): TlsFiles | undefined {
  const certFile = text(env, 'TLS_CERT');
  const keyFile = text(env, 'TLS_KEY');
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) throw new EnvironmentError('TLS_CERT and TLS_KEY: set both (PEM files of the certificate chain and its private key), or neither');
  const cert = readPem('TLS_CERT', certFile);
  const key = readPem('TLS_KEY', keyFile);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new EnvironmentError(`TLS_CERT=${certFile}, TLS_KEY=${keyFile}: not a usable certificate and key (${(err as Error).message}); give PEM files, the key matching the certificate`);
  }
  return { cert, key, certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

function trustProxy(env: EnvironmentVariables): TrustProxy {
  const raw = text(env, 'TRUST_PROXY');
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const entry of list) {
    const [address, bits, extra] = entry.split('/');
    const version = isIP(address ?? '');
    const maxBits = version === 6 ? 128 : 32;
    const okBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (version === 0 || !okBits || extra !== undefined) {
      throw new EnvironmentError(`TRUST_PROXY=${raw}: '${entry}' is not an address or CIDR range; give true, false, a number of proxy hops, or addresses such as 127.0.0.1,10.0.0.0/8`);
    }
  }
  return list;
}

function metricsAccess(env: EnvironmentVariables): MetricsAccess {
  const token = text(env, 'METRICS_TOKEN');
  if (token !== undefined && token.length < 16) throw new EnvironmentError('METRICS_TOKEN: use at least 16 characters (e.g. openssl rand -hex 16)');
  const port = text(env, 'METRICS_PORT') === undefined ? undefined : readPort('METRICS_PORT', 0, env);
  return { token, port, host: host('METRICS_HOST', env) };
}

const POSTGRES_EXAMPLE = 'postgres://facility:PASSWORD@db.example:5432/facility';

/** DATABASE_URL: a PostgreSQL URL with a host (or a `host=` socket directory) and a database name. */
function databaseUrl(env: EnvironmentVariables): string | undefined {
  const raw = url('DATABASE_URL', ['postgres:', 'postgresql:'], env);
  if (raw === undefined) return undefined;
  const u = new URL(raw);
  if (u.hostname === '' && !u.searchParams.get('host')) throw new EnvironmentError(`DATABASE_URL=${redact(raw)}: name the server's host, e.g. ${POSTGRES_EXAMPLE}`);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) throw new EnvironmentError(`DATABASE_URL=${redact(raw)}: name one database in the path, e.g. ${POSTGRES_EXAMPLE}`);
  return raw;
}

/** Reads and checks every variable; throws EnvironmentError naming the variable and what to fix. */
export function readEnvironment(env: EnvironmentVariables = process.env): Environment {
  const influxUrl = url('INFLUX_URL', ['http:', 'https:'], env);
  if (influxUrl && new URL(influxUrl).pathname.replace(/\//g, '') === '') {
    throw new EnvironmentError(`INFLUX_URL=${redact(influxUrl)}: name the database in the path, e.g. http://127.0.0.1:8086/facility`);
  }
  const mqttLogin = login('MQTT', env);
  const httpHost = host('HOST', env);
  return {
    port: readPort('PORT', 3000, env),
    host: httpHost,
    tls: readTls(env),
    trustProxy: trustProxy(env),
    metrics: metricsAccess(env),
    mqttUrl: url('MQTT_URL', MQTT_PROTOCOLS, env),
    mqttPort: readPort('MQTT_PORT', 1883, env),
    mqttHost: host('MQTT_HOST', env, httpHost),
    mqttsPort: readPort('MQTTS_PORT', 8883, env),
    busLimits: {
      maxAheadMs: integer('BUS_MAX_AHEAD_MS', 5 * 60_000, 0, env),
      maxPacketBytes: integer('MQTT_MAX_PACKET_BYTES', 256 * 1024, 1024, env),
      maxRetained: integer('MQTT_MAX_RETAINED', 10_000, 1, env),
    },
    mqttCredential: mqttLogin && { username: mqttLogin.username, password: mqttLogin.password ?? '' },
    influxUrl,
    databaseUrl: databaseUrl(env),
    dataDir: resolve(text(env, 'DATA_DIR') ?? './data'),
    logLevel: logLevel(env),
    siteConfig: text(env, 'SITE_CONFIG'),
    admin: admin(env),
    brokerAccess: brokerAccess(env),
    gateway: {
      httpPort: readPort('GATEWAY_HTTP_PORT', 9102, env),
      httpHost: host('GATEWAY_HTTP_HOST', env),
      upstreamMqttUrl: url('UPSTREAM_MQTT_URL', MQTT_PROTOCOLS, env),
      upstreamLogin: login('GATEWAY_MQTT', env),
      deviceBrokerLogin: login('DEVICE_MQTT', env),
    },
    scenario: text(env, 'SCENARIO') ?? 'normal',
    siteVariables: { ...env },
  };
}

/** The broker URL every part uses: MQTT_URL, or the embedded broker on MQTT_PORT. */
export function brokerUrl(e: Environment): string {
  return e.mqttUrl ?? `mqtt://127.0.0.1:${e.mqttPort}`;
}
