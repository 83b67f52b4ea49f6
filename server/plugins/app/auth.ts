import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { EnvironmentError } from '../../../common/env.ts';
import { bearerToken } from '../../auth/bearer-token.ts';
import { verifyPassword } from '../../auth/passwords.ts';
import type { UserRole } from '../../auth/roles.ts';
import { SessionStore, type Session } from '../../auth/sessions.ts';
import { UserStore } from '../../auth/users.ts';
import { HttpError } from '../../http/http-error.ts';

/** The demo estate's accounts (site.demo only), one per role, all with DEMO_PASSWORD. */
export const DEMO_PASSWORD = 'demo-password';
export const DEMO_USERS: ReadonlyArray<{ username: string; displayName: string; role: UserRole }> = [
  { username: 'demo', displayName: 'Demo Administrator 演示管理员', role: 'administrator' },
  { username: 'demo-engineer', displayName: 'Demo Engineer 演示工程师', role: 'engineer' },
  { username: 'demo-desk', displayName: 'Demo Service Desk 演示客服', role: 'service-desk' },
  { username: 'demo-viewer', displayName: 'Demo Viewer 演示访客', role: 'viewer' },
  { username: 'demo-cs-supervisor', displayName: 'Demo Customer-Service Supervisor 演示客服部主管', role: 'service-supervisor' },
  { username: 'demo-eng-supervisor', displayName: 'Demo Engineering Supervisor 演示工程部主管', role: 'engineering-supervisor' },
  { username: 'demo-manager', displayName: 'Demo Estate Manager 演示项目经理', role: 'estate-manager' },
  { username: 'demo-property-manager', displayName: 'Demo Property Manager 演示物业经理', role: 'property-manager' },
];

declare module 'fastify' {
  interface FastifyInstance {
    users: UserStore;
    sessions: SessionStore;
  }
  interface FastifyRequest {
    /** The logged-in user of a route that declares roles; null elsewhere. */
    user: Session | null;
  }
  interface FastifyContextConfig {
    /** Who may call the route; a valid bearer token of one of these roles. Every /api route declares this or `public`. */
    roles?: readonly UserRole[];
    /** The route needs no login (login itself, health). */
    public?: boolean;
  }
}

async function seedUsers(app: FastifyInstance): Promise<void> {
  const users = app.users;
  const log = app.log.child({ component: 'auth' });
  if (app.site.site.demo) {
    for (const u of DEMO_USERS) {
      if (await users.exists(u.username)) continue;
      await users.create({ ...u, password: DEMO_PASSWORD });
      log.info({ username: u.username, role: u.role }, 'demo user created');
    }
    return;
  }
  // An estate that started as the demo keeps its records, never the demo's published passwords.
  for (const u of DEMO_USERS) {
    const found = await users.credentials(u.username);
    if (found && (await verifyPassword(DEMO_PASSWORD, found.passwordHash))) {
      await users.disable(found.user.id);
      log.warn({ username: u.username }, 'demo account disabled: this estate is not the demo');
    }
  }
  if ((await users.activeAdministrators()) > 0) return;
  const admin = app.env.admin;
  if (!admin) throw new EnvironmentError('no administrator account yet: set ADMIN_USERNAME and ADMIN_PASSWORD for the first start');
  try {
    await users.create({ username: admin.username, displayName: admin.username, role: 'administrator', password: admin.password });
  } catch (err) {
    throw new EnvironmentError(`ADMIN_USERNAME/ADMIN_PASSWORD: ${(err as Error).message}`);
  }
  log.info({ username: admin.username }, 'first administrator created');
}

/**
 * Bearer-token authentication and role checks. Every route under /api must declare `config.roles`
 * or `config.public`; registering one that declares neither fails at start-up.
 */
export const authPlugin = fp(
  async (app) => {
    app.decorate('users', new UserStore(app.records.users, app.clock));
    app.decorate('sessions', new SessionStore(app.records.sessions, app.clock));
    app.decorateRequest('user', null);
    await seedUsers(app);

    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/api/') && route.url !== '/api') return;
      const config = (route.config ?? {}) as { roles?: readonly UserRole[]; public?: boolean };
      if (config.public === true) return;
      if (!config.roles?.length) throw new Error(`route ${String(route.method)} ${route.url} must declare config.roles (who may call it) or config.public`);
    });

    app.addHook('onRequest', async (request, reply) => {
      const roles = request.routeOptions.config.roles;
      if (request.routeOptions.config.public === true || !roles) return;
      const token = bearerToken(request.headers.authorization);
      if (!token) {
        reply.header('www-authenticate', 'Bearer');
        throw new HttpError(401, 'log in first: send the token from POST /api/auth/login as "Authorization: Bearer <token>"');
      }
      const session = await app.sessions.find(token);
      if (!session) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"');
        throw new HttpError(401, 'the token is unknown or has expired; log in again');
      }
      if (!roles.includes(session.role)) {
        throw new HttpError(403, `a ${session.role} may not do this; it needs the role ${roles.join(' or ')}`);
      }
      request.user = session;
    });
  },
  { name: 'auth', dependencies: ['config', 'records'], fastify: '5.x' },
);
