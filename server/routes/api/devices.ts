import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PROTOCOL_NAMES } from '../../../common/protocols/index.ts';
import { DEVICE_KINDS } from '../../../common/reading.ts';
import type { DeviceConfig } from '../../../common/site/types.ts';
import { AGGREGATES, type Aggregate, type RangeQuery } from '../../../common/readings/reading-history.ts';
import { chooseResolution, MAX_RAW_RANGE_MS, MAX_WINDOWS, RESOLUTIONS, retentionsOf, ROLLUP_MS, type Resolution, type ResolutionChoice } from '../../../common/readings/resolution.ts';
import { ROLES } from '../../auth/roles.ts';
import { badRequest, notFound } from '../../http/http-error.ts';
import { fromStore } from '../../http/store-errors.ts';
import { parseDuration, parseTime } from '../../http/time-params.ts';
import { AUTH_ERRORS, EpochMs, Nullable, StringEnum, TextIdParam, errors } from '../schemas/common.ts';

const DEFAULT_RANGE_MS = 3_600_000;

const Quality = StringEnum(['good', 'uncertain', 'bad'] as const);

const DeviceSummary = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    building: Type.String(),
    kind: StringEnum(DEVICE_KINDS),
    unit: Nullable(Type.String({ description: 'the unit (flat, shop) a meter belongs to' })),
    protocol: StringEnum(PROTOCOL_NAMES, { description: 'the field protocol the gateway reads it with' }),
    address: Type.String({ description: 'where the device is reached, e.g. `T1-modbus unit 11`, `OB-dlt645 meter 000000000101`, an MQTT topic' }),
  },
  { title: 'Device' },
);

const DeviceDetail = Type.Composite(
  [
    DeviceSummary,
    Type.Object({
      params: Type.Record(Type.String(), Type.Number(), { description: 'rule parameters from the site file (capacity, limits)' }),
      metrics: Nullable(Type.Array(Type.String(), { description: 'metrics the device can report; null when it may send any (MQTT telemetry)' })),
      latest: Type.Array(
        Type.Object({ metric: Type.String(), value: Nullable(Type.Number()), quality: Quality, ts: EpochMs(), engUnit: Nullable(Type.String()) }),
        { description: 'latest stored reading of each metric' },
      ),
    }),
  ],
  { title: 'Device with its latest readings' },
);

const ReadingsQuery = Type.Object({
  from: Type.Optional(Type.String({ description: 'epoch ms or ISO 8601 with zone, inclusive; default `to` minus 1 hour' })),
  to: Type.Optional(Type.String({ description: 'epoch ms or ISO 8601 with zone, exclusive; default now' })),
  every: Type.Optional(Type.String({ description: 'aggregation window: ms or 30s, 5m, 1h, 1d; default: raw points up to 6 hours, else 1-minute or hourly windows' })),
  metric: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  aggregate: Type.Optional(StringEnum(AGGREGATES as readonly Aggregate[], { description: 'over each window; default mean; delta: the increase of a meter total' })),
  resolution: Type.Optional(
    StringEnum(['auto', ...RESOLUTIONS] as const, { description: 'what to read: raw readings or a rollup; default auto, chosen from the range and every' }),
  ),
});

const Series = Type.Object({
  device: Type.String(),
  from: EpochMs(),
  to: EpochMs(),
  every: Nullable(Type.Integer({ description: 'window in ms; null for raw points' })),
  aggregate: Nullable(Type.String()),
  resolution: StringEnum(RESOLUTIONS, { description: 'what the answer was read from: raw readings, the 1-minute or the 1-hour rollup' }),
  points: Type.Array(Type.Object({ metric: Type.String(), ts: EpochMs('the reading, or the start of its window'), value: Nullable(Type.Number()) })),
});

const summary = (d: DeviceConfig) => ({ id: d.id, name: d.name, building: d.building, kind: d.kind, unit: d.unit ?? null, protocol: d.protocol, address: d.address });

