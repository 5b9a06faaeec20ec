import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { startWeb, type WebServer } from '../e2e/browser.js';
import { cookiesOf, ensureWebBuild, request } from './h13-web.js';

/**
 * Issue 13, hole 6: login brakes could be walked around or turned on the
 * owner. `X-Forwarded-For` was trusted from any local caller (the per-IP
 * limit bypassed with a new made-up address per attempt), and five wrong
 * passwords from anyone locked the real owner out for 15 minutes.
 * Real stack (API, gateway, dispatcher on PostgreSQL and RabbitMQ), the
 * web server (web/server.js) in front of it as `npm start` runs it, with
 * the proxy secret they share. Sources other than 127.0.0.1 are other
 * loopback addresses (Linux routes 127/8 to `lo`); `inject` plays remote
 * addresses.
 */
const PASSWORD = 'correct horse battery';
const PROXY_SECRET = 'h13-6-web-proxy-secret-for-tests-0123456789';

describe('issue 13 hole 6: login brakes', () => {
  let stack: Stack;
  let web: WebServer;
  /** Moved forward to let a brake's wait pass (the API's limits read this clock). */
  let shiftMs = 0;
  let signups = 0;

  const login = (email: string, password: string, o: { from?: string; headers?: Record<string, string>; device?: string } = {}) =>
    stack.api.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password },
      remoteAddress: o.from ?? '10.6.0.1',
      headers: { ...o.headers, ...(o.device ? { cookie: `kb_device=${o.device}` } : {}) },
    });
  const signup = async (email: string) => {
    const res = await stack.api.app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      payload: { email, password: PASSWORD, name: email.split('@')[0] },
      remoteAddress: `10.66.0.${++signups}`,
    });
    expect(res.statusCode).toBe(201);
  };
  const errorOf = (res: { body: string }) => (JSON.parse(res.body) as { error: { code: string; message: string } }).error;

  beforeAll(async () => {
    ensureWebBuild();
    stack = await startStack('h13-6-login', {}, { clock: () => Date.now() + shiftMs, env: { WEB_PROXY_SECRET: PROXY_SECRET } });
    web = await startWeb(stack.api.port, { WEB_PROXY_SECRET: PROXY_SECRET });
  }, 300_000);

  afterAll(async () => {
    await web?.stop();
    await stack?.close();
  });

  it('a local caller spoofing X-Forwarded-For straight to the API stays one address: the per-IP limit holds (TRUST_PROXY off)', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 21; i++) {
      const res = await login(`nobody-${i}@h13-6.example`, 'wrong password', { from: '127.0.0.6', headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } });
      codes.push(res.statusCode);
    }
    expect(codes.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(codes[20]).toBe(429);
    // A guessed proxy secret next to the made-up address changes nothing.
    const forged = await login('nobody-x@h13-6.example', 'wrong password', {
      from: '127.0.0.6',
      headers: { 'x-forwarded-for': '198.51.100.200', 'x-kb-proxy-secret': 'guess' },
    });
    expect(forged.statusCode).toBe(429);
    expect(errorOf(forged).code).toBe('KB_ERR_RATE_LIMITED');
  });

  it('through the web server each browser counts as itself, and what it claims in X-Forwarded-For does not help it', async () => {
    const viaWeb = (email: string, from: string, xff?: string) =>
      request(`${web.url}/api/v1/auth/login`, { method: 'POST', body: { email, password: 'wrong password' }, from, headers: xff ? { 'x-forwarded-for': xff } : {} });
    const codes: number[] = [];
    for (let i = 0; i < 21; i++) codes.push((await viaWeb(`web-${i}@h13-6.example`, '127.0.0.2', `198.51.100.${i + 1}`)).status);
    expect(codes.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(codes[20]).toBe(429);
    // Another browser behind the same web server is not held back by the first one's failures.
    expect((await viaWeb('web-other@h13-6.example', '127.0.0.3')).status).toBe(401);
  });

  it("an attacker's wrong passwords from other addresses do not stop the owner's correct login from the browser that signed in before", async () => {
    const owner = 'owner@h13-6.example';
    await signup(owner);
    const first = await login(owner, PASSWORD, { from: '10.6.1.1' });
    expect(first.statusCode).toBe(200);
    const device = cookiesOf(first.headers['set-cookie']).get('kb_device');
    expect(device?.line).toMatch(/HttpOnly/i);

    // The attacker's own account gives his browser a device cookie too: it counts for nothing on another account.
    await signup('attacker@h13-6.example');
    const his = cookiesOf((await login('attacker@h13-6.example', PASSWORD, { from: '10.6.2.200' })).headers['set-cookie']).get('kb_device');
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push((await login(owner, `guess number ${i}`, { from: `10.6.2.${i + 1}`, device: his?.value })).statusCode);
    // Ten failures from unknown browsers lock the account for unknown browsers.
    expect(codes.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(codes.slice(10)).toEqual([429, 429]);
    // From a new browser even the right password waits (the attacker must not learn it is right).
    expect((await login(owner, PASSWORD, { from: '10.6.3.1' })).statusCode).toBe(429);

    // The owner's own browser gets in, at its usual address and after moving (a laptop at another café).
    const known = await login(owner, PASSWORD, { from: '10.6.1.1', device: device?.value });
    expect(known.statusCode).toBe(200);
    expect(known.json().email).toBe(owner);
    expect((await login(owner, PASSWORD, { from: '10.6.9.9', device: device?.value })).statusCode).toBe(200);
  });

  it('one address guessing one account waits longer after each failure, and the right password does not get through meanwhile', async () => {
    const victim = 'victim@h13-6.example';
    await signup(victim);
    const from = '10.6.4.1';
    for (let i = 0; i < 5; i++) expect((await login(victim, `wrong ${i}`, { from })).statusCode).toBe(401);

    const waits: number[] = [];
    for (let round = 0; round < 3; round++) {
      const held = await login(victim, PASSWORD, { from });
      expect(held.statusCode).toBe(429);
      expect(errorOf(held).code).toBe('KB_ERR_RATE_LIMITED');
      expect(errorOf(held).message).toMatch(/^[가-힣]/);
      const wait = Number(held.headers['retry-after']);
      waits.push(wait);
      shiftMs += wait * 1000;
      expect((await login(victim, `wrong again ${round}`, { from })).statusCode).toBe(401);
    }
    // 1 s, 2 s, 4 s: each failure doubles the wait.
    expect(waits).toEqual([1, 2, 4]);
    // The brake is on this address's tries at this account: the owner elsewhere still signs in.
    expect((await login(victim, PASSWORD, { from: '10.6.4.2' })).statusCode).toBe(200);
  });
});
