import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { buildApi, type ApiServer } from '../../services/api/src/app.js';
import { parseApiConfig } from '../../services/api/src/config.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 13, hole 2, the password change: "re-check (or drop) every socket
 * on logout, password change, key revocation and bot deletion". There was
 * no way to change a password at all. `POST /auth/password` now checks the
 * current password (with the login brakes), applies the password policy to
 * the new one, ends every session of the account but the caller's (whose
 * token is renewed) and drops their live sockets on every API process.
 * Two API processes on one database and broker: the change is made on the
 * second, the sockets sit on the stack's (re-checking only every 60 s, so a
 * quick disconnect there proves the `access.revoked` event).
 */
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = '수국 피는 유월의 골목길';

interface Browser {
  cookie: string;
  csrf: string;
}
interface Watched {
  socket: Socket;
  events: string[];
  closed: { reason: string | null };
}
type Answer = { status: number; body: any; setCookies: string[] };

describe('issue 13 hole 2: changing the password ends the other sessions and their sockets', () => {
  let stack: Stack;
  let api2: ApiServer;
  const sockets: Socket[] = [];

  const send = async (port: number, method: string, path: string, o: { browser?: Browser; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.browser) {
      headers.cookie = o.browser.cookie;
      if (method !== 'GET') headers['x-csrf-token'] = o.browser.csrf;
    }
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, setCookies: res.headers.getSetCookie() };
  };
  const browserOf = (setCookies: string[]): Browser => {
    const jar = new Map(setCookies.map((c) => c.split(';')[0]!).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
    const session = jar.get('kb_session');
    const csrf = jar.get('kb_csrf');
    if (!session || !csrf) throw new Error(`no session cookies in ${setCookies.join(' | ')}`);
    return { cookie: `kb_session=${session}; kb_csrf=${csrf}`, csrf };
  };
  const login = (email: string, password: string) => send(stack.api.port, 'POST', '/auth/login', { body: { email, password } });
  const signIn = async (email: string, password = PASSWORD): Promise<Browser> => {
    const res = await login(email, password);
    expect(res.status).toBe(200);
    return browserOf(res.setCookies);
  };
  const change = (port: number, browser: Browser, currentPassword: string, newPassword: string) =>
    send(port, 'POST', '/auth/password', { browser, body: { currentPassword, newPassword } });

  const connect = async (port: number, cookie: string): Promise<Watched> => {
    const socket = io(`http://127.0.0.1:${port}`, { path: '/socket.io', transports: ['websocket'], extraHeaders: { cookie }, reconnection: false });
    sockets.push(socket);
    const events: string[] = [];
    const closed = { reason: null as string | null };
    socket.onAny((event: string) => events.push(event));
    socket.on('disconnect', (reason) => (closed.reason = reason));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    return { socket, events, closed };
  };
  const tailJoin = (w: Watched) => w.socket.timeout(5000).emitWithAck('tail:join', {}) as Promise<{ ok: boolean }>;

  beforeAll(async () => {
    stack = await startStack('h13-2-password');
    api2 = buildApi(parseApiConfig({ ...stack.env.env, API_PORT: '0' }));
    await api2.start();
    for (const who of ['owner', 'guard', 'script']) await TenantClient.signup(stack.api, `${who}@h13-2.example`);
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await api2?.stop().catch(() => undefined);
    await stack?.close();
  });

  it('refuses a wrong current password (403, Korean) and a common new password (400, Korean); nothing changes', async () => {
    const email = 'owner@h13-2.example';
    const here = await signIn(email);
    const other = await signIn(email);

    const wrong = await change(stack.api.port, here, 'not my password', NEW_PASSWORD);
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('KB_ERR_WRONG_PASSWORD');
    expect(wrong.body.error.message).toMatch(/^현재 비밀번호가/);

    for (const common of ['password123', 'Qwerty-123', 'aaaaaaaa']) {
      const weak = await change(stack.api.port, here, PASSWORD, common);
      expect(weak.status, common).toBe(400);
      expect(weak.body.error.code).toBe('KB_ERR_VALIDATION');
      expect(weak.body.error.message).toMatch(/^[가-힣]/);
    }
    const same = await change(stack.api.port, here, PASSWORD, PASSWORD);
    expect(same.status).toBe(400);
    expect(same.body.error.message).toMatch(/^새 비밀번호가 지금 비밀번호와 같습니다/);

    // Without the session's CSRF token (a forged cross-site form): refused before anything is looked at.
    const forged = await send(stack.api.port, 'POST', '/auth/password', { headers: { cookie: here.cookie }, body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('KB_ERR_CSRF');

    expect((await login(email, PASSWORD)).status).toBe(200);
    for (const b of [here, other]) expect((await send(stack.api.port, 'GET', '/me', { browser: b })).status).toBe(200);
  });

  it('is for a signed-in browser only: an API key cannot change the password', async () => {
    const owner = await signIn('script@h13-2.example');
    const key = (await send(stack.api.port, 'POST', '/api-keys', { browser: owner, body: { name: '스크립트' } })).body.key as string;
    const res = await send(stack.api.port, 'POST', '/auth/password', {
      headers: { authorization: `Bearer ${key}` },
      body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('KB_ERR_FORBIDDEN');
    expect(res.body.error.message).toMatch(/^이 작업은 브라우저에서 로그인한 상태로만/);
    expect((await login('script@h13-2.example', PASSWORD)).status).toBe(200);
  });

  it('brakes guessing the current password as logins are braked: held after 5 wrong tries, the right one too', async () => {
    const here = await signIn('guard@h13-2.example');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await change(stack.api.port, here, `guess number ${i}`, NEW_PASSWORD)).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403]);
    const held = await change(stack.api.port, here, PASSWORD, NEW_PASSWORD);
    expect(held.status).toBe(429);
    expect(held.body.error.code).toBe('KB_ERR_RATE_LIMITED');
    expect(held.body.error.details.retryAfterSec).toBeGreaterThanOrEqual(1);
    expect((await send(stack.api.port, 'GET', '/me', { browser: here })).status).toBe(200);
  });

  it('on success: the old password is refused, the new one logs in, other sessions and their sockets end, this browser goes on', async () => {
    const email = 'owner@h13-2.example';
    const here = await signIn(email);
    const other = await signIn(email);
    const otherSocket = await connect(stack.api.port, other.cookie);
    expect(await tailJoin(otherSocket)).toEqual({ ok: true });
    const otherSocket2 = await connect(api2.port, other.cookie);
    expect(await tailJoin(otherSocket2)).toEqual({ ok: true });

    // On the second API process: every process drops the sockets of the ended sessions.
    const res = await change(api2.port, here, PASSWORD, NEW_PASSWORD);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email });

    await waitFor(() => otherSocket.socket.disconnected, { what: "the other session's socket closed by the server", timeoutMs: 10_000 });
    await waitFor(() => otherSocket2.socket.disconnected, { what: "the other session's socket on the changing process closed", timeoutMs: 10_000 });
    for (const w of [otherSocket, otherSocket2]) {
      expect(w.closed.reason).toBe('io server disconnect');
      expect(w.events).toEqual(['auth:ended']);
    }
    const gone = await send(stack.api.port, 'GET', '/me', { browser: other });
    expect(gone.status).toBe(401);
    expect(gone.body.error.code).toBe('KB_ERR_UNAUTHENTICATED');
    await expect(connect(stack.api.port, other.cookie)).rejects.toThrow(/KB_ERR_UNAUTHENTICATED/);

    // This browser goes on with the renewed session (OWASP: a new session id after a password change), its old token ends too.
    const renewed = browserOf(res.setCookies);
    expect(renewed.cookie).not.toBe(here.cookie);
    expect((await send(stack.api.port, 'GET', '/me', { browser: renewed })).body).toMatchObject({ email });
    const made = await send(stack.api.port, 'POST', '/api-keys', { browser: renewed, body: { name: '변경 후' } });
    expect(made.status).toBe(201);
    expect((await send(stack.api.port, 'GET', '/me', { browser: here })).status).toBe(401);
    const mine = await connect(stack.api.port, renewed.cookie);
    expect(await tailJoin(mine)).toEqual({ ok: true });

    const old = await login(email, PASSWORD);
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('KB_ERR_INVALID_CREDENTIALS');
    expect((await login(email, NEW_PASSWORD)).status).toBe(200);
    expect(mine.socket.connected).toBe(true);
  });
});
