import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 4's live features over socket.io, as a browser uses them: a test
 * run's output chunks, stats and result in the run's room (owner only; a
 * late joiner catches up from the join answer), and the live tail of a
 * tenant's room calls (never another tenant's).
 */
type Ack = { ok: boolean; run?: any; error?: { code: string; message: string } };

interface Seen {
  at: number;
  event: string;
  data: any;
}

describe('live runs and live tail (socket.io)', () => {
  let stack: Stack;
  let a: TenantClient;
  let b: TenantClient;
  let phone: Phone;
  let bot: { id: string; name: string; secretKey: string; salt: string };
  const sockets: Socket[] = [];

  /** A socket.io client with the tenant's session cookie, recording every event it gets. */
  const connect = async (tenant: TenantClient | null, extraHeaders: Record<string, string> = {}): Promise<{ socket: Socket; seen: Seen[] }> => {
    const socket = io(`http://127.0.0.1:${stack.api.port}`, {
      path: '/socket.io',
      transports: ['websocket'],
      extraHeaders: { ...(tenant ? { cookie: tenant.cookie } : {}), ...extraHeaders },
      reconnection: false,
    });
    sockets.push(socket);
    const seen: Seen[] = [];
    socket.onAny((event: string, data: unknown) => seen.push({ at: Date.now(), event, data }));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    return { socket, seen };
  };
  const emit = (socket: Socket, event: string, arg: unknown) => socket.timeout(5000).emitWithAck(event, arg) as Promise<Ack>;

  beforeAll(async () => {
    stack = await startStack('live', {}, { runner: true });
    a = await TenantClient.signup(stack.api, 'live-a@shop.example');
    b = await TenantClient.signup(stack.api, 'live-b@shop.example');
    bot = await a.ok('POST', '/bots', { name: 'LOA.live' });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'android-live', secretKey: bot.secretKey, salt: bot.salt });
    await a.approveDevice(bot.id, 'android-live');
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    phone?.destroy();
    await stack?.close();
  });

  it("streams a test run's output before it ends, stats while it runs, and the result with duration, CPU and memory", async () => {
    const { socket, seen } = await connect(a);
    const code = 'import time\ndef handle_command(params):\n    print("첫 줄")\n    time.sleep(1)\n    print("둘째 줄")\n    return "끝"\n';
    const { runId } = await a.ok<{ runId: string }>('POST', '/runs', { code, input: {} });
    const joined = await emit(socket, 'run:join', { runId });
    expect(joined.ok).toBe(true);
    const result = await waitFor(() => seen.find((s) => s.event === 'run:result'), { what: 'the run result', timeoutMs: 20_000 });

    expect(result.data).toMatchObject({ id: runId, status: 'succeeded', result: { type: 'text', text: '끝' }, output: '첫 줄\n둘째 줄\n' });
    expect(result.data.durationMs).toBeGreaterThanOrEqual(1000);
    expect(result.data.cpuMs).toBeGreaterThan(0);
    expect(result.data.peakMemoryBytes).toBeGreaterThan(1024 * 1024);

    // The first line was there before the run ended: as an output event, or (joined a moment late) in the join answer.
    const chunks = seen.filter((s) => s.event === 'run:output');
    const firstLive = chunks.find((c) => String(c.data.data).includes('첫 줄'));
    if (firstLive) expect(result.at - firstLive.at).toBeGreaterThan(500);
    else expect(joined.run.output).toContain('첫 줄');
    expect(chunks.some((c) => c.data.data === '둘째 줄\n' && c.data.runId === runId)).toBe(true);

    const stats = seen.filter((s) => s.event === 'run:stats' && s.at <= result.at);
    expect(stats.length).toBeGreaterThanOrEqual(2);
    expect(stats[0]!.data).toMatchObject({ runId, memoryLimitBytes: 256 * 1024 * 1024 });
    expect(stats.some((s) => (s.data.memoryBytes ?? 0) > 1024 * 1024)).toBe(true);
  });

  it('lets a late joiner catch up, and nobody but the owner join', async () => {
    const code = 'def handle_command(params):\n    print("기록")\n    return "완료"\n';
    const { runId } = await a.ok<{ runId: string }>('POST', '/runs', { code, input: {} });
    await waitFor(async () => (await a.ok('GET', `/runs/${runId}`)).status === 'succeeded', { what: 'the run done' });

    const late = await connect(a);
    const joined = await emit(late.socket, 'run:join', { runId });
    expect(joined).toMatchObject({ ok: true, run: { id: runId, status: 'succeeded', output: '기록\n', result: { text: '완료' } } });

    const intruder = await connect(b);
    const refused = await emit(intruder.socket, 'run:join', { runId });
    expect(refused).toMatchObject({ ok: false, error: { code: 'KB_ERR_NOT_FOUND' } });
    // Another run of A's: B's socket gets none of its events.
    const again = await a.ok<{ runId: string }>('POST', '/runs', { code, input: {} });
    await emit(intruder.socket, 'run:join', { runId: again.runId });
    await waitFor(async () => (await a.ok('GET', `/runs/${again.runId}`)).status === 'succeeded', { what: 'the second run done' });
    expect(intruder.seen.filter((s) => s.event.startsWith('run:'))).toEqual([]);

    await expect(connect(null)).rejects.toThrow(/KB_ERR_UNAUTHENTICATED/);
    // A page of another site cannot open a socket with the user's cookie.
    await expect(connect(a, { origin: 'https://evil.example' })).rejects.toThrow();
  });

  it("shows a tenant's room calls on its live tail with the reply, never on another tenant's", async () => {
    const command = await a.ok<{ id: number }>('POST', '/commands', {
      command: '인사',
      pattern: '^인사\\s+(\\S+)',
      target: { type: 'sandbox', language: 'python', code: 'def handle_command(params):\n    return f"안녕하세요, {params[\'parameters\'][0]}님"\n' },
    });
    const watcher = await connect(a);
    expect(await emit(watcher.socket, 'tail:join', {})).toEqual({ ok: true });
    const perCommand = await connect(a);
    expect(await emit(perCommand.socket, 'tail:join', { commandId: command.id })).toEqual({ ok: true });
    const other = await connect(b);
    expect(await emit(other.socket, 'tail:join', {})).toEqual({ ok: true });
    // B cannot watch A's command.
    expect(await emit(other.socket, 'tail:join', { commandId: command.id })).toMatchObject({ ok: false, error: { code: 'KB_ERR_NOT_FOUND' } });

    const sent = Date.now();
    phone.sendMessage({ room: '단골방', channelId: '4242', text: '인사 민수', sender: '김민수', logId: '9001' });
    expect(await phone.nextReply()).toBe('안녕하세요, 민수님');
    const repliedAt = Date.now();
    const call = await waitFor(() => watcher.seen.find((s) => s.event === 'tail:call'), { what: 'the call on the tail' });
    expect(call.data).toMatchObject({
      commandId: String(command.id),
      command: '인사',
      room: '단골방',
      channelId: '4242',
      sender: '김민수',
      text: '인사 민수',
      parameters: ['민수'],
      reply: { type: 'text', text: '안녕하세요, 민수님' },
      errorCode: null,
    });
    expect(call.data.tenantId).toBeUndefined();
    expect(call.at - repliedAt).toBeLessThan(1000);
    expect(call.data.at).toBeGreaterThanOrEqual(sent);
    await waitFor(() => perCommand.seen.some((s) => s.event === 'tail:call'), { what: 'the call on the per-command tail' });
    expect(watcher.seen.filter((s) => s.event === 'tail:call')).toHaveLength(1);
    expect(other.seen).toEqual([]);
  });
});
