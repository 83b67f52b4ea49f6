import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { HttpError } from '../../http/http-error.ts';

export interface RateLimitConfig {
  /** Requests per client address and minute over the whole API (login has its own limits). */
  max?: number;
}

export const rateLimitPlugin = fp<RateLimitConfig>(
  async (app, opts) => {
    await app.register(rateLimit, {
      global: true,
      max: opts.max ?? 1200,
      timeWindow: 60_000,
      errorResponseBuilder: (_request, context) =>
        new HttpError(context.statusCode, `too many requests; try again in ${context.after}`),
    });
  },
  { name: 'rate-limit', fastify: '5.x' },
);
