import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { envelope, messages, names, routingKeys, type CallLogPayload } from '@domaeka/broker';
import { buildApi, type ApiServer } from '../../services/api/src/app.js';
import { parseApiConfig } from '../../services/api/src/config.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 13, holes 1 and 2: live sockets.
 * 1. `run:join` must check the owner before the socket enters the run's
 *    room: a tenant hammering `run:join` on another tenant's running run
 *    gets NOT_FOUND every time and not one of its events.
 * 2. A socket lives no longer than what authenticated it: logout (on any
 *    API process), API key revocation and session expiry disconnect it;
 *    bot deletion ends the tails watching that bot.
 * Two API processes on one database and broker: the stack's (re-checks its
 * sockets every 60 s, the default, so a quick disconnect there proves the
 * revocation event) and a second one re-checking every second.
 */
type Ack = { ok: boolean; run?: any; error?: { code: string; message: string } };
interface Seen {
  event: string;
  data: any;
}
interface Watched {
  socket: Socket;
  seen: Seen[];
  /** Why the socket was disconnected, once it was. */
  closed: { reason: string | null };
}
interface Session {
  cookie: string;
  csrf: string;
  token: string;
}

const PASSWORD = 'correct horse battery';

describe('issue 13 holes 1-2: live sockets authorise before joining and end with their credentials', () => {
  let stack: Stack;
  let api2: ApiServer;
  let a: TenantClient;
  let b: TenantClient;
  const emailA = 'h13-sock-a@shop.example';
  const sockets: Socket[] = [];

  const connect = async (port: number, cred: { cookie?: string; token?: string }): Promise<Watched> => {
    const socket = io(`http://127.0.0.1:${port}`, {
      path: '/socket.io',
      transports: ['websocket'],
      extraHeaders: cred.cookie ? { cookie: cred.cookie } : {},
      auth: cred.token ? { token: cred.token } : {},
      reconnection: false,
    });
    sockets.push(socket);
    const seen: Seen[] = [];
    const closed = { reason: null as string | null };
    socket.onAny((event: string, data: unknown) => seen.push({ event, data }));
    socket.on('disconnect', (reason) => (closed.reason = reason));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    return { socket, seen, closed };
  };
  const emit = (socket: Socket, event: string, arg: unknown) => socket.timeout(5000).emitWithAck(event, arg) as Promise<Ack>;

  /** A second browser session of A's (real HTTP to the given API process). */
  const login = async (port: number): Promise<Session> => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: emailA, password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    const jar = new Map(res.headers.getSetCookie().map((c) => c.split(';')[0]!).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
    const token = decodeURIComponent(jar.get('kb_session')!);
    const csrf = jar.get('kb_csrf')!;
    return { cookie: `kb_session=${jar.get('kb_session')}; kb_csrf=${csrf}`, csrf, token };
  };

  beforeAll(async () => {
    stack = await startStack('h13-sockets', {}, { runner: true });
    api2 = buildApi(parseApiConfig({ ...stack.env.env, API_PORT: '0', LIVE_RECHECK_MS: '1000' }));
    await api2.start();
    a = await TenantClient.signup(stack.api, emailA);
    b = await TenantClient.signup(stack.api, 'h13-sock-b@shop.example');
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await api2?.stop().catch(() => undefined);
    await stack?.close();
  });

  it("gives tenant B hammering run:join on A's running run NOT_FOUND every time and none of its output or stats", async () => {
    const code = 'import time\ndef handle_command(params):\n    for i in range(30):\n        print(f"A의 비밀 {i}", flush=True)\n        time.sleep(0.1)\n    return "끝"\n';
    const owner = await connect(stack.api.port, { cookie: a.cookie });
    const intruder = await connect(stack.api.port, { cookie: b.cookie });
    const { runId } = await a.ok<{ runId: string }>('POST', '/runs', { code, input: {} });
    expect((await emit(owner.socket, 'run:join', { runId })).ok).toBe(true);

    let done = false;
    const answers: Record<string, number> = {};
    const hammer = async () => {
      while (!done) {
        const r = await emit(intruder.socket, 'run:join', { runId });
        const key = r.ok ? 'ok' : (r.error?.code ?? '?');
        answers[key] = (answers[key] ?? 0) + 1;
      }
    };
    const loops = [hammer(), hammer(), hammer(), hammer()];
    const result = await waitFor(() => owner.seen.find((s) => s.event === 'run:result'), { what: "A's run result", timeoutMs: 40_000 });
    done = true;
    await Promise.all(loops);

    expect(result.data).toMatchObject({ id: runId, status: 'succeeded' });
    const ownerOutput = owner.seen.filter((s) => s.event === 'run:output');
    expect(ownerOutput.length).toBeGreaterThan(5);
    expect(owner.seen.filter((s) => s.event === 'run:stats').length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(answers)).toEqual(['KB_ERR_NOT_FOUND']);
    expect(answers.KB_ERR_NOT_FOUND).toBeGreaterThan(50);
    const leaked = intruder.seen.filter((s) => s.event.startsWith('run:'));
    expect({ output: leaked.filter((s) => s.event === 'run:output').length, stats: leaked.filter((s) => s.event === 'run:stats').length, all: leaked.length }).toEqual({
      output: 0,
      stats: 0,
      all: 0,
    });
  });

  it('disconnects the sockets of a session logged out on another API process', async () => {
    const session = await login(stack.api.port);
    const watcher = await connect(stack.api.port, { cookie: session.cookie });
    expect(await emit(watcher.socket, 'tail:join', {})).toEqual({ ok: true });
    // A's other session (the one `a` uses) keeps its socket.
    const bystander = await connect(stack.api.port, { cookie: a.cookie });
    expect(await emit(bystander.socket, 'tail:join', {})).toEqual({ ok: true });

    const res = await fetch(`http://127.0.0.1:${api2.port}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: session.cookie, 'x-csrf-token': session.csrf } });
    expect(res.status).toBe(204);
    await waitFor(() => watcher.socket.disconnected, { what: 'the logged-out socket closed by the server', timeoutMs: 10_000 });
    expect(watcher.closed.reason).toBe('io server disconnect');
    expect(watcher.seen.filter((s) => s.event === 'auth:ended').map((s) => s.data.code)).toEqual(['KB_ERR_UNAUTHENTICATED']);
    // The cookie opens no new socket either.
    await expect(connect(stack.api.port, { cookie: session.cookie })).rejects.toThrow(/KB_ERR_UNAUTHENTICATED/);
    expect(bystander.socket.connected).toBe(true);
    expect(await emit(bystander.socket, 'tail:join', {})).toEqual({ ok: true });
  });

  it('disconnects a socket authenticated by an API key once the key is revoked', async () => {
    const key = await a.ok<{ id: string; key: string }>('POST', '/api-keys', { name: 'h13 live script' });
    const script = await connect(stack.api.port, { token: key.key });
    expect(await emit(script.socket, 'tail:join', {})).toEqual({ ok: true });
    const { runId } = await a.ok<{ runId: string }>('POST', '/runs', { code: 'def handle_command(params):\n    return "k"\n', input: {} });
    expect((await emit(script.socket, 'run:join', { runId })).ok).toBe(true);

    expect((await a.call('DELETE', `/api-keys/${key.id}`)).status).toBe(204);
    await waitFor(() => script.socket.disconnected, { what: "the revoked key's socket closed by the server", timeoutMs: 10_000 });
    expect(script.closed.reason).toBe('io server disconnect');
    expect(script.seen.filter((s) => s.event === 'auth:ended').map((s) => s.data.code)).toEqual(['KB_ERR_UNAUTHENTICATED']);
    await expect(connect(stack.api.port, { token: key.key })).rejects.toThrow(/KB_ERR_UNAUTHENTICATED/);
  });

  it('refuses the next join of an expired session and drops its idle sockets at the periodic re-check', async () => {
    const session = await login(stack.api.port);
    const joiner = await connect(stack.api.port, { cookie: session.cookie });
    const idle = await connect(api2.port, { cookie: session.cookie });
    expect(await emit(idle.socket, 'tail:join', {})).toEqual({ ok: true });
    const { runId } = await a.ok<{ runId: string }>('POST', '/runs', { code: 'def handle_command(params):\n    return "e"\n', input: {} });

    // Expiry sends no event: only the re-checks can notice.
    const sessionId = createHash('sha256').update(session.token).digest('hex');
    const { rowCount } = await stack.pool.query(`update sessions set expires_at = now() - interval '1 second' where id = $1`, [sessionId]);
    expect(rowCount).toBe(1);

    expect(await emit(joiner.socket, 'run:join', { runId })).toMatchObject({ ok: false, error: { code: 'KB_ERR_UNAUTHENTICATED' } });
    await waitFor(() => joiner.socket.disconnected, { what: 'the expired joiner closed' });
    expect(joiner.seen.filter((s) => s.event.startsWith('run:'))).toEqual([]);
    // api2 re-checks every second.
    await waitFor(() => idle.socket.disconnected, { what: 'the idle socket of the expired session closed by the re-check', timeoutMs: 10_000 });
    expect(idle.closed.reason).toBe('io server disconnect');
  });

  it("ends the tails watching a deleted bot: nothing of that bot reaches any tail afterwards", async () => {
    const gone = await a.ok<{ id: string }>('POST', '/bots', { name: 'h13-sock-gone' });
    const kept = await a.ok<{ id: string }>('POST', '/bots', { name: 'h13-sock-kept' });
    const aTenant = (await a.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id;
    const botTail = await connect(stack.api.port, { cookie: a.cookie });
    expect(await emit(botTail.socket, 'tail:join', { botId: gone.id })).toEqual({ ok: true });
    const tenantTail = await connect(stack.api.port, { cookie: a.cookie });
    expect(await emit(tenantTail.socket, 'tail:join', {})).toEqual({ ok: true });
    // B cannot watch A's bot.
    const intruder = await connect(stack.api.port, { cookie: b.cookie });
    expect(await emit(intruder.socket, 'tail:join', { botId: gone.id })).toMatchObject({ ok: false, error: { code: 'KB_ERR_NOT_FOUND' } });

    // The dispatcher's part: a finished room call on the tenant's call log.
    const telemetry = names(stack.env.brokerPrefix).telemetry;
    const call = (botId: string, text: string): void => {
      const p: CallLogPayload = {
        eventId: randomUUID(),
        tenantId: aTenant,
        botId,
        commandId: '1',
        command: '인사',
        room: '단골방',
        channelId: '77',
        sender: '손님',
        text,
        parameters: [],
        reply: { type: 'text', text: '안녕하세요' },
        errorCode: null,
        errorMessage: null,
        responseTimeMs: 5,
        at: Date.now(),
      };
      const done = { eventId: p.eventId, tenantId: aTenant, botId, status: 'replied' as const, reply: p.reply, call: p };
      stack.channel.publish(telemetry, routingKeys.dispatchDone('phone', aTenant), Buffer.from(JSON.stringify(envelope(messages.dispatchDone, done))), {
        contentType: 'application/json',
        type: 'dispatch.done.v1',
      });
    };
    const texts = (w: Watched) => w.seen.filter((s) => s.event === 'tail:call').map((s) => s.data.text as string);

    call(gone.id, '삭제 전');
    call(kept.id, '다른 봇 1');
    await waitFor(() => texts(tenantTail).includes('다른 봇 1'), { what: 'the calls before the deletion on the tail' });
    await waitFor(() => texts(botTail).includes('삭제 전'), { what: "the bot's call on its own tail" });
    expect(texts(botTail)).toEqual(['삭제 전']);

    expect((await a.call('DELETE', `/bots/${gone.id}`)).status).toBe(204);
    await waitFor(() => botTail.seen.some((s) => s.event === 'tail:ended'), { what: "the bot's tail ended" });
    expect(botTail.seen.find((s) => s.event === 'tail:ended')!.data).toMatchObject({ botId: gone.id, reason: 'bot_deleted' });
    // A call of the deleted bot finishing late (a dispatcher that had the bot cached), then one of the other bot.
    call(gone.id, '삭제 후');
    call(kept.id, '다른 봇 2');
    await waitFor(() => texts(tenantTail).includes('다른 봇 2'), { what: 'the later call of the other bot' });
    expect(texts(tenantTail)).toEqual(['삭제 전', '다른 봇 1', '다른 봇 2']);
    expect(texts(botTail)).toEqual(['삭제 전']);
    expect(intruder.seen).toEqual([]);
    // The bot is gone: its tail cannot be joined again.
    expect(await emit(botTail.socket, 'tail:join', { botId: gone.id })).toMatchObject({ ok: false, error: { code: 'KB_ERR_NOT_FOUND' } });
  });
});
