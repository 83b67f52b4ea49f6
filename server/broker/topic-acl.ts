import { DEVICE_TOPIC_ROOT, UPSTREAM_TOPIC_ROOT } from '../../common/topics.ts';
import type { BrokerIdentity } from './broker-identity.ts';

const UPSTREAM = UPSTREAM_TOPIC_ROOT.split('/');

function levels(topic: string): string[] {
  return topic.split('/');
}

function under(parts: string[], root: string[]): boolean {
  return parts.length > root.length && root.every((r, i) => parts[i] === r);
}

/** `fm/v1/{building}/{device}/state|event`, with no empty level. */
function isUpstreamDeviceTopic(parts: string[]): boolean {
  if (parts.length !== 5 || !under(parts, UPSTREAM)) return false;
  const [, , building, device, channel] = parts as [string, string, string, string, string];
  return building !== '' && building !== 'gateway' && device !== '' && (channel === 'state' || channel === 'event');
}

/** Why a publish is refused: `building` a gateway's topic of a building it does not serve, `topic` any other topic outside the client's. */
export type PublishRefusal = 'topic' | 'building';

/**
 * Why a client may not publish to a topic, or undefined when it may (docs/broker.md): a gateway
 * its own status topic and the state and events of the buildings it serves; a device only under
 * `site/`; the server only upstream.
 */
export function publishRefusal(identity: BrokerIdentity, topic: string): PublishRefusal | undefined {
  const parts = levels(topic);
  if (parts.some((p) => p === '+' || p === '#') || topic.startsWith('$')) return 'topic';
  switch (identity.role) {
    case 'gateway':
      if (topic === `${UPSTREAM_TOPIC_ROOT}/gateway/${identity.id}/status`) return undefined;
      if (!isUpstreamDeviceTopic(parts)) return 'topic';
      return identity.buildings.has(parts[2]!) ? undefined : 'building';
    case 'device':
      return parts[0] === DEVICE_TOPIC_ROOT && parts.length >= 3 && parts.every((p) => p !== '') ? undefined : 'topic';
    case 'server':
      return under(parts, UPSTREAM) ? undefined : 'topic';
  }
}

export function mayPublish(identity: BrokerIdentity, topic: string): boolean {
  return publishRefusal(identity, topic) === undefined;
}

/** Drops an MQTT 5 / HiveMQ shared-subscription prefix (`$share/{group}/`). */
function withoutShare(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? '' : rest.slice(slash + 1);
}

/**
 * Filters a client may subscribe to: gateways and devices read the device topics (a gateway's
 * MQTT connector subscribes to `site/+/+/telemetry`); only the server reads upstream topics.
 */
export function maySubscribe(identity: BrokerIdentity, filter: string): boolean {
  const parts = levels(withoutShare(filter));
  const first = parts[0];
  if (first === undefined || first.startsWith('$')) return false;
  const deviceTopics = first === DEVICE_TOPIC_ROOT && parts.length >= 2;
  if (identity.role === 'server') return deviceTopics || (parts[0] === UPSTREAM[0] && parts[1] === UPSTREAM[1] && parts.length >= 3);
  return deviceTopics;
}
