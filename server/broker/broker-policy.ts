import { randomBytes } from 'node:crypto';
import { SERVER_MQTT_USERNAME, type BrokerAccess, type MqttCredential } from '../../common/env.ts';

/**
 * Who may connect to the embedded broker, from the environment (common/env.ts) and the site:
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

/** The broker policy from the environment's broker access (checked by readEnvironment) and the site (`demo`, gateway id). */
export function brokerPolicy(access: BrokerAccess, site: { demo: boolean; gatewayId: string }): BrokerPolicy {
  const gateways = new Map(access.gateways);
  const devices = new Map(access.devices);
  if (site.demo && !gateways.has(site.gatewayId)) gateways.set(site.gatewayId, DEMO_GATEWAY_PASSWORD);
  const anonymousDevices = access.anonymousDevices ?? site.demo;
  return {
    gateways,
    devices,
    anonymousDevices,
    server: { username: SERVER_MQTT_USERNAME, password: randomBytes(24).toString('base64url') },
  };
}
