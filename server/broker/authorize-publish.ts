import type { BrokerAuthorizePublish } from './embedded-broker.ts';
import type { BrokerIdentities } from './broker-identity.ts';
import { mayPublish } from './topic-acl.ts';

export class TopicNotAllowedError extends Error {
  override name = 'TopicNotAllowedError';
}

/** aedes `authorizePublish` hook (also checks last wills). aedes disconnects a client it refuses. */
export function createAuthorizePublish(identities: BrokerIdentities, onRefused?: (client: string, topic: string) => void): BrokerAuthorizePublish {
  return (client, packet, callback) => {
    // The broker's own messages ($SYS, retained re-delivery) have no client.
    if (client === null) return callback(null);
    const identity = identities.get(client);
    if (identity && mayPublish(identity, packet.topic)) return callback(null);
    onRefused?.(identity ? `${identity.role}:${identity.id}` : client.id, packet.topic);
    callback(new TopicNotAllowedError(`${identity?.role ?? 'client'} ${identity?.id ?? client.id} may not publish to ${packet.topic}`));
  };
}
