import fp from 'fastify-plugin';
import { MetricsRegistry } from '../../../common/metrics.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The server's Prometheus registry, rendered at /metrics; plugins add their counters and collectors. */
    metrics: MetricsRegistry;
  }
}

export const metricsPlugin = fp(
  async (app) => {
    app.decorate('metrics', new MetricsRegistry());
  },
  { name: 'metrics', fastify: '5.x' },
);
