import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { checkHealth } from '../../http/health.ts';
import { DIALECTS } from '../../records/records-client.ts';
import { EpochMs, StringEnum } from '../schemas/common.ts';

const Check = { ok: Type.Boolean(), detail: Type.String() };

const HealthBody = Type.Object(
  {
    status: StringEnum(['ok', 'degraded'] as const),
    time: EpochMs(),
    checks: Type.Object({
      database: Type.Object({ ...Check, backend: StringEnum(DIALECTS) }),
      store: Type.Object({ ...Check, backend: StringEnum(['influxdb', 'sqlite'] as const) }),
      broker: Type.Object({ ...Check, url: Type.String(), embedded: Type.Boolean() }),
    }),
  },
  { title: 'Health' },
);

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Records database, reading store and upstream broker: 200 when all answer, 503 otherwise',
        response: { 200: HealthBody, 503: HealthBody },
      },
    },
    async (_request, reply) => {
      const health = await checkHealth(app);
      return reply.code(health.status === 'ok' ? 200 : 503).send(health);
    },
  );
};
