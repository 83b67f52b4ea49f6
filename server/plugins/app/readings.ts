import fp from 'fastify-plugin';
import { openReadingHistory } from '../../../common/readings/open-reading-history.ts';
import type { ReadingHistory } from '../../../common/readings/reading-history.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Reading history (InfluxDB when INFLUX_URL is set, else DATA_DIR/readings.db), read-only: the gateway writes and prunes it. */
    readings: ReadingHistory;
  }
}

/**
 * The read-only reading history. It opens nothing at start, so an InfluxDB that is down or a
 * gateway that has not written yet does not stop the server: alarms and work orders carry on,
 * history answers 503 (store down) or empty (nothing written yet), and /api/health says which.
 */
export const readingsPlugin = fp(
  async (app) => {
    const history = openReadingHistory({ influxUrl: app.env.influxUrl, dataDir: app.env.dataDir });
    app.decorate('readings', history);
    app.addHook('onClose', async () => {
      await history.close();
    });
  },
  { name: 'readings', dependencies: ['config'], fastify: '5.x' },
);
