import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { startWeb, type WebServer } from '../e2e/browser.js';
import { cookiesOf, ensureWebBuild, request } from './h13-web.js';

/**
 * Issue 13, hole 7: sessions. The CSRF double-submit token was not bound to
 * the session (`kb_csrf=attacker` + header `attacker` passed); logout needed
 * no token; no `Secure` cookie even behind `X-Forwarded-Proto: https`; the
 * web app sent no CSP, X-Frame-Options/frame-ancestors or Referrer-Policy;
 * the password `aaaaaaaa` was accepted. Real stack, `TRUST_PROXY` naming
 * one proxy address (10.7.0.1); the web server (web/server.js) in front.
 */
const PASSWORD = 'correct horse battery';
const PROXY = '10.7.0.1';

interface Browser {
  session: string;
  csrf: string;
  /** The Cookie header such a browser sends. */
  cookie: string;
}

describe('issue 13 hole 7: sessions, security headers, password policy', () => {
  let stack: Stack;
  let web: WebServer;
  let signups = 0;

  type Inject = { method: 'GET' | 'POST'; url: string; headers?: Record<string, string>; payload?: object; remoteAddress?: string };
  const inject = (r: Inject) => stack.api.app.inject({ ...r, url: `/api/v1${r.url}` });
  const errorOf = (res: { body: string }) => (JSON.parse(res.body) as { error: { code: string; message: string } }).error;
  const signupRaw = (email: string, password: string) =>
    inject({ method: 'POST', url: '/auth/signup', payload: { email, password, name: email.split('@')[0]! }, remoteAddress: `10.77.0.${++signups}` });
  const signup = async (email: string): Promise<Browser> => {
    const res = await signupRaw(email, PASSWORD);
    expect(res.statusCode).toBe(201);
    const jar = cookiesOf(res.headers['set-cookie'] as string[]);
    const session = jar.get('kb_session')!.value;
    const csrf = jar.get('kb_csrf')!.value;
    return { session, csrf, cookie: `kb_session=${session}; kb_csrf=${csrf}` };
  };

  beforeAll(async () => {
    ensureWebBuild();
    stack = await startStack('h13-7-sessions', {}, { env: { TRUST_PROXY: PROXY } });
    web = await startWeb(stack.api.port);
  }, 300_000);

  afterAll(async () => {
    await web?.stop();
    await stack?.close();
  });

  it('refuses a CSRF cookie+header pair the attacker chose, or took from his own session; the victim\'s own pair works', async () => {
    const victim = await signup('victim@h13-7.example');
    const attacker = await signup('attacker@h13-7.example');
    const createBot = (cookie: string, token: string, name: string) =>
      inject({ method: 'POST', url: '/bots', headers: { cookie, 'x-csrf-token': token }, payload: { name } });

    // A page that planted `kb_csrf=attacker` (cookie tossing from a sibling host) and sends the header to match.
    const planted = await createBot(`kb_session=${victim.session}; kb_csrf=attacker`, 'attacker', 'h13-7-planted');
    expect(planted.statusCode).toBe(403);
    expect(errorOf(planted).code).toBe('KB_ERR_CSRF');
    expect(errorOf(planted).message).toMatch(/^[가-힣]/);
    // The attacker's own valid token, next to the victim's session.
    const borrowed = await createBot(`kb_session=${victim.session}; kb_csrf=${attacker.csrf}`, attacker.csrf, 'h13-7-borrowed');
    expect(borrowed.statusCode).toBe(403);
    expect(errorOf(borrowed).code).toBe('KB_ERR_CSRF');

    const bots = await inject({ method: 'GET', url: '/bots', headers: { cookie: victim.cookie } });
    expect(JSON.parse(bots.body)).toEqual([]);
    expect((await createBot(victim.cookie, victim.csrf, 'h13-7-own')).statusCode).toBe(201);
  });

  it('logout needs the session\'s token: without it the session lives on; with it the session ends', async () => {
    const b = await signup('logout@h13-7.example');
    const bare = await inject({ method: 'POST', url: '/auth/logout', headers: { cookie: b.cookie } });
    expect(bare.statusCode).toBe(403);
    expect(errorOf(bare).code).toBe('KB_ERR_CSRF');
    const planted = await inject({ method: 'POST', url: '/auth/logout', headers: { cookie: `kb_session=${b.session}; kb_csrf=x`, 'x-csrf-token': 'x' } });
    expect(planted.statusCode).toBe(403);
    expect((await inject({ method: 'GET', url: '/me', headers: { cookie: b.cookie } })).statusCode).toBe(200);

    const out = await inject({ method: 'POST', url: '/auth/logout', headers: { cookie: b.cookie, 'x-csrf-token': b.csrf } });
    expect(out.statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: '/me', headers: { cookie: b.cookie } })).statusCode).toBe(401);
    // A session that is already gone only has its cookies cleared (nothing left to protect).
    const again = await inject({ method: 'POST', url: '/auth/logout', headers: { cookie: b.cookie } });
    expect(again.statusCode).toBe(204);
    expect(cookiesOf(again.headers['set-cookie'] as string[]).get('kb_session')?.value).toBe('');
  });

  it('marks the cookies Secure when the request came over https through the trusted proxy, and only then', async () => {
    await signup('secure@h13-7.example');
    const loginFrom = (remoteAddress: string, headers: Record<string, string>) =>
      inject({ method: 'POST', url: '/auth/login', payload: { email: 'secure@h13-7.example', password: PASSWORD }, remoteAddress, headers });
    const secureFlags = (res: { headers: Record<string, unknown> }) => {
      const jar = cookiesOf(res.headers['set-cookie'] as string[]);
      return ['kb_session', 'kb_csrf', 'kb_device'].map((n) => /;\s*Secure/i.test(jar.get(n)?.line ?? ''));
    };

    const proxied = await loginFrom(PROXY, { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' });
    expect(proxied.statusCode).toBe(200);
    expect(secureFlags(proxied)).toEqual([true, true, true]);
    // The same header from an address TRUST_PROXY does not name is the client's own claim.
    const claimed = await loginFrom('10.7.0.2', { 'x-forwarded-proto': 'https' });
    expect(claimed.statusCode).toBe(200);
    expect(secureFlags(claimed)).toEqual([false, false, false]);
    // The trusted proxy over plain http.
    expect(secureFlags(await loginFrom(PROXY, { 'x-forwarded-proto': 'http' }))).toEqual([false, false, false]);
  });

  it('sends CSP (nonce scripts, frame-ancestors none), X-Frame-Options, Referrer-Policy and nosniff on every web response', async () => {
    const page = await request(`${web.url}/login`);
    expect(page.status).toBe(200);
    const csp = String(page.headers['content-security-policy'] ?? '');
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).toMatch(/object-src 'none'/);
    expect(csp).toMatch(/base-uri 'self'/);
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? '';
    expect(scriptSrc).toMatch(/'nonce-[^']+'/);
    expect(scriptSrc).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
    // The page's inline start-up script carries the nonce the header names.
    const nonce = /'nonce-([^']+)'/.exec(scriptSrc)![1];
    expect(page.body).toContain(`nonce="${nonce}"`);

    const asset = /(\/_app\/immutable\/[^"]+\.js)/.exec(page.body)![1]!;
    const answers = {
      page,
      asset: await request(`${web.url}${asset}`),
      missing: await request(`${web.url}/no-such-page`),
      api: await request(`${web.url}/api/v1/me`),
      apiDirect: await request(`http://127.0.0.1:${stack.api.port}/api/v1/me`),
    };
    expect(answers.asset.status).toBe(200);
    expect(answers.api.status).toBe(401);
    for (const [what, res] of Object.entries(answers)) {
      expect({ what, xfo: res.headers['x-frame-options'], nosniff: res.headers['x-content-type-options'], referrer: res.headers['referrer-policy'] }).toEqual({
        what,
        xfo: 'DENY',
        nosniff: 'nosniff',
        referrer: 'strict-origin-when-cross-origin',
      });
      expect(String(res.headers['content-security-policy'] ?? ''), what).toMatch(/frame-ancestors 'none'/);
    }
  });

  it('refuses one repeated character, common passwords and passwords holding the email, in Korean; takes a strong one', async () => {
    const refused: Record<string, [string, string]> = {
      repeated: ['repeat@h13-7.example', 'aaaaaaaa'],
      common: ['common@h13-7.example', 'password1'],
      commonDressed: ['dressed@h13-7.example', 'Qwerty-123'],
      email: ['sunnybakery@h13-7.example', 'sunnybakery2026'],
    };
    for (const [why, [email, password]] of Object.entries(refused)) {
      const res = await signupRaw(email, password);
      expect({ why, status: res.statusCode }).toEqual({ why, status: 400 });
      expect(errorOf(res).code).toBe('KB_ERR_VALIDATION');
      expect(errorOf(res).message).toMatch(/^[가-힣]/);
    }
    expect((await signupRaw('strong@h13-7.example', 'bakery opens at seven')).statusCode).toBe(201);
  });
});
