import type { DeviceConfig } from '../../common/site/types.ts';
import { DEVICE_SUBSCRIPTIONS, type DeviceChannel } from '../../common/topics.ts';
import { topicMatches } from './topic-match.ts';

/** The device a message topic belongs to, and which of its channels the topic is. */
export interface TopicRoute {
  device: DeviceConfig;
  /** `any` when the device sends telemetry and events on one topic (the payload tells which). */
  channel: DeviceChannel | 'any';
}

/**
 * Topic → device for the MQTT devices of a site: the default topics
 * (`site/{building}/{device}/telemetry|event`) and topics mapped in a device's `mqtt` section,
 * exact or with `+`/`#` wildcards. Exact topics are found in a map; wildcards are tried in site-file order.
 */
export class TopicRoutes {
  /** The topic filters to subscribe to: the default ones and every device topic they do not cover. */
  readonly subscriptions: readonly string[];
  private readonly exact = new Map<string, TopicRoute>();
  private readonly wildcard: { filter: string; route: TopicRoute }[] = [];

  constructor(devices: readonly DeviceConfig[]) {
    const subs = new Set(DEVICE_SUBSCRIPTIONS);
    for (const device of devices) {
      if (!device.mqtt) continue;
      const { telemetryTopic, eventTopic } = device.mqtt;
      const routes: [string, TopicRoute][] =
        telemetryTopic === eventTopic
          ? [[telemetryTopic, { device, channel: 'any' }]]
          : [
              [telemetryTopic, { device, channel: 'telemetry' }],
              [eventTopic, { device, channel: 'event' }],
            ];
      for (const [topic, route] of routes) {
        if (/[+#]/.test(topic)) this.wildcard.push({ filter: topic, route });
        else this.exact.set(topic, route);
        if (![...subs].some((s) => topicMatches(s, topic))) subs.add(topic);
      }
    }
    this.subscriptions = [...subs];
  }

  /** The route of a message topic; undefined for a topic of no configured device. */
  route(topic: string): TopicRoute | undefined {
    const hit = this.exact.get(topic);
    if (hit) return hit;
    for (const w of this.wildcard) if (topicMatches(w.filter, topic)) return w.route;
    return undefined;
  }
}
