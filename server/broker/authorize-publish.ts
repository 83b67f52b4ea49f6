import type { BrokerAuthorizePublish } from './embedded-broker.ts';
import type { BrokerIdentities } from './broker-identity.ts';
import type { RetainedLimit } from './retained-limit.ts';
import { publishRefusal } from './topic-acl.ts';

export class TopicNotAllowedError extends Error {
  override name = 'TopicNotAllowedError';
}

export interface PublishRefused {
  client: string;
  topic: string;
  reason: 'topic' | 'building' | 'retained-size' | 'retained-cap';
}

/**
 * aedes `authorizePublish` hook (also checks last wills): the topic ACL, then the retained
 * message limit. aedes disconnects a client it refuses (MQTT 3.1.1 has no negative PUBACK).
 */
export function createAuthorizePublish(identities: BrokerIdentities, retained?: RetainedLimit, onRefused?: (refusal: PublishRefused) => void): BrokerAuthorizePublish {
  return (client, packet, callback) => {
    // The broker's own messages ($SYS, retained re-delivery) have no client.
    if (client === null) return callback(null);
    const identity = identities.get(client);
    const who = identity ? `${identity.role}:${identity.id}` : client.id;
    const reason = identity ? (publishRefusal(identity, packet.topic) ?? (packet.retain && retained ? retained.admit(packet.topic, Buffer.byteLength(packet.payload)) : undefined)) : 'topic';
    if (reason === undefined) return callback(null);
    onRefused?.({ client: who, topic: packet.topic, reason });
    callback(new TopicNotAllowedError(`${identity?.role ?? 'client'} ${identity?.id ?? client.id} may not publish to ${packet.topic} (${reason})`));
  };
}
