import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { envelope, messages, names, type ReplyPayload } from '@domaeka/broker';
import { json } from '../support/http-stub.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 4, ops: what the platform's administrator sees. `GET /admin/metrics`
 * agrees with what the test just did (calls, top command, response time,
 * a queue's depth after publishing to a queue nobody consumes, connected
 * phones), the same object arrives live over socket.io, and dead letters
 * are kept with their reason, replayed to a phone that came back, or
 * discarded. Tenants get 403 everywhere. A real sandbox runner reports its
 * containers by mode (pooled, running an ephemeral call, dedicated).
 */
type Metrics = {
  at: string;
  containers: { pool: number; ephemeral: number; dedicated: number; byRunner: { runnerId: string; capacity: number; busy: number; containers: { pool: number; ephemeral: number; dedicated: number } | null; dedicatedTenants: string[] | null }[] };
  calls: { perMinute: number; lastHour: number };
  responseMs: { avg: number | null; p95: number | null };
  topCommands: { commandId: number; command: string; tenantId: string; tenantName: string; calls: number }[];
  queues: { name: string; messages: number; consumers: number }[];
  deadLetters: { pending: number; total: number };
  phones: { connected: number; connections: number; gateways: number };
  system: { cpuPercent: number | null; loadavg: number[]; memory: { total: number; free: number; used: number } };
};
type DeadLetter = { id: number; status: string; reason: string; detail: string | null; queue: string | null; exchange: string | null; routingKey: string | null; messageId: string | null; messageType: string | null; actedBy: string | null };
type Ack = { ok: boolean; error?: { code: string; message: string } };

const STUB_DELAY_MS = 40;

