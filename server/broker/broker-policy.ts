import { randomBytes } from 'node:crypto';

/** Username and password of one MQTT client. */
export interface MqttCredential {
  username: string;
  password: string;
}

/**
 * Who may connect to the embedded broker. Read once at start-up from the environment:
 * - `GATEWAY_CREDENTIALS="gw-id:password,…"`: gateways, by id (the MQTT username).
 * - `DEVICE_CREDENTIALS="name:password,…"`: devices that log in.
 * - `DEVICE_ANONYMOUS=true`: devices may connect without a username.
 * In the demo estate, the site's gateway also gets DEMO_GATEWAY_PASSWORD (unless
 * GATEWAY_CREDENTIALS names it) and devices may connect anonymously (unless DEVICE_ANONYMOUS=false).
 */
export interface BrokerPolicy {
  gateways: ReadonlyMap<string, string>;
  devices: ReadonlyMap<string, string>;
  anonymousDevices: boolean;
  /** The server's own consumer; a random password made at every start. */
  server: MqttCredential;
}

/** The demo gateway's password: the demo estate only, documented in docs/broker.md. */
export const DEMO_GATEWAY_PASSWORD = 'demo-gateway';

export class BrokerPolicyError extends Error {
  override name = 'BrokerPolicyError';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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
    if (!NAME.test(name)) throw new BrokerPolicyError(`${variable}: entry ${i + 1} '${name}' is not a valid name (letters, digits, '.', '_', '-'; at most 64)`);
    if (password.length < 8) throw new BrokerPolicyError(`${variable}: entry ${i + 1} (${name}) needs a password of at least 8 characters after the colon`);
    if (out.has(name)) throw new BrokerPolicyError(`${variable}: '${name}' is listed twice`);
    out.set(name, password);
  });
  return out;
}

function flag(variable: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new BrokerPolicyError(`${variable}=${raw}: must be true or false`);
}

export const SERVER_MQTT_USERNAME = 'fm-server';

/** The broker policy from the environment and the site (`demo`, gateway id). Throws BrokerPolicyError naming the variable. */
export function brokerPolicyFromEnv(env: NodeJS.ProcessEnv, site: { demo: boolean; gatewayId: string }): BrokerPolicy {
  const gateways = parseCredentialList('GATEWAY_CREDENTIALS', env.GATEWAY_CREDENTIALS);
  const devices = parseCredentialList('DEVICE_CREDENTIALS', env.DEVICE_CREDENTIALS);
  for (const name of devices.keys()) {
    if (gateways.has(name)) throw new BrokerPolicyError(`DEVICE_CREDENTIALS: '${name}' is also a gateway in GATEWAY_CREDENTIALS`);
  }
  if (gateways.has(SERVER_MQTT_USERNAME) || devices.has(SERVER_MQTT_USERNAME)) {
    throw new BrokerPolicyError(`'${SERVER_MQTT_USERNAME}' is the server's own MQTT user; pick another name`);
  }
  if (site.demo && !gateways.has(site.gatewayId)) gateways.set(site.gatewayId, DEMO_GATEWAY_PASSWORD);
  const anonymousDevices = flag('DEVICE_ANONYMOUS', env.DEVICE_ANONYMOUS) ?? site.demo;
  return {
    gateways,
    devices,
    anonymousDevices,
    server: { username: SERVER_MQTT_USERNAME, password: randomBytes(24).toString('base64url') },
  };
}
