import { randomBytes } from 'node:crypto';
import { SERVER_MQTT_USERNAME, type BrokerAccess, type BusLimits, type MqttCredential } from '../../common/env.ts';
import type { GatewayServing } from '../../common/site/types.ts';

/**
 * Who may connect to the embedded broker, from the environment (common/env.ts) and the site:
 * - `GATEWAY_CREDENTIALS="gw-id:password,…"`: gateways, by id (the MQTT username).
 * - `DEVICE_CREDENTIALS="name:password,…"`: devices that log in.
 * - `DEVICE_ANONYMOUS=true`: devices may connect without a username.
 * In the demo estate, the site's gateway also gets DEMO_GATEWAY_PASSWORD (unless
 * GATEWAY_CREDENTIALS names it) and devices may connect anonymously (unless DEVICE_ANONYMOUS=false).
 * Each gateway may publish for the buildings the site file says it serves, and no other.
 */
export interface BrokerPolicy {
  gateways: ReadonlyMap<string, string>;
  /** Gateway id → the buildings it serves; a gateway the site does not name serves none. */
  buildings: ReadonlyMap<string, ReadonlySet<string>>;
  devices: ReadonlyMap<string, string>;
  anonymousDevices: boolean;
  /** The server's own consumer; a random password made at every start. */
  server: MqttCredential;
  limits: Pick<BusLimits, 'maxPacketBytes' | 'maxRetained'>;
}

/** The demo gateway's password: the demo estate only, documented in docs/broker.md. */
export const DEMO_GATEWAY_PASSWORD = 'demo-gateway';

export const DEFAULT_BROKER_LIMITS: BrokerPolicy['limits'] = { maxPacketBytes: 256 * 1024, maxRetained: 10_000 };

/**
 * The broker policy from the environment's broker access (checked by readEnvironment) and the
 * site: `demo`, and its gateways with their buildings (the first is the site file's own gateway).
 */
export function brokerPolicy(access: BrokerAccess, site: { demo: boolean; gateways: readonly GatewayServing[] }, limits: BrokerPolicy['limits'] = DEFAULT_BROKER_LIMITS): BrokerPolicy {
  const gateways = new Map(access.gateways);
  const devices = new Map(access.devices);
  const own = site.gateways[0]?.id;
  if (site.demo && own !== undefined && !gateways.has(own)) gateways.set(own, DEMO_GATEWAY_PASSWORD);
  const anonymousDevices = access.anonymousDevices ?? site.demo;
  return {
    gateways,
    buildings: new Map(site.gateways.map((g) => [g.id, new Set(g.buildings)])),
    devices,
    anonymousDevices,
    server: { username: SERVER_MQTT_USERNAME, password: randomBytes(24).toString('base64url') },
    limits,
  };
}
