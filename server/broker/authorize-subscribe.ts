import type { BrokerAuthorizeSubscribe } from './embedded-broker.ts';
import type { BrokerIdentities } from './broker-identity.ts';
import { maySubscribe } from './topic-acl.ts';

/** aedes `authorizeSubscribe` hook: a refused filter is answered with SUBACK failure (0x80), the connection stays. */
export function createAuthorizeSubscribe(identities: BrokerIdentities, onRefused?: (client: string, filter: string) => void): BrokerAuthorizeSubscribe {
  return (client, subscription, callback) => {
    const identity = identities.get(client);
    if (identity && maySubscribe(identity, subscription.topic)) return callback(null, subscription);
    onRefused?.(identity ? `${identity.role}:${identity.id}` : client.id, subscription.topic);
    callback(null, null);
  };
}
