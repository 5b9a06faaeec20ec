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
const PasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 256, description: '지금 비밀번호 / the current password' }),
    newPassword: Type.String({ minLength: 8, maxLength: 256, description: '새 비밀번호 (비밀번호 규칙: API README "Auth") / the new password' }),
  },
  { additionalProperties: false },
);

/** Signup, login, logout, the password change and "who am I". */
export async function authRoutes(app: FastifyInstance, { services, config }: RouteDeps): Promise<void> {
  const cookies = new SessionCookies(config);

  app.post<{ Body: Static<typeof SignupBody> }>(
    '/auth/signup',
    { schema: { body: SignupBody }, config: { public: true } },
    async (req, reply) => {
      await services().authLimits.signupAttempt(cookies.client(req).ip);
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
      const attempt = await services().authLimits.beginLogin(email, { ip: cookies.client(req).ip, device: cookies.knownDevice(req, email) });
      const s = await services()
        .accounts.login(email, password)
        .catch(async (err: unknown) => {
          // A wrong password stays counted; anything else (the database down) was no guess.
          if (!(err instanceof KbError && err.code === 'KB_ERR_INVALID_CREDENTIALS')) await attempt.voided().catch(() => undefined);
          throw err;
        });
      await attempt.succeeded();
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

  /**
   * A browser session only (`sessionOnly`: a person who can type the
   * password, as GitHub and Google ask it before the change), CSRF-checked
   * by the auth hook like every session mutation. The current password is
   * braked exactly as a login of that account from this place (a stolen
   * session guessing it shares the budget of one guessing at the login
   * form). Answers `me` with the browser's renewed session cookies.
   */
  app.post<{ Body: Static<typeof PasswordBody> }>(
    '/auth/password',
    {
      schema: {
        summary: '비밀번호 변경 / change the password',
        description:
          '지금 비밀번호를 확인하고 새 비밀번호로 바꿉니다. 이 브라우저는 새 세션 쿠키로 로그인이 유지되고, 다른 세션은 모두 로그아웃되며 그 실시간 연결도 끊깁니다. API 키로는 할 수 없습니다. / ' +
          'Verifies the current password and stores the new one; this browser gets a renewed session, every other session of the account ends with its live sockets. Not with an API key.',
        body: PasswordBody,
      },
      config: { sessionOnly: true },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const { currentPassword, newPassword } = req.body;
      const { email } = await services().accounts.me(caller);
      const attempt = await services().authLimits.beginLogin(email, { ip: cookies.client(req).ip, device: cookies.knownDevice(req, email) });
      const s = await services()
        .accounts.changePassword(caller, currentPassword, newPassword)
        .catch(async (err: unknown) => {
          // A wrong current password stays counted; a refused new one (or the database down) was no guess.
          if (!(err instanceof KbError && err.code === 'KB_ERR_WRONG_PASSWORD')) await attempt.voided().catch(() => undefined);
          throw err;
        });
      await attempt.succeeded();
      cookies.open(req, reply, email, s);
      return s.me;
    },
  );

  app.get('/me', async (req) => services().accounts.me(callerOf(req)));
}
