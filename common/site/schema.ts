import { PROTOCOLS, PROTOCOL_NAMES } from '../protocols/index.ts';
import { idSchema as id } from '../protocols/links.ts';
import { DEVICE_KINDS } from '../reading.ts';
import { reportingSchema } from './reporting.ts';

/**
 * JSON Schema of the site file, documented in docs/site-file.md. Each protocol of
 * `common/protocols/` brings the schema of its device block and of its top-level sections.
 */
const protocols = Object.values(PROTOCOLS);

const retention = { type: 'string', pattern: '^(INF|[1-9][0-9]*[hdw])$' };

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
    ...Object.fromEntries(protocols.map((p) => [p.name, p.deviceSchema])),
  },
  oneOf: PROTOCOL_NAMES.map((name) => ({ required: [name] })),
};

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
        buildings: { type: 'array', uniqueItems: true, items: id, description: 'buildings this gateway serves (default: every building no other gateway serves)' },
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
            retention: { ...retention, description: 'raw readings and events: INF, or at least 1h: N h, d or w' },
            rollups: {
              type: 'object',
              additionalProperties: false,
              properties: { '1m': { ...retention, description: '1-minute rollups' }, '1h': { ...retention, description: '1-hour rollups' } },
            },
            maxBytes: { type: 'integer', minimum: 1048576, description: 'disk budget of the reading store' },
          },
        },
      },
    },
    gateways: {
      type: 'array',
      description: 'further gateways that feed the server, each with the buildings it serves',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'buildings'],
        properties: { id, buildings: { type: 'array', minItems: 1, uniqueItems: true, items: id } },
      },
    },
    ...Object.assign({}, ...protocols.map((p) => p.sectionSchemas)),
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
              properties: { id, floor: { type: 'integer' }, area_m2: { type: 'number' }, custody: { type: 'boolean', description: 'the unit is vacant and in the company\'s custody (weekly patrol, usage limits)' } },
            },
          },
          devices: { type: 'array', items: device },
        },
      },
    },
    reporting: reportingSchema,
    rules: { type: 'object', description: 'rule overrides per device kind and device (server)' },
    inspections: { type: 'array', description: 'routine inspection schedules (server)' },
    workOrders: { type: 'object', description: 'response-time standards, callbacks, escalation and the emergency team (server)' },
  },
};
