import fp from 'fastify-plugin';
import { SoleLeadership, type Leadership } from '../../cluster/leadership.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Whether this replica runs the single-writer duties (rules, schedules); see server/cluster/leadership.ts. */
    leadership: Leadership;
  }
}

/** A single server always leads. */
export const leadershipPlugin = fp(
  async (app) => {
    app.decorate('leadership', new SoleLeadership() as Leadership);
  },
  { name: 'leadership', fastify: '5.x', dependencies: ['config', 'records'] },
);
