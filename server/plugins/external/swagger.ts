import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

/** OpenAPI 3 of every route from its TypeBox schemas, at /docs (UI) and /docs/json. */
export const swaggerPlugin = fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Facility Monitor API',
          description:
            'Buildings, devices and reading history, alarms and work orders of one estate. Log in with POST /api/auth/login and send the token as `Authorization: Bearer <token>`.',
          version: '0.1.0',
        },
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'token from POST /api/auth/login' } },
        },
        tags: [
          { name: 'auth', description: 'login, logout, users' },
          { name: 'estate', description: 'buildings, devices, reading history' },
          { name: 'alarms', description: 'active alarms and their history' },
          { name: 'tickets', description: 'work orders and their timeline' },
          { name: 'operations', description: 'health and metrics' },
        ],
      },
      // Routes that declare roles need a bearer token: say so in the document, with the roles.
      transform: ({ schema, url, route }) => {
        const roles = (route.config as { roles?: readonly string[] } | undefined)?.roles;
        if (!roles || !schema) return { schema, url };
        const description = [schema.description, `Roles: ${roles.join(', ')}.`].filter(Boolean).join(' ');
        return { schema: { ...schema, description, security: [{ bearerAuth: [] }] }, url };
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'swagger', fastify: '5.x' },
);
