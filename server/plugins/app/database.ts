import { join } from 'node:path';
import fp from 'fastify-plugin';
import { openDatabase, type Database } from '../../db/database.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The records database (users, sessions, work orders, alarms), migrated to the code's schema. */
    db: Database;
  }
}

export const databasePlugin = fp(
  async (app) => {
    const file = join(app.env.dataDir, 'records.db');
    const db = openDatabase(file);
    app.log.info({ file }, 'records database open');
    app.decorate('db', db);
    app.addHook('onClose', async () => {
      db.close();
    });
  },
  { name: 'database', dependencies: ['config'], fastify: '5.x' },
);
