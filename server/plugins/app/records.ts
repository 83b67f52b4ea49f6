import { join } from 'node:path';
import fp from 'fastify-plugin';
import { openPostgresRecords } from '../../records/postgres/postgres-client.ts';
import type { RecordsClient } from '../../records/records-client.ts';
import { recordsOver, type Records } from '../../records/records.ts';
import { openSqliteRecords } from '../../records/sqlite/sqlite-client.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The records (users, sessions, work orders, alarms): the repositories over the database, migrated to the code's schema. */
    records: Records;
  }
}

/** PostgreSQL when DATABASE_URL names one, else SQLite in DATA_DIR (docs/design.md#records). */
export const recordsPlugin = fp(
  async (app) => {
    let client: RecordsClient;
    if (app.env.databaseUrl) {
      const postgres = await openPostgresRecords(app.env.databaseUrl);
      const log = app.log.child({ component: 'records' });
      postgres.on('error', (err) => log.warn({ err: err.message }, 'records database connection lost; the pool opens another'));
      app.log.info({ backend: 'postgres', database: postgres.database }, 'records database open');
      client = postgres;
    } else {
      const file = join(app.env.dataDir, 'records.db');
      client = openSqliteRecords(file);
      app.log.info({ backend: 'sqlite', file }, 'records database open');
    }
    const records = recordsOver(client);
    app.decorate('records', records);
    app.addHook('onClose', async () => {
      await records.client.close();
    });
  },
  { name: 'records', dependencies: ['config'], fastify: '5.x' },
);
