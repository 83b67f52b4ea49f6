import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ROLES } from '../../auth/roles.ts';
import { buildingStatus } from '../../live/building-status.ts';
import { AlarmSeverity } from '../schemas/alarm.ts';
import { AUTH_ERRORS, Nullable, StringEnum, errors } from '../schemas/common.ts';

const count = Type.Integer({ minimum: 0 });

const BuildingStatus = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    type: StringEnum(['residential', 'office', 'commercial'] as const),
    condition: StringEnum(['alarm', 'warning', 'offline', 'normal'] as const, {
      description: 'alarm: an active critical alarm; warning: another active alarm; offline: devices not reporting',
    }),
    units: count,
    devices: Type.Object({ total: count, online: count, offline: count, unknown: Type.Integer({ minimum: 0, description: 'not heard since the server started' }) }),
    alarms: Type.Object({
      open: count,
      active: count,
      unacknowledged: count,
      bySeverity: Type.Object({ critical: count, high: count, medium: count, low: count }, { description: 'active alarms per severity' }),
    }),
    worstSeverity: Nullable(AlarmSeverity),
  },
  { title: 'Building status' },
);

export const buildingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/buildings',
    {
      config: { roles: ROLES.read },
      schema: {
        tags: ['estate'],
        summary: 'Buildings with their live status: active alarms by severity, devices offline',
        response: { 200: Type.Array(BuildingStatus), ...errors(...AUTH_ERRORS) },
      },
    },
    async () => {
      const open = app.alarms.listActive();
      return app.site.buildings.map((b) => ({ ...buildingStatus(b, app.liveState, open), type: b.type, units: b.units.length }));
    },
  );
};
