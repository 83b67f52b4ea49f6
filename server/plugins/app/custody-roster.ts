import fp from 'fastify-plugin';
import { SiteCustodyRoster, type CustodyRoster } from '../../units/custody-roster.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The units in custody now (server/units/custody-roster.ts). */
    custodyRoster: CustodyRoster;
  }
}

export const custodyRosterPlugin = fp(
  async (app) => {
    app.decorate('custodyRoster', new SiteCustodyRoster(app.site, app.clock()) as CustodyRoster);
  },
  { name: 'custody-roster', fastify: '5.x', dependencies: ['config', 'records'] },
);