/** A resolution the request names: a rollup's windows default to its own and must be multiples of it. */
function forced(resolution: Resolution, every: number | undefined): ResolutionChoice {
  if (resolution === 'raw') return { resolution, every };
  const window = ROLLUP_MS[resolution];
  if (every !== undefined && every % window !== 0) throw badRequest('every', `must be a multiple of ${window} ms to read the ${resolution} rollup`);
  return { resolution, every: every ?? window };
}

export const deviceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const byId = new Map(app.site.devices.map((d) => [d.id, d]));
  // The gateway keeps the resolutions as long as the site file says (docs/gateway.md#rollups).
  const retentions = retentionsOf(app.site.gateway.store);
  const device = (id: string): DeviceConfig => {
    const d = byId.get(id);
    if (!d) throw notFound(`no device ${id} in this estate`);
    return d;
  };

  app.get(
    '/devices',
    {
      config: { roles: ROLES.read },
      schema: {
        tags: ['estate'],
        summary: 'Devices of the site file',
        querystring: Type.Object({ building: Type.Optional(Type.String({ minLength: 1 })), kind: Type.Optional(StringEnum(DEVICE_KINDS)) }),
        response: { 200: Type.Array(DeviceSummary), ...errors(400, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { building, kind } = request.query;
      return app.site.devices.filter((d) => (building === undefined || d.building === building) && (kind === undefined || d.kind === kind)).map(summary);
    },
  );

  app.get(
    '/devices/:id',
    {
      config: { roles: ROLES.read },
      schema: {
        tags: ['estate'],
        summary: 'A device: its configuration and latest readings',
        params: TextIdParam,
        response: { 200: DeviceDetail, ...errors(404, 503, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const d = device(request.params.id);
      const latest = await fromStore(request.log, 'latest readings', () => app.readings.latest({ device: d.id }));
      return {
        ...summary(d),
        params: d.params,
        metrics: d.metrics ? [...d.metrics] : null,
        latest: latest
          .sort((a, b) => a.metric.localeCompare(b.metric))
          .map((r) => ({ metric: r.metric, value: r.value, quality: r.quality, ts: r.ts, engUnit: r.engUnit ?? null })),
      };
    },
  );

  app.get(
    '/devices/:id/readings',
    {
      config: { roles: ROLES.read },
      schema: {
        tags: ['estate'],
        summary: 'Reading history of a device, raw or aggregated in windows aligned to the epoch, from raw readings or rollups',
        params: TextIdParam,
        querystring: ReadingsQuery,
        response: { 200: Series, ...errors(400, 404, 503, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const d = device(request.params.id);
      const q = request.query;
      const to = q.to === undefined ? app.clock() : parseTime('to', q.to);
      const from = q.from === undefined ? to - DEFAULT_RANGE_MS : parseTime('from', q.from);
      if (from >= to) throw badRequest('from', `must be before to (from ${new Date(from).toISOString()}, to ${new Date(to).toISOString()})`);
      const asked = q.every === undefined ? undefined : parseDuration('every', q.every);
      const choice = q.resolution === undefined || q.resolution === 'auto' ? chooseResolution({ from, to, every: asked }, retentions, app.clock()) : forced(q.resolution, asked);
      const { every, resolution } = choice;
      if (every === undefined && q.aggregate !== undefined) throw badRequest('aggregate', 'applies to windows: give every as well (e.g. every=5m)');
      if (every === undefined && to - from > MAX_RAW_RANGE_MS) throw badRequest('every', 'is needed for raw readings over more than 6 hours (e.g. every=5m)');
      if (every !== undefined && (to - from) / every > MAX_WINDOWS) {
        throw badRequest('every', `makes more than ${MAX_WINDOWS} windows over this range; use at least ${Math.ceil((to - from) / MAX_WINDOWS)} ms`);
      }
      const query: RangeQuery = { device: d.id, from, to, resolution };
      if (q.metric !== undefined) query.metric = q.metric;
      if (every !== undefined) {
        query.every = every;
        query.aggregate = q.aggregate ?? 'mean';
      }
      const points = await fromStore(request.log, 'reading history', () => app.readings.range(query));
      return { device: d.id, from, to, every: every ?? null, aggregate: query.aggregate ?? null, resolution, points };
    },
  );
};
