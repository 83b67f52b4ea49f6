import fp from 'fastify-plugin';
import type { Logger } from '../../../common/logger.ts';
import { createReadingStore } from '../../../gateway/store/create-reading-store.ts';
import type { ReadingStore } from '../../../gateway/store/reading-store.ts';

const INIT_RETRY_MS = 10_000;

declare module 'fastify' {
  interface FastifyInstance {
    /** Reading history (InfluxDB when INFLUX_URL is set, else DATA_DIR/readings.db); the server only reads it. */
    readings: ReadingStore;
  }
}

/**
 * An InfluxDB that is down at start-up does not stop the server: alarms and work orders carry on,
 * history answers 503 and /api/health says so until the store is reachable.
 */
export const readingsPlugin = fp(
  async (app) => {
    const log = app.log.child({ component: 'readings' }) as Logger;
    const store = createReadingStore({
      influxUrl: app.env.influxUrl,
      dataDir: app.env.dataDir,
      retention: app.site.gateway.store.retention,
      logger: log,
    });
    let retry: NodeJS.Timeout | undefined;
    const init = async (): Promise<void> => {
      try {
        await store.init();
      } catch (err) {
        if (store.backend !== 'influxdb') throw err;
        log.error({ err: (err as Error).message, retryMs: INIT_RETRY_MS }, 'reading store unreachable; retrying');
        retry = setTimeout(() => void init(), INIT_RETRY_MS);
        retry.unref();
      }
    };
    await init();
    app.decorate('readings', store);
    app.addHook('onClose', async () => {
      if (retry) clearTimeout(retry);
      await store.close();
    });
  },
  { name: 'readings', dependencies: ['config'], fastify: '5.x' },
);