describe('admin metrics and dead letters', () => {
  let stack: Stack;
  let admin: TenantClient;
  let shop: TenantClient;
  let shopTenantId: string;
  let shopTenantName: string;
  let bot: { id: string; name: string; secretKey: string; salt: string };
  let echo: { id: number };
  let n: ReturnType<typeof names>;
  const phones: Phone[] = [];
  const sockets: Socket[] = [];
  let logId = 1;

  const metrics = () => admin.ok<Metrics>('GET', '/admin/metrics');
  const say = (text: string) =>
    shop.ok<{ status: string; reply: { text: string } | null }>('POST', '/messages?wait=1', { botName: bot.name, room: '운영방', channelId: 'ops-room', sender: '홍길동', text });
  /** The device row appears after the phone's first signed packet, so wait for it to be listed. */
  const deviceIdOf = (deviceKey: string) =>
    waitFor(async () => (await shop.ok<{ id: string; deviceKey: string }[]>('GET', `/bots/${bot.id}/devices`)).find((d) => d.deviceKey === deviceKey)?.id, {
      what: `device ${deviceKey} listed`,
    });
  const queueIn = (m: Metrics, name: string) => m.queues.find((q) => q.name === name);

  /** A phone of the shop's bot whose connection counts (it sent a signed packet); approved on first use. */
  async function phone(deviceID: string): Promise<Phone> {
    const p = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    phones.push(p);
    await p.handshake({ botName: bot.name, deviceID, secretKey: bot.secretKey, salt: bot.salt });
    p.sendMessage({ room: '운영방', channelId: 'ops-room', text: '안녕하세요', logId: `ops-${logId++}` });
    return p;
  }

  /** A reply as the dispatcher publishes it (durable, confirmed) to a device's route. */
  async function publishReply(deviceId: string, text: string, opts: { expirationMs?: number } = {}): Promise<string> {
    const payload: ReplyPayload = { botId: bot.id, botName: bot.name, room: '운영방', channelId: 'ops-room', type: 'text', text, media: [] };
    const env = envelope(messages.reply, payload, randomUUID());
    const ch = await stack.amqp.createConfirmChannel();
    try {
      await new Promise<void>((resolve, reject) =>
        ch.publish(n.replies, `dev.${deviceId}`, Buffer.from(JSON.stringify(env)), {
          persistent: true,
          mandatory: true,
          messageId: env.id,
          type: 'reply.v1',
          contentType: 'application/json',
          expiration: opts.expirationMs === undefined ? undefined : String(opts.expirationMs),
        }, (err) => (err ? reject(err) : resolve())),
      );
    } finally {
      await ch.close();
    }
    return env.id;
  }

  const socketOf = async (client: TenantClient): Promise<{ socket: Socket; seen: { event: string; data: any }[] }> => {
    const socket = io(`http://127.0.0.1:${stack.api.port}`, { path: '/socket.io', transports: ['websocket'], extraHeaders: { cookie: client.cookie }, reconnection: false });
    sockets.push(socket);
    const seen: { event: string; data: any }[] = [];
    socket.onAny((event: string, data: unknown) => seen.push({ event, data }));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return { socket, seen };
  };

  beforeAll(async () => {
    stack = await startStack('admin-ops', {
      // A tenant API that takes a little while, so response times are visibly above zero.
      '/echo': (req, res) => void setTimeout(() => json({ text: `응답 ${req.json?.parameters?.[0] ?? '?'}` })(req, res), STUB_DELAY_MS),
      '/weather': json({ text: '맑음' }),
    }, { runner: true });
    n = names(stack.env.brokerPrefix);
    // The first account of an empty database is the platform's administrator.
    admin = await TenantClient.signup(stack.api, 'ops-admin@platform.example', '운영자');
    shop = await TenantClient.signup(stack.api, 'ops-shop@shop.example');
    ({ id: shopTenantId, name: shopTenantName } = (await shop.ok<{ tenant: { id: string; name: string } }>('GET', '/me')).tenant);
    bot = await shop.ok('POST', '/bots', { name: `ops-${randomUUID().slice(0, 8)}` });
    echo = await shop.ok('POST', '/commands', { command: '에코', pattern: '^에코\\s+(\\S+)$', target: { type: 'http', url: stack.stub.url('/echo') } });
    await shop.ok('POST', '/commands', { command: '날씨', target: { type: 'http', url: stack.stub.url('/weather') } });
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    for (const p of phones) p.destroy();
    await stack?.close();
  });

  it('answers administrators only', async () => {
    for (const [method, url] of [
      ['GET', '/admin/metrics'],
      ['GET', '/admin/dead-letters'],
      ['GET', '/admin/dead-letters/1'],
      ['POST', '/admin/dead-letters/1/replay'],
      ['POST', '/admin/dead-letters/1/discard'],
    ] as const) {
      const r = await shop.call(method, url);
      expect(r.status, `${method} ${url}`).toBe(403);
      expect(r.body.error.code).toBe('KB_ERR_FORBIDDEN');
    }
    const m = await metrics();
    expect(m.system.memory.total).toBeGreaterThan(0);
    expect(m.system.memory.used).toBe(m.system.memory.total - m.system.memory.free);
    expect(m.system.loadavg).toHaveLength(3);
    expect(m.queues.map((q) => q.name)).toEqual(expect.arrayContaining([n.dispatchQueue, n.ingressQueue, n.deadQueue]));
    // The dispatcher consumes its queue; the API's keeper consumes the dead letters.
    expect(queueIn(m, n.dispatchQueue)!.consumers).toBeGreaterThanOrEqual(1);
    expect(queueIn(m, n.deadQueue)!.consumers).toBeGreaterThanOrEqual(1);
    expect((await admin.call('GET', '/admin/dead-letters/999999')).status).toBe(404);
  });

  it('counts the calls just made, their response time and the top command', async () => {
    for (let i = 0; i < 5; i++) expect(await say(`에코 사과${i}`)).toMatchObject({ status: 'replied', reply: { text: `응답 사과${i}` } });
    for (let i = 0; i < 2; i++) expect(await say('날씨')).toMatchObject({ status: 'replied' });
    // The call log row is written next to the reply: it may land a moment after the answer.
    const m = await waitFor(async () => {
      const x = await metrics();
      return x.calls.lastHour >= 7 ? x : null;
    }, { what: '7 calls in the metrics' });
    expect(m.calls.lastHour).toBe(7);
    expect(m.calls.perMinute).toBe(7);
    // The tenant by its name (what an operator recognises), its id kept for links.
    expect(m.topCommands[0]).toEqual({ commandId: echo.id, command: '에코', tenantId: shopTenantId, tenantName: shopTenantName, calls: 5 });
    expect(shopTenantName).toBe('테스트 상점');
    expect(m.topCommands[1]).toMatchObject({ command: '날씨', calls: 2 });
    // Five of seven calls waited STUB_DELAY_MS on the tenant's API.
    expect(m.responseMs.avg!).toBeGreaterThanOrEqual((5 * STUB_DELAY_MS) / 7);
    expect(m.responseMs.p95!).toBeGreaterThanOrEqual(STUB_DELAY_MS);
  });

  it("shows connected phones, and the depth of a phone's reply queue while nobody takes it", async () => {
    const p = await phone('android-ops-a');
    await waitFor(async () => (await metrics()).phones.connected >= 1 || null, { what: 'a connected phone' });
    const deviceId = await deviceIdOf('android-ops-a');
    const queue = n.replyQueue(`dev.${deviceId}`);
    await waitFor(async () => queueIn(await metrics(), queue)?.consumers === 1 || null, { what: 'the phone taking its replies' });

    p.destroy();
    await waitFor(async () => {
      const m = await metrics();
      return (m.phones.connected === 0 && queueIn(m, queue)?.consumers === 0) || null;
    }, { what: 'the phone gone' });
    for (let i = 0; i < 3; i++) await publishReply(deviceId, `기다리는 답장 ${i}`);
    const m = await waitFor(async () => {
      const x = await metrics();
      return queueIn(x, queue)?.messages === 3 ? x : null;
    }, { what: 'three replies waiting' });
    expect(queueIn(m, queue)).toEqual({ name: queue, messages: 3, consumers: 0 });
    expect(m.phones).toMatchObject({ connected: 0, gateways: 1 });
  });

  it('tells a shop owner where phones reach the bridge: the port the gateway reports it listens on', async () => {
    // The gateway's first beat comes before it listens; a later one carries the port.
    const info = await waitFor(async () => {
      const p = await shop.ok<{ bridge: { host: string | null; port: number | null } }>('GET', '/platform');
      return p.bridge.port === stack.gateway.bridgePort ? p : undefined;
    }, { what: 'the bridge port from the gateway heartbeat' });
    expect(info.bridge.host).toBeNull();
    expect(stack.gateway.bridgePort).toBeGreaterThan(0);
  });

  it('keeps a reply that expired while its phone was away, and delivers it when replayed after the phone is back', async () => {
    const first = await phone('android-ops-b');
    const deviceId = await deviceIdOf('android-ops-b');
    const queue = n.replyQueue(`dev.${deviceId}`);
    await waitFor(async () => queueIn(await metrics(), queue)?.consumers === 1 || null, { what: 'the phone taking its replies' });
    first.destroy();
    await waitFor(async () => queueIn(await metrics(), queue)?.consumers === 0 || null, { what: 'the phone gone' });

    // The answer to the room comes while the phone is away and outlives its time to live.
    const before = (await metrics()).deadLetters;
    const replyId = await publishReply(deviceId, '늦게 도착한 답장', { expirationMs: 200 });
    const dead = await waitFor(async () => {
      const page = await admin.ok<{ items: DeadLetter[] }>('GET', '/admin/dead-letters?status=pending');
      return page.items.find((d) => d.messageId === replyId);
    }, { what: 'the expired reply among the dead letters' });
    expect(dead).toMatchObject({ status: 'pending', reason: 'expired', queue, exchange: n.replies, routingKey: `dev.${deviceId}`, messageType: 'reply.v1' });
    const inspected = await admin.ok('GET', `/admin/dead-letters/${dead.id}`);
    expect(inspected.body).toMatchObject({ id: replyId, type: 'reply', payload: { text: '늦게 도착한 답장', room: '운영방' } });
    expect(inspected.headers['x-death'][0]).toMatchObject({ reason: 'expired', queue });
    const after = (await metrics()).deadLetters;
    expect(after.pending).toBe(before.pending + 1);
    expect(after.total).toBe(before.total + 1);

    // The phone is back; the administrator replays the reply and the room gets it.
    const back = await phone('android-ops-b');
    await waitFor(async () => queueIn(await metrics(), queue)?.consumers === 1 || null, { what: 'the phone back' });
    const replayed = await admin.ok<DeadLetter>('POST', `/admin/dead-letters/${dead.id}/replay`);
    expect(replayed).toMatchObject({ id: dead.id, status: 'replayed' });
    const got = await back.nextPacket('messageResponse', (pk) => pk.text === '늦게 도착한 답장');
    expect(got.data).toMatchObject({ room: '운영방', channel_id: 'ops-room' });

    const me = await admin.ok<{ id: string }>('GET', '/me');
    expect(await admin.ok('GET', `/admin/dead-letters/${dead.id}`)).toMatchObject({ status: 'replayed', actedBy: me.id });
    const again = await admin.call('POST', `/admin/dead-letters/${dead.id}/replay`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('KB_ERR_DEAD_LETTER_STATE');
    expect((await metrics()).deadLetters.pending).toBe(before.pending);
  });

  it('keeps an event the dispatcher refused with its reason, and discards it', async () => {
    const ch = await stack.amqp.createConfirmChannel();
    const badId = randomUUID();
    await new Promise<void>((resolve, reject) =>
      ch.publish(n.events, 'analyze', Buffer.from(JSON.stringify({ id: badId, type: 'analyze', version: 1, payload: { nonsense: true } })), { persistent: true, messageId: badId }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    await ch.close();
    const dead = await waitFor(async () => (await admin.ok<{ items: DeadLetter[] }>('GET', '/admin/dead-letters?status=pending')).items.find((d) => d.messageId === badId), {
      what: 'the refused event among the dead letters',
    });
    expect(dead).toMatchObject({ reason: 'rejected', queue: n.dispatchQueue, routingKey: 'analyze' });
    expect(dead.detail).toMatch(/schema analyze\.v1/);

    expect(await admin.ok('POST', `/admin/dead-letters/${dead.id}/discard`)).toMatchObject({ id: dead.id, status: 'discarded' });
    const pending = await admin.ok<{ items: DeadLetter[] }>('GET', '/admin/dead-letters?status=pending');
    expect(pending.items.some((d) => d.id === dead.id)).toBe(false);
    const discarded = await admin.ok<{ items: DeadLetter[] }>('GET', '/admin/dead-letters?status=discarded');
    expect(discarded.items.map((d) => d.id)).toContain(dead.id);
    expect((await admin.call('POST', `/admin/dead-letters/${dead.id}/replay`)).status).toBe(409);
  });

  it('feeds the same metrics live to an administrator, never to a tenant', async () => {
    const watcher = await socketOf(admin);
    expect(await (watcher.socket.timeout(5000).emitWithAck('admin:join', {}) as Promise<Ack>)).toEqual({ ok: true });
    const intruder = await socketOf(shop);
    expect(await (intruder.socket.timeout(5000).emitWithAck('admin:join', {}) as Promise<Ack>)).toMatchObject({ ok: false, error: { code: 'KB_ERR_FORBIDDEN' } });

    // Two ticks: the one sent on joining and the next one two seconds later.
    await waitFor(() => watcher.seen.filter((s) => s.event === 'admin:metrics').length >= 2 || null, { what: 'two admin:metrics events', timeoutMs: 10_000 });
    const live = watcher.seen.filter((s) => s.event === 'admin:metrics').at(-1)!.data as Metrics;
    expect(live.calls.lastHour).toBe(7);
    expect(live.topCommands[0]).toMatchObject({ commandId: echo.id, calls: 5 });
    expect(Object.keys(live).sort()).toEqual(Object.keys(await metrics()).sort());
    expect(intruder.seen.filter((s) => s.event.startsWith('admin:'))).toEqual([]);
  });

  it("counts the runner's containers by mode: pooled, running an ephemeral call, a premium tenant's dedicated one", async () => {
    const warm = await waitFor(async () => {
      const m = await metrics();
      return m.containers.pool >= 1 ? m : null;
    }, { what: 'a warm pooled container', timeoutMs: 30_000 });
    expect(warm.containers.byRunner).toEqual([expect.objectContaining({ runnerId: stack.runner!.runnerId, containers: expect.objectContaining({ pool: warm.containers.pool }) })]);

    // A call that takes a while (the tenant's code sleeps) holds an ephemeral container while it runs.
    await shop.ok('POST', '/commands', {
      command: '느림',
      target: { type: 'sandbox', language: 'python', code: 'import time\ndef handle_command(params):\n    time.sleep(2)\n    return "느린 답"\n' },
    });
    const slow = say('느림');
    await waitFor(async () => (await metrics()).containers.ephemeral === 1 || null, { what: 'an ephemeral container running the call' });
    expect(await slow).toMatchObject({ status: 'replied', reply: { text: '느린 답' } });
    await waitFor(async () => (await metrics()).containers.ephemeral === 0 || null, { what: 'the ephemeral container gone' });

    // On the premium plan the tenant's calls run in its own long-lived container.
    await admin.ok('PATCH', `/admin/tenants/${shopTenantId}`, { planId: 'premium' });
    await shop.ok('POST', '/commands', { command: '계산', target: { type: 'sandbox', language: 'python', code: 'def handle_command(params):\n    return "42"\n' } });
    expect(await say('계산')).toMatchObject({ status: 'replied', reply: { text: '42' } });
    const m = await waitFor(async () => {
      const x = await metrics();
      return x.containers.dedicated === 1 ? x : null;
    }, { what: "the tenant's dedicated container" });
    expect(m.containers.byRunner[0]!.containers!.dedicated).toBe(1);
    // The placement: that runner holds the tenant's container, so its calls go there (runner-registry.ts).
    expect(m.containers.byRunner[0]!.dedicatedTenants).toEqual([shopTenantId]);
    expect(stack.runner!.dedicated()).toHaveLength(1);
  });
});
