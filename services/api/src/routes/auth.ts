import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { KbError } from '@domaeka/core';
import { SESSION_COOKIE, callerOf, clearSessionCookie, setSessionCookie } from '../http/auth.js';
import type { RouteDeps } from './deps.js';

const Email = Type.String({ format: 'email', maxLength: 254 });
const SignupBody = Type.Object(
  {
    email: Email,
    password: Type.String({ minLength: 8, maxLength: 256 }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    tenantName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
const LoginBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

/** Signup, login, logout and "who am I". */
export async function authRoutes(app: FastifyInstance, { services, config }: RouteDeps): Promise<void> {
  app.post<{ Body: Static<typeof SignupBody> }>(
    '/auth/signup',
    { schema: { body: SignupBody }, config: { public: true } },
    async (req, reply) => {
      services().authLimits.signupAttempt(req.ip);
      const s = await services().accounts.signup(req.body);
      setSessionCookie(reply, s.token, s.expiresAt, config.cookieSecure);
      return reply.code(201).send(s.me);
    },
  );

  app.post<{ Body: Static<typeof LoginBody> }>(
    '/auth/login',
    { schema: { body: LoginBody }, config: { public: true } },
    async (req, reply) => {
      const limits = services().authLimits;
      limits.beforeLogin(req.body.email, req.ip);
      const s = await services()
        .accounts.login(req.body.email, req.body.password)
        .catch((err: unknown) => {
          if (err instanceof KbError && err.code === 'KB_ERR_INVALID_CREDENTIALS') limits.loginFailed(req.body.email, req.ip);
          throw err;
        });
      limits.loginSucceeded(req.body.email);
      setSessionCookie(reply, s.token, s.expiresAt, config.cookieSecure);
      return s.me;
    },
  );

  // Public: logging out with an expired session must still clear the cookie.
  app.post('/auth/logout', { config: { public: true } }, async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE];
    if (token) await services().accounts.logout(token);
    clearSessionCookie(reply, config.cookieSecure);
    return reply.code(204).send();
  });

  app.get('/me', async (req) => services().accounts.me(callerOf(req)));
}
