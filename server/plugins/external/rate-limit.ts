import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { HttpError } from '../../http/http-error.ts';

export interface RateLimitConfig {
  /** Requests per client address and minute over the whole API (login has its own limits). */
  max?: number;
}

/**
 * Requests per client address and minute, counted in the first `onRequest` hook of the server:
 * before authentication, so requests with a bad or missing token count too, and before routing
 * is known to succeed, so unknown URLs count. Routes with `config.rateLimit: false` (login, whose
 * own limits are in routes/api/auth.ts) are left out.
 */
export const rateLimitPlugin = fp<RateLimitConfig>(
  async (app, opts) => {
    await app.register(rateLimit, {
      global: false,
      max: opts.max ?? 1200,
      timeWindow: 60_000,
      errorResponseBuilder: (_request, context) =>
        new HttpError(context.statusCode, `too many requests; try again in ${context.after}`),
    });
    const limit = app.rateLimit();
    app.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.config?.rateLimit === false) return;
      await limit.call(app, request, reply);
    });
  },
  { name: 'rate-limit', fastify: '5.x' },
);
