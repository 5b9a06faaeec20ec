import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, type ApiServer } from '../../services/api/src/app.js';
import { parseApiConfig } from '../../services/api/src/config.js';
import { LOGIN_PER_ACCOUNT } from '../../services/api/src/accounts/attempt-limiter.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { TenantClient } from '../support/tenant-client.js';

/**
 * Issue 18 item 2: two API processes behind a balancer share the login
 * brakes. Two `buildApi` instances on one database (as two processes would
 * be), each with its own pool and broker connection; the failures an
 * attacker spreads over both are held at the count one instance holds
 * them, racing guesses included, and the brakes' table keeps no email or
 * address in clear.
 */
const PASSWORD = 'correct horse battery';

describe('login brakes shared by two API processes', () => {
  let env: TestEnv;
  let a: ApiServer;
  let b: ApiServer;
  let db: pg.Client;
  /** Moved forward to let a brake's window pass (both instances read this clock). */
  let shiftMs = 0;
  const clock = () => Date.now() + shiftMs;

  const login = (api: ApiServer, email: string, password: string, from: string) =>
    api.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress: from });
  const errorOf = (res: { body: string }) => (JSON.parse(res.body) as { error: { code: string; message: string } }).error;

  beforeAll(async () => {
    env = await createTestEnv('shared-login-limits');
    a = buildApi(parseApiConfig({ ...env.env, API_PORT: '0' }), { clock });
    b = buildApi(parseApiConfig({ ...env.env, API_PORT: '0' }), { clock });
    await a.start();
    await b.start();
    db = new pg.Client({ connectionString: env.databaseUrl });
    await db.connect();
    // The first account of a platform is its admin: take that seat so the accounts below are ordinary ones.
    await TenantClient.signup(a, 'admin@shared-limits.example');
    for (const owner of ['spread@shared-limits.example', 'single@shared-limits.example', 'race@shared-limits.example']) await TenantClient.signup(b, owner);
  });

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await a?.stop().catch(() => undefined);
    await b?.stop().catch(() => undefined);
    await env?.cleanup();
  });

  it('wrong passwords spread over both instances are held at the count of one instance, with the Korean 429 and Retry-After', async () => {
    // One account guessed through instance a only: the reference.
    const single: number[] = [];
    for (let i = 0; i < LOGIN_PER_ACCOUNT.limit + 2; i++) single.push((await login(a, 'single@shared-limits.example', `guess ${i}`, `10.18.1.${i + 1}`)).statusCode);

    // Another account, each guess from a new address, every other one through the other instance.
    const spread: number[] = [];
    let held: Awaited<ReturnType<typeof login>> | undefined;
    for (let i = 0; i < LOGIN_PER_ACCOUNT.limit + 2; i++) {
      const res = await login(i % 2 === 0 ? a : b, 'spread@shared-limits.example', `guess ${i}`, `10.18.2.${i + 1}`);
      spread.push(res.statusCode);
      if (res.statusCode === 429) held = res;
    }
    expect(single).toEqual([...Array<number>(LOGIN_PER_ACCOUNT.limit).fill(401), 429, 429]);
    expect(spread).toEqual(single);

    const error = errorOf(held!);
    expect(error.code).toBe('KB_ERR_RATE_LIMITED');
    expect(error.message).toMatch(/^시도가 너무 많습니다\. \d+초 후에 다시 시도해 주세요/);
    const retryAfter = Number(held!.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(error.message).toContain(`${retryAfter}초`);

    // Held on either instance, even with the right password from a new browser (it must not learn it is right).
    expect((await login(a, 'spread@shared-limits.example', PASSWORD, '10.18.3.1')).statusCode).toBe(429);
    expect((await login(b, 'spread@shared-limits.example', PASSWORD, '10.18.3.2')).statusCode).toBe(429);

    // After the window (the injected clock), the owner signs in through either instance.
    shiftMs += retryAfter * 1000;
    const ok = await login(b, 'spread@shared-limits.example', PASSWORD, '10.18.3.3');
    expect(ok.statusCode).toBe(200);
    expect(ok.json().email).toBe('spread@shared-limits.example');
    expect((await login(a, 'single@shared-limits.example', PASSWORD, '10.18.3.4')).statusCode).toBe(200);
  });

  it('guesses racing on both instances at once: exactly the limit of them are checked', async () => {
    const tries = Array.from({ length: LOGIN_PER_ACCOUNT.limit + 6 }, (_, i) =>
      login(i % 2 === 0 ? a : b, 'race@shared-limits.example', `race ${i}`, `10.18.4.${i + 1}`),
    );
    const codes = (await Promise.all(tries)).map((r) => r.statusCode);
    expect(codes.filter((c) => c === 401)).toHaveLength(LOGIN_PER_ACCOUNT.limit);
    expect(codes.filter((c) => c === 429)).toHaveLength(6);
  });

  it('the brakes table holds SHA-256 digests, never the emails or addresses', async () => {
    const { rows } = await db.query<{ scope: string; key_hash: Buffer }>('select scope, key_hash from kb_auth_attempts');
    const dump = JSON.stringify(rows) + rows.map((r) => r.key_hash.toString('latin1')).join('');
    expect(dump).not.toContain('race@shared-limits.example');
    expect(dump).not.toContain('10.18.4.1');
    const digest = createHash('sha256').update('race@shared-limits.example').digest('hex');
    expect(rows.filter((r) => r.scope === 'login_account').map((r) => r.key_hash.toString('hex'))).toContain(digest);
  });

  it('rows past their window are deleted by the next login (lazily, no timer), and the held account is free again', async () => {
    const before = await db.query<{ n: string }>('select count(*) as n from kb_auth_attempts');
    expect(Number(before.rows[0]!.n)).toBeGreaterThan(20);
    shiftMs += 61 * 60_000;
    const ok = await login(a, 'race@shared-limits.example', PASSWORD, '10.18.5.1');
    expect(ok.statusCode).toBe(200);
    const { rows } = await db.query<{ scope: string; expired: boolean }>('select scope, expires_ms <= $1 as expired from kb_auth_attempts', [clock()]);
    // What is left is this login's own counters (taken back on success, kept until their window ends).
    expect(rows.filter((r) => r.expired)).toEqual([]);
    expect(rows.length).toBeLessThanOrEqual(2);
  });
});
