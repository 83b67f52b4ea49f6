import { DEVICE_KINDS } from '../reading.ts';

/** JSON Schema of the site file (docs/site-file.md). Documented in docs/site-file.md. */
const id = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 64 } as const;

const registerPoint = {
  type: 'object',
  additionalProperties: false,
  required: ['metric', 'function', 'address', 'type'],
  properties: {
    metric: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
    function: { enum: [1, 2, 3, 4], description: '1 coils, 2 discrete inputs, 3 holding registers, 4 input registers' },
    address: { type: 'integer', minimum: 0, maximum: 65535 },
    type: { enum: ['bool', 'int16', 'uint16', 'int32', 'uint32', 'float32'] },
    byteOrder: { enum: ['big', 'little'] },
    wordOrder: { enum: ['high-first', 'low-first'] },
    scale: { type: 'number' },
    offset: { type: 'number' },
    engUnit: { type: 'string' },
  },
} as const;

const mqttMapping = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ts: { type: 'string', description: 'dotted path to an epoch-ms timestamp' },
    metrics: { type: 'object', additionalProperties: { type: 'string' }, description: 'metric name to dotted path' },
    event: { type: 'string', description: 'dotted path to the event name' },
    attrs: { type: 'object', additionalProperties: { type: 'string' }, description: 'event attribute to dotted path' },
  },
} as const;

const device = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind'],
  properties: {
    id,
    kind: { enum: DEVICE_KINDS },
    name: { type: 'string' },
    unit: id,
    params: { type: 'object', additionalProperties: { type: 'number' } },
    modbus: {
      type: 'object',
      additionalProperties: false,
      required: ['connection', 'unitId', 'profile'],
      properties: {
        connection: id,
        unitId: { type: 'integer', minimum: 0, maximum: 255 },
        profile: { type: 'string' },
        timeoutMs: { type: 'integer', minimum: 10, maximum: 60000 },
      },
    },
    mqtt: {
      type: 'object',
      additionalProperties: false,
      properties: {
        telemetryTopic: { type: 'string', minLength: 1 },
        eventTopic: { type: 'string', minLength: 1 },
        mapping: mqttMapping,
      },
    },
  },
  oneOf: [{ required: ['modbus'] }, { required: ['mqtt'] }],
} as const;

export const siteSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Facility Monitor site file',
  type: 'object',
  additionalProperties: false,
  required: ['site', 'buildings'],
  properties: {
    site: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name'],
      properties: {
        id,
        name: { type: 'string', minLength: 1 },
        timezone: { type: 'string', minLength: 1 },
        demo: { type: 'boolean', description: 'demo estate: enables the demo login' },
      },
    },
    gateway: {
      type: 'object',
      additionalProperties: false,
      properties: {
        id,
        pollIntervalMs: { type: 'integer', minimum: 50, maximum: 3600000 },
        outbox: {
          type: 'object',
          additionalProperties: false,
          properties: {
            maxBytes: { type: 'integer', minimum: 1048576 },
            whenFull: { enum: ['drop-oldest', 'reject-new'] },
          },
        },
        store: {
          type: 'object',
          additionalProperties: false,
          properties: {
            batchSize: { type: 'integer', minimum: 1, maximum: 100000 },
            flushIntervalMs: { type: 'integer', minimum: 1, maximum: 60000 },
            retention: { type: 'string', pattern: '^(INF|[1-9][0-9]*[hdw])$', description: 'INF, or at least 1h: N h, d or w' },
          },
        },
      },
    },
    modbus: {
      type: 'object',
      additionalProperties: false,
      properties: {
        connections: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id'],
            properties: {
              id,
              tcp: {
                type: 'object',
                additionalProperties: false,
                required: ['host', 'port'],
                properties: { host: { type: 'string' }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
              },
              rtu: {
                type: 'object',
                additionalProperties: false,
                required: ['path'],
                properties: {
                  path: { type: 'string' },
                  baudRate: { type: 'integer', minimum: 300 },
                  parity: { enum: ['none', 'even', 'odd'] },
                  dataBits: { enum: [7, 8] },
                  stopBits: { enum: [1, 2] },
                },
              },
              timeoutMs: { type: 'integer', minimum: 10, maximum: 60000 },
              maxGapRegisters: { type: 'integer', minimum: 0, maximum: 124 },
            },
            oneOf: [{ required: ['tcp'] }, { required: ['rtu'] }],
          },
        },
      },
    },
    profiles: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'points'],
        properties: {
          kind: device.properties.kind,
          points: { type: 'array', minItems: 1, items: registerPoint },
        },
      },
    },
    buildings: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name'],
        properties: {
          id,
          name: { type: 'string', minLength: 1 },
          type: { enum: ['residential', 'office', 'commercial'] },
          units: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id'],
              properties: { id, floor: { type: 'integer' }, area_m2: { type: 'number' } },
            },
          },
          devices: { type: 'array', items: device },
        },
      },
    },
    rules: { type: 'object', description: 'rule overrides per device kind and device (server)' },
    inspections: { type: 'array', description: 'routine inspection schedules (server)' },
  },
} as const;
