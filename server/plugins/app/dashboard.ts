import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import { DASHBOARD_DIST } from '../../dashboard/dashboard-build.ts';

export interface DashboardPluginOptions {
  /** The built dashboard (default `dashboard/dist`). */
  root?: string;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Facility Monitor</title>
<p>The dashboard has not been built: run <code>npm run build:dashboard</code> (npm start and npm run server build it by themselves).</p>
<p>The API is at <a href="/docs">/docs</a>.</p>`;

/**
 * Serves the browser dashboard at `/` (docs/dashboard.md). Hashed assets are cached for good;
 * the page itself is revalidated, so a new build shows on the next load.
 */
export const dashboardPlugin = fp<DashboardPluginOptions>(
  async (app, opts) => {
    const root = opts.root ?? DASHBOARD_DIST;
    if (!existsSync(join(root, 'index.html'))) {
      app.log.warn({ root }, 'dashboard not built: / explains how to build it');
      app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT));
      return;
    }
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      wildcard: false,
      decorateReply: false,
      schemaHide: true,
      cacheControl: false,
      setHeaders: (res, path) => {
        res.setHeader('cache-control', path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  },
  { name: 'dashboard', fastify: '5.x' },
);
