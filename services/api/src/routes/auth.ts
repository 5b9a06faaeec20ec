import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { KbError } from '@domaeka/core';
import { SESSION_COOKIE, SessionCookies, callerOf } from '../http/auth.js';
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
  const cookies = new SessionCookies(config);

  app.post<{ Body: Static<typeof SignupBody> }>(
    '/auth/signup',
    { schema: { body: SignupBody }, config: { public: true } },
    async (req, reply) => {
      services().authLimits.signupAttempt(cookies.client(req).ip);
      const s = await services().accounts.signup(req.body);
      cookies.open(req, reply, req.body.email, s);
      return reply.code(201).send(s.me);
    },
  );

  app.post<{ Body: Static<typeof LoginBody> }>(
    '/auth/login',
    { schema: { body: LoginBody }, config: { public: true } },
    async (req, reply) => {
      const { email, password } = req.body;
      const attempt = services().authLimits.beginLogin(email, { ip: cookies.client(req).ip, device: cookies.knownDevice(req, email) });
      const s = await services()
        .accounts.login(email, password)
        .catch((err: unknown) => {
          // A wrong password stays counted; anything else (the database down) was no guess.
          if (!(err instanceof KbError && err.code === 'KB_ERR_INVALID_CREDENTIALS')) attempt.voided();
          throw err;
        });
      attempt.succeeded();
      cookies.open(req, reply, email, s);
      return s.me;
    },
  );

  /**
   * Public, so that a browser whose session already ended still gets its
   * cookies cleared; but a live session ends only with its CSRF token (a
   * forged cross-site logout is a nuisance attack OWASP lists too).
   */
  app.post('/auth/logout', { config: { public: true } }, async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE];
    if (token && (await services().accounts.authenticateSession(token))) {
      cookies.checkCsrf(req);
      await services().accounts.logout(token);
    }
    cookies.clear(req, reply);
    return reply.code(204).send();
  });

  app.get('/me', async (req) => services().accounts.me(callerOf(req)));
}
