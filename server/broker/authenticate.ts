import { createHash, timingSafeEqual } from 'node:crypto';
import type { BrokerAuthenticate } from './embedded-broker.ts';
import type { BrokerIdentities } from './broker-identity.ts';
import type { BrokerPolicy } from './broker-policy.ts';

// aedes AuthErrorCode: MQTT 3.1.1 CONNACK return codes 4 and 5.
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function refuse(returnCode: 4 | 5, message: string): Error & { returnCode: 4 | 5 } {
  return Object.assign(new Error(message), { returnCode });
}

/** Compares in constant time, whatever the lengths. */
export function samePassword(given: Buffer | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * aedes `authenticate` hook: the server's own user, gateways and devices with a password, and
 * anonymous devices where the policy allows them. A wrong password is CONNACK 4, an anonymous
 * client where none is allowed CONNACK 5.
 */
export function createAuthenticate(policy: BrokerPolicy, identities: BrokerIdentities, onRefused?: (username: string | undefined, reason: string) => void): BrokerAuthenticate {
  return (client, username, password, done) => {
    const fail = (code: 4 | 5, reason: string): void => {
      onRefused?.(username, reason);
      done(refuse(code, reason), false);
    };
    if (username === undefined || username === '') {
      if (!policy.anonymousDevices) return fail(NOT_AUTHORIZED, 'anonymous clients are not allowed (set DEVICE_ANONYMOUS=true or give devices credentials)');
      identities.set(client, { role: 'device', id: client.id, anonymous: true });
      return done(null, true);
    }
    if (username === policy.server.username) {
      if (!samePassword(password, policy.server.password)) return fail(BAD_USERNAME_OR_PASSWORD, 'bad password');
      identities.set(client, { role: 'server', id: username });
      return done(null, true);
    }
    const gateway = policy.gateways.get(username);
    if (gateway !== undefined) {
      if (!samePassword(password, gateway)) return fail(BAD_USERNAME_OR_PASSWORD, 'bad password');
      identities.set(client, { role: 'gateway', id: username });
      return done(null, true);
    }
    const device = policy.devices.get(username);
    if (device !== undefined) {
      if (!samePassword(password, device)) return fail(BAD_USERNAME_OR_PASSWORD, 'bad password');
      identities.set(client, { role: 'device', id: username, anonymous: false });
      return done(null, true);
    }
    // Same answer as a wrong password: no hint which usernames exist.
    fail(BAD_USERNAME_OR_PASSWORD, 'unknown user');
  };
}
