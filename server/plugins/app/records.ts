import { join } from 'node:path';
import fp from 'fastify-plugin';
import { recordsOver, type Records } from '../../records/records.ts';
import { openSqliteRecords } from '../../records/sqlite/sqlite-client.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The records (users, sessions, work orders, alarms): the repositories over the database, migrated to the code's schema. */
    records: Records;
  }
}

export const recordsPlugin = fp(
  async (app) => {
    const file = join(app.env.dataDir, 'records.db');
    const records = recordsOver(openSqliteRecords(file));
    app.log.info({ file }, 'records database open');
    app.decorate('records', records);
    app.addHook('onClose', async () => {
      await records.client.close();
    });
  },
  { name: 'records', dependencies: ['config'], fastify: '5.x' },
);
