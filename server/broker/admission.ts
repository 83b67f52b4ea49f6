import { createHash, timingSafeEqual } from 'node:crypto';
import type { BrokerIdentity } from './broker-identity.ts';
import type { BrokerPolicy } from './broker-policy.ts';
import { ownerOfClientId } from './client-id-owner.ts';

/** MQTT 3.1.1 CONNACK return codes: 2 identifier rejected, 4 bad username or password, 5 not authorised. */
export type RefusalCode = 2 | 4 | 5;

export type ConnectRefusalReason = 'credentials' | 'anonymous' | 'client-id';

export type Admission = { identity: BrokerIdentity } | { refused: ConnectRefusalReason; returnCode: RefusalCode; message: string };

/** Compares in constant time, whatever the lengths. */
export function samePassword(given: Buffer | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Who a CONNECT is, or why it is refused: the server's own user, gateways and devices with a
 * password, anonymous devices where the policy allows them; and a client id bound to a login
 * (ownerOfClientId) only for that login.
 */
export function admit(policy: BrokerPolicy, connect: { clientId: string; username?: string | undefined; password?: Buffer | undefined }): Admission {
  const { clientId, username, password } = connect;
  const owner = ownerOfClientId(clientId, policy);
  if (owner !== undefined && owner !== username) {
    return { refused: 'client-id', returnCode: 2, message: `client id ${clientId} belongs to another login` };
  }
  if (username === undefined || username === '') {
    if (!policy.anonymousDevices) return { refused: 'anonymous', returnCode: 5, message: 'anonymous clients are not allowed (set DEVICE_ANONYMOUS=true or give devices credentials)' };
    return { identity: { role: 'device', id: clientId, anonymous: true } };
  }
  // Same answer for a wrong password and an unknown user: no hint which usernames exist.
  const bad = { refused: 'credentials', returnCode: 4, message: 'bad username or password' } as const;
  if (username === policy.server.username) return samePassword(password, policy.server.password) ? { identity: { role: 'server', id: username } } : bad;
  const gateway = policy.gateways.get(username);
  if (gateway !== undefined) {
    return samePassword(password, gateway) ? { identity: { role: 'gateway', id: username, buildings: policy.buildings.get(username) ?? new Set() } } : bad;
  }
  const device = policy.devices.get(username);
  if (device !== undefined) return samePassword(password, device) ? { identity: { role: 'device', id: username, anonymous: false } } : bad;
  return bad;
}
