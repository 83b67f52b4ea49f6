import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';

export interface SecurityHeadersConfig {
  /** The server answers over HTTPS: browsers may be told to come back only that way (HSTS). */
  https: boolean;
}

/**
 * helmet's headers on every answer. The Content-Security-Policy lets the dashboard (a Vite build:
 * module scripts and style sheets from the server itself, Socket.IO over the same origin) and the
 * API docs at /docs run, and nothing from anywhere else. Over plain HTTP the policy does not ask
 * browsers to upgrade requests to HTTPS, which would break a dashboard on a LAN address.
 */
export const securityHeadersPlugin = fp<SecurityHeadersConfig>(
  async (app, opts) => {
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'default-src': ["'self'"],
          'connect-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'upgrade-insecure-requests': opts.https ? [] : null,
        },
      },
      strictTransportSecurity: opts.https ? { maxAge: 15_552_000, includeSubDomains: false } : false,
    });
  },
  { name: 'security-headers', fastify: '5.x' },
);
