import { SERVER_MQTT_USERNAME } from '../../common/env.ts';
import type { BrokerPolicy } from './broker-policy.ts';

/** The client ids a gateway connects with (docs/upstream.md): `{id}-upstream` to the server, `{id}-devices` to the device broker. */
const GATEWAY_CLIENT = /^(.+)-(upstream|devices)$/;

/**
 * The login a client id belongs to, or undefined when any login may use it: `fm-server` and
 * `fm-server-*` are the server's, `{gateway}`, `{gateway}-upstream` and `{gateway}-devices` that
 * gateway's, and a device login's name is its client id. MQTT lets a new connection with a client
 * id take the session of the one using it ([MQTT-3.1.4-2]); bound, only the owner can.
 */
export function ownerOfClientId(clientId: string, policy: Pick<BrokerPolicy, 'gateways' | 'buildings' | 'devices'>): string | undefined {
  if (clientId === SERVER_MQTT_USERNAME || clientId.startsWith(`${SERVER_MQTT_USERNAME}-`)) return SERVER_MQTT_USERNAME;
  const isGateway = (id: string): boolean => policy.gateways.has(id) || policy.buildings.has(id);
  if (isGateway(clientId)) return clientId;
  const base = GATEWAY_CLIENT.exec(clientId)?.[1];
  if (base !== undefined && isGateway(base)) return base;
  if (policy.devices.has(clientId)) return clientId;
  return undefined;
}
