import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ROLES } from '../../auth/roles.ts';
import { AUTH_ERRORS, StringEnum, errors } from '../schemas/common.ts';

const count = Type.Integer({ minimum: 0 });

const SiteBody = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    timezone: Type.String({ description: 'IANA time zone the estate schedules and displays in' }),
    demo: Type.Boolean(),
    buildings: Type.Array(
      Type.Object({ id: Type.String(), name: Type.String(), type: StringEnum(['residential', 'office', 'commercial'] as const), units: count, devices: count }),
    ),
  },
  { title: 'Site' },
);

/** The estate as the site file names it: what a dashboard needs to lay out its screens. */
export const siteRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/site',
    {
      config: { roles: ROLES.read },
      schema: { tags: ['estate'], summary: 'The estate: name, time zone, buildings', response: { 200: SiteBody, ...errors(...AUTH_ERRORS) } },
    },
    async () => ({
      ...app.site.site,
      buildings: app.site.buildings.map((b) => ({ id: b.id, name: b.name, type: b.type, units: b.units.length, devices: b.devices.length })),
    }),
  );
};
