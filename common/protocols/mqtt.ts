import { deviceTopic } from '../topics.ts';
import type { ProtocolDescriptor } from './protocol.ts';

/** Where a device's own JSON keeps the timestamp, metrics, event name and attributes (dotted paths). */
export interface MqttMapping {
  ts?: string;
  metrics?: Record<string, string>;
  event?: string;
  attrs?: Record<string, string>;
}

export interface MqttDeviceConfig {
  telemetryTopic: string;
  eventTopic: string;
  mapping?: MqttMapping;
}

declare module '../site/types.ts' {
  interface ProtocolBlocks {
    mqtt: MqttDeviceConfig;
  }
}

const mappingSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ts: { type: 'string', description: 'dotted path to an epoch-ms timestamp' },
    metrics: { type: 'object', additionalProperties: { type: 'string' }, description: 'metric name to dotted path' },
    event: { type: 'string', description: 'dotted path to the event name' },
    attrs: { type: 'object', additionalProperties: { type: 'string' }, description: 'event attribute to dotted path' },
  },
} as const;

/** Devices that publish JSON to the device broker: docs/devices.md. */
export const mqttProtocol: ProtocolDescriptor<Record<string, never>, MqttDeviceConfig> = {
  name: 'mqtt',
  title: 'MQTT',
  deviceSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      telemetryTopic: { type: 'string', minLength: 1 },
      eventTopic: { type: 'string', minLength: 1 },
      mapping: mappingSchema,
    },
  },
  sectionSchemas: {},
  read() {
    return {
      sections: {},
      connections: [],
      device(raw, device) {
        const m = raw as Partial<MqttDeviceConfig>;
        const block: MqttDeviceConfig = {
          telemetryTopic: m.telemetryTopic ?? deviceTopic(device.building, device.id, 'telemetry'),
          eventTopic: m.eventTopic ?? deviceTopic(device.building, device.id, 'event'),
          ...(m.mapping ? { mapping: m.mapping } : {}),
        };
        const address = block.telemetryTopic === block.eventTopic ? block.telemetryTopic : `${block.telemetryTopic}, ${block.eventTopic}`;
        // Telemetry without a metrics mapping may carry any metric.
        return m.mapping?.metrics ? { block, address, metrics: Object.keys(m.mapping.metrics) } : { block, address };
      },
    };
  },
};
