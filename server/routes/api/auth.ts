import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, verifyNothing, verifyPassword } from '../../auth/passwords.ts';
import { ROLES, USER_ROLES } from '../../auth/roles.ts';
import { HttpError } from '../../http/http-error.ts';
import { AUTH_ERRORS, EpochMs, IdParam, StringEnum, errors } from '../schemas/common.ts';

export interface LoginLimits {
  /** Attempts per client address per window. A service desk behind one NAT shares an address. */
  perAddress: number;
  /** Attempts per username per window, from anywhere: what stops guessing one account's password. */
  perUsername: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perAddress: 20, perUsername: 5, windowMs: 60_000 };

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
  const byUsername = app.createRateLimit({
    max: limits.perUsername,
    timeWindow: limits.windowMs,
    keyGenerator: (r) => `login-user:${String((r.body as { username?: unknown } | undefined)?.username ?? '').toLowerCase()}`,
  });
  const limit = async (check: typeof byAddress, request: FastifyRequest, what: string): Promise<void> => {
    const r = await check(request);
    if (r.isAllowed || !r.isExceeded) return;
    throw new HttpError(429, `too many login attempts ${what}; try again in ${r.ttlInSeconds} s`, undefined, { 'retry-after': String(r.ttlInSeconds) });
  };

  app.post(
    '/auth/login',
    {
      config: { public: true, rateLimit: false },
      onRequest: async (request) => limit(byAddress, request, 'from this address'),
      preHandler: async (request) => limit(byUsername, request, 'for this user'),
      schema: {
        tags: ['auth'],
        summary: 'Log in; the token goes in `Authorization: Bearer <token>` and expires after 12 hours',
        body: Credentials,
        response: {
          200: Type.Object({ token: Type.String(), tokenType: Type.Literal('Bearer'), expiresAt: EpochMs(), user: UserBody }),
          ...errors(400, 401, 429),
        },
      },
    },
    async (request) => {
      const { username, password } = request.body;
      const found = await app.users.credentials(username);
      const ok = found ? await verifyPassword(password, found.passwordHash) : await verifyNothing(password);
      if (!found || !ok) {
        request.log.info({ username, ip: request.ip }, 'login refused');
        throw new HttpError(401, 'wrong username or password');
      }
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
