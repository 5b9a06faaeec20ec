import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/app.js';
import { as, sessionCookie, signup, startApi, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startApi('api-auth');
});
afterAll(async () => {
  await h?.close();
});

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  h.api.app.inject({ method: 'POST', url: `/api/v1${url}`, payload, headers });

describe('accounts and sessions', () => {
  it('makes exactly one admin when the first signups race on an empty database', async () => {
    const emails = Array.from({ length: 5 }, (_, i) => `racer${i}@example.com`);
    const results = await Promise.all(emails.map((e) => post('/auth/signup', { email: e, password: 'racing snail 42', name: e })));
    expect(results.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201]);
    const admins = results.filter((r) => r.json().isAdmin);
    expect(admins).toHaveLength(1);
    // Later accounts are never admin.
    const late = await signup(h, 'late@example.com');
    expect(late.me.isAdmin).toBe(false);
    // Each signup got a tenant of its own on the free plan.
    const tenants = new Set(results.map((r) => r.json().tenant.id));
    expect(tenants.size).toBe(5);
    expect(results[0]!.json().tenant.plan).toBe('free');
  });

  it('sets an httpOnly, SameSite=Lax session cookie on /, storing only a hash of its token', async () => {
    const res = await post('/auth/signup', { email: 'cookie@example.com', password: 'racing snail 42', name: '쿠키' });
    expect(res.statusCode).toBe(201);
    const c = sessionCookie(res)!;
    expect(c.httpOnly).toBe(true);
    expect(c.sameSite).toBe('Lax');
    expect(c.path).toBe('/');
    expect(c.secure).toBeFalsy();
    expect(Buffer.from(c.value, 'base64url')).toHaveLength(32);
    const { rows } = await h.db.query(`select id from sessions where id = $1`, [c.value]);
    expect(rows).toHaveLength(0);
    const me = await h.api.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { kb_session: c.value } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ email: 'cookie@example.com', name: '쿠키', isAdmin: false, tenant: { plan: 'free' } });
  });

  it('marks the cookie Secure when COOKIE_SECURE is on', async () => {
    const secure = buildApi({ ...h.config, cookieSecure: true });
    await secure.start();
    try {
      const res = await secure.app.inject({
        method: 'POST',
        url: '/api/v1/auth/signup',
        payload: { email: 'secure@example.com', password: 'racing snail 42', name: 's' },
      });
      expect(res.statusCode).toBe(201);
      expect(sessionCookie(res)).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax' });
    } finally {
      await secure.stop();
    }
  });

  it('logs in with the right password, refuses a wrong one and an unknown email alike', async () => {
    await signup(h, 'login@example.com', 'the-password');
    const ok = await post('/auth/login', { email: 'LOGIN@example.com', password: 'the-password' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().email).toBe('login@example.com');
    expect(sessionCookie(ok)?.value).toBeTruthy();

    const wrong = await post('/auth/login', { email: 'login@example.com', password: 'not-the-password' });
    const unknown = await post('/auth/login', { email: 'nobody@example.com', password: 'the-password' });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().error.code).toBe('KB_ERR_INVALID_CREDENTIALS');
    expect(sessionCookie(wrong)).toBeUndefined();
  });

  it('logs out: the old cookie no longer works', async () => {
    const a = await signup(h, 'logout@example.com');
    expect((await as(h, a)('GET', '/me')).statusCode).toBe(200);
    // A live session ends only with its CSRF token (as the web app sends it).
    const out = await h.api.app.inject({ method: 'POST', url: '/api/v1/auth/logout', cookies: a.cookies, headers: { 'x-csrf-token': a.cookies.kb_csrf! } });
    expect(out.statusCode).toBe(204);
    expect(sessionCookie(out)?.value).toBe('');
    const after = await as(h, a)('GET', '/me');
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('KB_ERR_UNAUTHENTICATED');
  });

  it('refuses a taken email (any case) and a short password', async () => {
    await signup(h, 'taken@example.com');
    const dup = await post('/auth/signup', { email: 'Taken@Example.com', password: 'racing snail 42', name: 'x' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('KB_ERR_EMAIL_TAKEN');
    const short = await post('/auth/signup', { email: 'short@example.com', password: '1234567', name: 'x' });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.code).toBe('KB_ERR_VALIDATION');
    expect(short.json().error.message).toContain('password');
  });

  it('answers 401 without credentials, before looking at the body', async () => {
    const res = await post('/bots', { nonsense: true });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'KB_ERR_UNAUTHENTICATED', message: expect.any(String) } });
  });
});

describe('API keys', () => {
  it('work as a bearer token, are listed without the key, and stop working once revoked', async () => {
    const a = await signup(h, 'keys@example.com');
    const created = await as(h, a)('POST', '/api-keys', { name: 'ci script' });
    expect(created.statusCode).toBe(201);
    const { id, key } = created.json();
    expect(key).toMatch(/^kb_[A-Za-z0-9_-]{43}$/);

    const { rows } = await h.db.query(`select key_hash, key_prefix from api_keys where id = $1`, [id]);
    expect(rows[0].key_hash).not.toContain(key.slice(3));
    expect(key.startsWith(rows[0].key_prefix)).toBe(true);

    const bearer = { authorization: `Bearer ${key}` };
    const me = await h.api.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer });
    expect(me.statusCode).toBe(200);
    expect(me.json().email).toBe('keys@example.com');

    const list = await as(h, a)('GET', '/api-keys');
    expect(list.json()).toEqual([expect.objectContaining({ id, name: 'ci script', revokedAt: null })]);
    expect(list.body).not.toContain(key);
    expect(list.json()[0].lastUsedAt).not.toBeNull();

    // Another tenant cannot revoke it.
    const b = await signup(h, 'keys-other@example.com');
    expect((await as(h, b)('DELETE', `/api-keys/${id}`)).statusCode).toBe(404);

    expect((await as(h, a)('DELETE', `/api-keys/${id}`)).statusCode).toBe(204);
    const revoked = await h.api.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error.code).toBe('KB_ERR_UNAUTHENTICATED');
    const garbage = await h.api.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: 'Bearer kb_nope' } });
    expect(garbage.statusCode).toBe(401);
  });
});

describe('admin CLI', () => {
  it('`npm run cli -- admin <email>` promotes an account', async () => {
    const a = await signup(h, 'promote@example.com');
    expect(a.me.isAdmin).toBe(false);
    const root = resolve(import.meta.dirname, '../../..');
    const run = (email: string) =>
      new Promise<{ code: number; out: string }>((done) =>
        execFile(process.execPath, ['--import', 'tsx', 'services/api/src/cli.ts', 'admin', email], { cwd: root, env: { ...process.env, ...h.env.env } }, (err, stdout, stderr) =>
          done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
        ),
      );
    const ok = await run('promote@example.com');
    expect(ok.code).toBe(0);
    expect((await as(h, a)('GET', '/me')).json().isAdmin).toBe(true);
    const missing = await run('ghost@example.com');
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('ghost@example.com');
  });
});

describe('errors and ops routes', () => {
  it('answers unknown routes and malformed JSON with coded errors', async () => {
    const nf = await h.api.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().error.code).toBe('KB_ERR_NOT_FOUND');
    const bad = await h.api.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('KB_ERR_INVALID_BODY');
  });

  it('serves /healthz, /readyz and /metrics at the root', async () => {
    expect((await h.api.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await h.api.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { broker: true, database: true } });
    const metrics = await h.api.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('kb_api_requests_total');
  });
});
