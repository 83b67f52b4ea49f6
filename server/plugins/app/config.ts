import fp from 'fastify-plugin';
import type { Environment } from '../../../common/env.ts';
import type { SiteConfig } from '../../../common/site/types.ts';

export interface AppConfig {
  site: SiteConfig;
  env: Environment;
  /** Epoch ms; tests pass a clock they move. */
  clock?: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    site: SiteConfig;
    env: Environment;
    /** The server's notion of now (UTC epoch ms), shared by every service. */
    clock: () => number;
  }
}

/** The validated site file, the environment and the clock, for every other plugin. */
export const configPlugin = fp<AppConfig>(
  async (app, opts) => {
    app.decorate('site', opts.site);
    app.decorate('env', opts.env);
    app.decorate('clock', opts.clock ?? Date.now);
  },
  { name: 'config', fastify: '5.x' },
);
