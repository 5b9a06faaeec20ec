import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPhone, type Phone, type PhoneIdentity } from '../support/phone.js';
import { json } from '../support/http-stub.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const PASSWORD = 'correct horse battery';

/**
 * Account security as a browser, a script and a phone notice it: CSRF
 * protection of cookie sessions, brakes on password guessing, and rotating
 * a bot's signing pair.
 */
describe('account security', () => {
  let stack: Stack;
  let tenant: TenantClient;
  /** Moved forward by tests that need a rate-limit window to pass (API and dispatcher read it). */
  let shiftMs = 0;
  const phones: Phone[] = [];

  type Inject = { method: 'GET' | 'POST' | 'DELETE'; url: string; headers?: Record<string, string>; payload?: object; remoteAddress?: string };
  const inject = (r: Inject) => stack.api.app.inject({ ...r, url: `/api/v1${r.url}` });
  const errorOf = (res: { body: string }) => (JSON.parse(res.body) as { error: { code: string; message: string } }).error;
  const cookieValue = (setCookies: string[], name: string) => setCookies.find((c) => c.startsWith(`${name}=`));
  const setCookies = (res: { headers: Record<string, unknown> }) => {
    const raw = res.headers['set-cookie'];
    return raw === undefined ? [] : Array.isArray(raw) ? (raw as string[]) : [raw as string];
  };

  beforeAll(async () => {
    stack = await startStack('account-security', { '/hello': json({ text: '안녕하세요' }) }, { clock: () => Date.now() + shiftMs });
    tenant = await TenantClient.signup(stack.api, 'owner@secure.example');
  });

  afterAll(async () => {
    for (const p of phones) p.destroy();
    await stack?.close();
  });

  describe('CSRF', () => {
    it('sets a readable, SameSite=Strict kb_csrf cookie next to the httpOnly session cookie', async () => {
      const res = await inject({ method: 'POST', url: '/auth/login', payload: { email: 'owner@secure.example', password: PASSWORD } });
      expect(res.statusCode).toBe(200);
      const cookies = setCookies(res);
      const session = cookieValue(cookies, 'kb_session')!;
      const csrf = cookieValue(cookies, 'kb_csrf')!;
      expect(session).toMatch(/HttpOnly/);
      expect(csrf).toMatch(/^kb_csrf=[A-Za-z0-9_-]{43};/);
      expect(csrf).not.toMatch(/HttpOnly/i);
      expect(csrf).toMatch(/SameSite=Strict/);
      expect(csrf).toMatch(/Path=\//);
      // Same expiry as the session.
      expect(/Expires=([^;]+)/.exec(csrf)![1]).toBe(/Expires=([^;]+)/.exec(session)![1]);
    });

    it('refuses a cookie request that changes something without the header, and takes it with the header', async () => {
      const noHeader = await inject({ method: 'POST', url: '/bots', headers: { cookie: tenant.cookie }, payload: { name: 'csrf-bot-1' } });
      expect(noHeader.statusCode).toBe(403);
      expect(errorOf(noHeader).code).toBe('KB_ERR_CSRF');
      expect(errorOf(noHeader).message).toMatch(/^[가-힣]/);

      const wrong = await inject({ method: 'POST', url: '/bots', headers: { cookie: tenant.cookie, 'x-csrf-token': 'x'.repeat(43) }, payload: { name: 'csrf-bot-1' } });
      expect(wrong.statusCode).toBe(403);
      expect(errorOf(wrong).code).toBe('KB_ERR_CSRF');

      // Nothing was created by the refused requests.
      expect(await tenant.ok('GET', '/bots')).toEqual([]);

      const withHeader = await inject({ method: 'POST', url: '/bots', headers: { cookie: tenant.cookie, 'x-csrf-token': tenant.csrfToken }, payload: { name: 'csrf-bot-1' } });
      expect(withHeader.statusCode).toBe(201);
      // Reading needs no header.
      const read = await inject({ method: 'GET', url: '/bots', headers: { cookie: tenant.cookie } });
      expect(read.statusCode).toBe(200);
      expect(JSON.parse(read.body)).toHaveLength(1);
    });

    it('tells a session opened before CSRF protection (no kb_csrf cookie) to log in again', async () => {
      const sessionOnly = tenant.cookie.split('; ').find((c) => c.startsWith('kb_session='))!;
      const res = await inject({ method: 'DELETE', url: '/bots/00000000-0000-4000-8000-000000000000', headers: { cookie: sessionOnly, 'x-csrf-token': tenant.csrfToken } });
      expect(res.statusCode).toBe(403);
      expect(errorOf(res).code).toBe('KB_ERR_CSRF');
      expect(errorOf(res).message).toContain('다시 로그인');
    });

    it('exempts bearer keys (the header decides alone, even next to a cookie)', async () => {
      const { key } = await tenant.ok<{ key: string }>('POST', '/api-keys', { name: 'script' });
      const bare = await inject({ method: 'POST', url: '/bots', headers: { authorization: `Bearer ${key}` }, payload: { name: 'csrf-bot-2' } });
      expect(bare.statusCode).toBe(201);
      const withCookie = await inject({ method: 'POST', url: '/bots', headers: { authorization: `Bearer ${key}`, cookie: tenant.cookie }, payload: { name: 'csrf-bot-3' } });
      expect(withCookie.statusCode).toBe(201);
    });

    it('clears both cookies on logout', async () => {
      const login = await inject({ method: 'POST', url: '/auth/login', payload: { email: 'owner@secure.example', password: PASSWORD } });
      const cookie = setCookies(login).map((c) => c.split(';')[0]).join('; ');
      const token = cookieValue(setCookies(login), 'kb_csrf')!.split(';')[0]!.slice('kb_csrf='.length);
      const res = await inject({ method: 'POST', url: '/auth/logout', headers: { cookie, 'x-csrf-token': token } });
      expect(res.statusCode).toBe(204);
      const cleared = setCookies(res);
      for (const name of ['kb_session', 'kb_csrf']) expect(cookieValue(cleared, name)).toMatch(new RegExp(`^${name}=;.*Expires=Thu, 01 Jan 1970`));
      const after = await inject({ method: 'GET', url: '/me', headers: { cookie } });
      expect(after.statusCode).toBe(401);
    });
  });

  describe('bot secret rotation', () => {
    it('hands out a new pair once; phones with the old pair are refused, phones with the new pair answered', async () => {
      const bot = await tenant.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', '/bots', { name: 'rotating-bot' });
      await tenant.ok('POST', '/commands', { command: '인사', target: { type: 'http', url: stack.stub.url('/hello') } });
      const identity = (pair: { secretKey: string; salt: string }, deviceID: string): PhoneIdentity => ({ botName: bot.name, deviceID, ...pair });
      const connect = async (id: PhoneIdentity) => {
        const p = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
        phones.push(p);
        await p.handshake(id);
        return p;
      };

      const before = await connect(identity(bot, 'phone-1'));
      await tenant.approveDevice(bot.id, 'phone-1');
      before.sendMessage({ room: '방', channelId: 'c-1', text: '인사' });
      expect(await before.nextReply()).toBe('안녕하세요');

      const rotated = await tenant.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', `/bots/${bot.id}/rotate-secret`);
      expect(rotated).toMatchObject({ id: bot.id, name: 'rotating-bot' });
      expect(rotated.secretKey).toMatch(/^[0-9a-f]{64}$/);
      expect(rotated.salt).toMatch(/^[0-9a-f]{32}$/);
      expect(rotated.secretKey).not.toBe(bot.secretKey);
      // Shown once: reading the bot never returns it.
      expect(await tenant.ok('GET', `/bots/${bot.id}`)).not.toHaveProperty('secretKey');

      // The new pair is accepted once the gateway has heard of the change (a `changed` event, not instant).
      await waitFor(
        async () => {
          const p = await connect(identity(rotated, 'phone-1'));
          p.sendMessage({ room: '방', channelId: 'c-1', text: '인사' });
          const answer = await Promise.race([p.nextReply(() => true, 5000), p.nextPacket('error', () => true, 5000).then(() => null)]);
          p.destroy();
          return answer === '안녕하세요';
        },
        { what: 'a phone with the new pair answered' },
      );

      // The old pair: the same phone reconnecting with it is refused as a bad signature and gets no reply.
      const old = await connect(identity(bot, 'phone-1'));
      old.sendMessage({ room: '방', channelId: 'c-1', text: '인사', logId: 'old-pair-1' });
      expect((await old.nextPacket('error', (e) => e.data.code === 'BAD_SIGNATURE')).data.message).toContain('서명');
      const verdicts = stack.doneEvents.length;
      old.sendMessage({ room: '방', channelId: 'c-1', text: '인사', logId: 'old-pair-2' });
      await old.nextPacket('error', (e) => e.data.code === 'BAD_SIGNATURE');
      expect(old.replies()).toEqual([]);
      // Refused at the gateway: nothing reached the dispatcher.
      expect(stack.doneEvents.length).toBe(verdicts);
    });

    it('adopts a given pair, refuses half a pair, and treats another tenant\'s bot as not found', async () => {
      const bot = await tenant.ok<{ id: string }>('POST', '/bots', { name: 'adopting-bot' });
      const adopted = await tenant.ok('POST', `/bots/${bot.id}/rotate-secret`, { secretKey: 'field-key-of-16+ch', salt: 'field-salt' });
      expect(adopted).toMatchObject({ id: bot.id, secretKey: 'field-key-of-16+ch', salt: 'field-salt' });
      expect((await tenant.call('POST', `/bots/${bot.id}/rotate-secret`, { secretKey: 'only-key' })).status).toBe(400);

      const other = await TenantClient.signup(stack.api, 'other@secure.example');
      const r = await other.call('POST', `/bots/${bot.id}/rotate-secret`);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('KB_ERR_NOT_FOUND');
    });
  });

  // Last: these move the shared clock forward.
  describe('login and signup limits', () => {
    const login = (email: string, password: string, remoteAddress = '10.0.0.1') =>
      inject({ method: 'POST', url: '/auth/login', payload: { email, password }, remoteAddress });

    it('locks an email for unknown browsers after 10 failures in 15 minutes, correct password included, until the window passes', async () => {
      await TenantClient.signup(stack.api, 'guessed@secure.example');
      // From ten addresses (one address alone would be slowed first: test/security/h13-6-login.test.ts).
      for (let i = 0; i < 10; i++) expect((await login('guessed@secure.example', 'wrong password', `10.0.0.${10 + i}`)).statusCode).toBe(401);

      const locked = await login('Guessed@secure.example', PASSWORD, '10.0.0.2');
      expect(locked.statusCode).toBe(429);
      expect(errorOf(locked).code).toBe('KB_ERR_RATE_LIMITED');
      expect(errorOf(locked).message).toMatch(/^[가-힣]/);
      const retryAfter = Number(locked.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(800);
      expect(retryAfter).toBeLessThanOrEqual(900);

      shiftMs += 15 * 60_000 + 1000;
      expect((await login('guessed@secure.example', PASSWORD)).statusCode).toBe(200);
    });

    it('forgets an email\'s failures after a successful login', async () => {
      for (let i = 0; i < 4; i++) await login('guessed@secure.example', 'wrong password', '10.0.1.1');
      expect((await login('guessed@secure.example', PASSWORD, '10.0.1.1')).statusCode).toBe(200);
      for (let i = 0; i < 4; i++) expect((await login('guessed@secure.example', 'wrong password', '10.0.1.1')).statusCode).toBe(401);
      expect((await login('guessed@secure.example', PASSWORD, '10.0.1.1')).statusCode).toBe(200);
    });

    it('locks a client IP after 20 failures, whatever the emails', async () => {
      for (let i = 0; i < 20; i++) expect((await login(`nobody-${i}@secure.example`, 'wrong password', '10.0.2.2')).statusCode).toBe(401);
      expect((await login('guessed@secure.example', PASSWORD, '10.0.2.2')).statusCode).toBe(429);
      // Another address is not affected.
      expect((await login('guessed@secure.example', PASSWORD, '10.0.2.3')).statusCode).toBe(200);
    });

    it('limits signups per IP to 10 an hour', async () => {
      const signup = (i: number) =>
        inject({ method: 'POST', url: '/auth/signup', payload: { email: `spray-${i}@secure.example`, password: PASSWORD, name: '분무' }, remoteAddress: '10.0.3.3' });
      for (let i = 0; i < 10; i++) expect((await signup(i)).statusCode).toBe(201);
      const refused = await signup(10);
      expect(refused.statusCode).toBe(429);
      expect(errorOf(refused).code).toBe('KB_ERR_RATE_LIMITED');
      shiftMs += 60 * 60_000 + 1000;
      expect((await signup(11)).statusCode).toBe(201);
    });
  });
});
