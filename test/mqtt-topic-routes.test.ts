import { describe, expect, it } from 'vitest';
import { parseSiteConfig } from '../common/site/load.ts';
import { TopicRoutes } from '../gateway/mqtt/topic-routes.ts';

const site = parseSiteConfig({
  site: { id: 'routes', name: 'Routes' },
  buildings: [
    {
      id: 'T1',
      name: 'Tower 1',
      devices: [
        { id: 'T1-tank', kind: 'tank', mqtt: {} },
        { id: 'T1-door', kind: 'door', mqtt: { telemetryTopic: 'vendor/acme/door-9', eventTopic: 'vendor/acme/door-9' } },
        { id: 'T1-fire', kind: 'fire-panel', mqtt: { telemetryTopic: 'panels/+/status', eventTopic: 'panels/fire/alarms/#' } },
        { id: 'T1-meter', kind: 'tank', modbus: { connection: 'T1-bus', unitId: 1, profile: 'tank-level' } },
      ],
    },
  ],
  modbus: { connections: [{ id: 'T1-bus', tcp: { host: '127.0.0.1', port: 5020 } }] },
});
const routes = new TopicRoutes(site.devices);

describe('TopicRoutes', () => {
  it.each([
    ['site/T1/T1-tank/telemetry', 'T1-tank', 'telemetry'],
    ['site/T1/T1-tank/event', 'T1-tank', 'event'],
    ['vendor/acme/door-9', 'T1-door', 'any'],
    ['panels/east/status', 'T1-fire', 'telemetry'],
    ['panels/fire/alarms/zone/3', 'T1-fire', 'event'],
  ])('routes %s to %s (%s)', (topic, device, channel) => {
    const route = routes.route(topic);
    expect({ device: route?.device.id, channel: route?.channel }).toEqual({ device, channel });
  });

  it.each([['site/T1/T1-ghost/telemetry'], ['site/T1/T1-meter/telemetry'], ['vendor/acme/door-9/extra'], ['panels/east/west/status']])(
    'routes %s to no device',
    (topic) => {
      expect(routes.route(topic)).toBeUndefined();
    },
  );

  it('subscribes to the default filters and to each mapped topic they do not cover, once', () => {
    expect(routes.subscriptions).toEqual(['site/+/+/telemetry', 'site/+/+/event', 'vendor/acme/door-9', 'panels/+/status', 'panels/fire/alarms/#']);
  });
});
