import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { demoCredentialProblem } from '../../auth/demo-accounts.ts';
import { DEFAULT_LOGIN_BACKOFF, LoginThrottle, type LoginBackoff } from '../../auth/login-throttle.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, verifyNothing, verifyPassword } from '../../auth/passwords.ts';
import { ROLES, USER_ROLES } from '../../auth/roles.ts';
import { HttpError } from '../../http/http-error.ts';
import { AUTH_ERRORS, EpochMs, IdParam, StringEnum, errors } from '../schemas/common.ts';

export interface LoginLimits {
  /** Attempts per client address per window, whatever the usernames. A service desk behind one NAT shares an address. */
  perAddress: number;
  windowMs: number;
  /** Failed logins of one username from one address slow down its next tries there, and nowhere else. */
  backoff: LoginBackoff;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perAddress: 20, windowMs: 60_000, backoff: DEFAULT_LOGIN_BACKOFF };

const UserBody = Type.Object(
  {
    id: Type.Integer(),
    username: Type.String(),
    displayName: Type.String(),
    role: StringEnum(USER_ROLES),
    createdAt: EpochMs(),
  },
  { title: 'User' },
);

const Credentials = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

const Password = Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH, description: `at least ${MIN_PASSWORD_LENGTH} characters` });

export const authRoutes: FastifyPluginAsyncTypebox<{ loginLimits?: LoginLimits }> = async (app, opts) => {
  const limits = opts.loginLimits ?? DEFAULT_LOGIN_LIMITS;
  const byAddress = app.createRateLimit({ max: limits.perAddress, timeWindow: limits.windowMs, keyGenerator: (r) => `login-address:${r.ip}` });
  const throttle = new LoginThrottle(limits.backoff, app.clock);
  const limit = async (check: typeof byAddress, request: FastifyRequest, what: string): Promise<void> => {
    const r = await check(request);
    if (r.isAllowed || !r.isExceeded) return;
    throw new HttpError(429, `too many login attempts ${what}; try again in ${r.ttlInSeconds} s`, undefined, { 'retry-after': String(r.ttlInSeconds) });
  };
  const backOff = async (request: FastifyRequest): Promise<void> => {
    const waitMs = throttle.waitMs((request.body as { username: string }).username, request.ip);
    if (waitMs === 0) return;
    const seconds = Math.ceil(waitMs / 1000);
    throw new HttpError(429, `too many failed logins for this user from this address; try again in ${seconds} s`, undefined, { 'retry-after': String(seconds) });
  };
  const demo = app.site.site.demo;

  app.post(
    '/auth/login',
    {
      config: { public: true, rateLimit: false },
      onRequest: async (request) => limit(byAddress, request, 'from this address'),
      preHandler: backOff,
      schema: {
        tags: ['auth'],
        summary: 'Log in; the token goes in `Authorization: Bearer <token>` and expires after 12 hours',
        body: Credentials,
        response: {
          200: Type.Object({ token: Type.String(), tokenType: Type.Literal('Bearer'), expiresAt: EpochMs(), user: UserBody }),
          // 429: too many attempts from this address, or too many failures of this user from this address (Retry-After says when).
          ...errors(400, 401, 429),
        },
      },
    },
    async (request) => {
      const { username, password } = request.body;
      const found = await app.users.credentials(username);
      // Outside the demo the published demo password opens nothing, whatever a stored hash says.
      const published = !demo && demoCredentialProblem('password', password) !== undefined;
      const ok = found && !published ? await verifyPassword(password, found.passwordHash) : await verifyNothing(password);
      if (!found || !ok) {
        throttle.failed(username, request.ip);
        request.log.info({ username, ip: request.ip }, 'login refused');
        throw new HttpError(401, 'wrong username or password');
      }
      throttle.succeeded(username, request.ip);
      const session = await app.sessions.open(found.user.id, request.ip);
      request.log.info({ username: found.user.username, role: found.user.role }, 'logged in');
      return { token: session.token, tokenType: 'Bearer' as const, expiresAt: session.expiresAt, user: found.user };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { roles: ROLES.read },
      schema: { tags: ['auth'], summary: 'End this session (the token stops working)', response: { 204: Type.Null(), ...errors(...AUTH_ERRORS) } },
    },
    async (request, reply) => {
      await app.sessions.close(request.user!.tokenHash);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    {
      config: { roles: ROLES.read },
      schema: {
        tags: ['auth'],
        summary: 'The logged-in user',
        response: { 200: Type.Object({ user: UserBody, expiresAt: EpochMs('when this token expires') }), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({ user: await app.users.get(request.user!.userId), expiresAt: request.user!.expiresAt }),
  );

  app.get(
    '/users',
    {
      config: { roles: ROLES.read },
      schema: { tags: ['auth'], summary: 'Users (to pick an assignee)', response: { 200: Type.Array(UserBody), ...errors(...AUTH_ERRORS) } },
    },
    async () => app.users.list(),
  );

  app.post(
    '/users',
    {
      config: { roles: ROLES.manageUsers },
      schema: {
        tags: ['auth'],
        summary: 'Create a user',
        body: Type.Object(
          {
            username: Type.String({ minLength: 2, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
            displayName: Type.String({ minLength: 1, maxLength: 200 }),
            role: StringEnum(USER_ROLES),
            password: Password,
          },
          { additionalProperties: false },
        ),
        response: { 201: UserBody, ...errors(400, 409, ...AUTH_ERRORS) },
      },
    },
    async (request, reply) => reply.code(201).send(await app.users.create(request.body)),
  );

  app.patch(
    '/users/:id',
    {
      config: { roles: ROLES.manageUsers },
      schema: {
        tags: ['auth'],
        summary: 'Change a user; a new password or role ends their sessions',
        params: IdParam,
        body: Type.Object(
          { displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), role: Type.Optional(StringEnum(USER_ROLES)), password: Type.Optional(Password) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: UserBody, ...errors(400, 404, 409, ...AUTH_ERRORS) },
      },
    },
    async (request) => app.users.update(request.params.id, request.body),
  );
};
