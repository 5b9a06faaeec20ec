import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names, signBot } from '@domaeka/broker';
import { createLogger } from '@domaeka/core';
import { connectPhone, type Phone } from '../support/phone.js';
import { json, type StubRequest } from '../support/http-stub.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Characters PostgreSQL cannot store (NUL, lone surrogates) arriving from
 * phones, over HTTP and from external bot servers (issue 12). An identifier
 * (room, channel_id, log_id; botName, deviceID) holding one is refused by
 * name at the boundary, before anything is published: it used to
 * dead-letter every message of its room after ~21 redeliveries, and a
 * handshake with one answered SERVER_ERROR. Free text (the chat text, the
 * sender) is replaced with U+FFFD and the command still answers, once.
 */
describe('poison characters from phones and bot servers', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let bot: { id: string; name: string; secretKey: string; salt: string };
  let phone: Phone;
  const phones: Phone[] = [];
  const logLines: string[] = [];
  let logSeq = 5000;

  const weatherHits = (): StubRequest[] => stack.stub.requests.filter((r) => r.path === '/weather');
  const logs = () => logLines.map((l) => JSON.parse(l) as { level: number; name: string; msg: string; reason?: string; [k: string]: unknown });
  /** Dead letters: still in `<prefix>.dead` plus those the API moved into kb_dead_letters. */
  async function deadLetters(): Promise<{ queued: number; stored: { message_id: string | null; detail: string | null }[] }> {
    const ch = await stack.amqp.createChannel();
    const queued = (await ch.checkQueue(names(stack.env.brokerPrefix).deadQueue)).messageCount;
    await ch.close();
    const { rows } = await stack.pool.query<{ message_id: string | null; detail: string | null }>('select message_id, detail from kb_dead_letters order by id');
    return { queued, stored: rows };
  }

  beforeAll(async () => {
    const sink = { write: (line: string) => void logLines.push(line) };
    stack = await startStack(
      'poison-phone',
      { '/weather': (req, res) => json({ text: `날씨 ${String(req.json?.parameters?.[0] ?? '?')}: 맑음` })(req, res) },
      { logger: (service) => createLogger(service, 'info', sink) },
    );
    tenant = await TenantClient.signup(stack.api, 'poison@shop.example');
    bot = await tenant.ok('POST', '/bots', { name: 'LOA.poison' });
    await tenant.ok('POST', '/commands', { command: '날씨', pattern: '^날씨\\s+(.+)$', target: { type: 'http', url: stack.stub.url('/weather') } });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    phones.push(phone);
    await phone.handshake({ botName: bot.name, deviceID: 'android-poison', secretKey: bot.secretKey, salt: bot.salt });
    await tenant.approveDevice(bot.id, 'android-poison');
  });

  afterAll(async () => {
    for (const p of phones) p.destroy();
    await stack?.close();
  });

  const cases = [
    { field: 'room', poisoned: { room: '독방\u0000', channelId: 'ch-room' }, next: { room: '독방', channelId: 'ch-room' } },
    { field: 'channel_id', poisoned: { room: '채널방', channelId: 'ch-\u00002' }, next: { room: '채널방', channelId: 'ch-2' } },
    { field: 'log_id', poisoned: { room: '로그방', channelId: 'ch-log', logId: '77\u000077' }, next: { room: '로그방', channelId: 'ch-log' } },
    { field: 'room', poisoned: { room: '서로게이트방\ud800', channelId: 'ch-sur' }, next: { room: '서로게이트방', channelId: 'ch-sur' } },
  ];

  it.each(cases)('refuses NUL/lone surrogate in $field with UNSTORABLE_FIELD, calls nothing, and answers the room next message', async ({ field, poisoned, next }) => {
    const rejectedBefore = stack.gateway.metrics.snapshot().rejected.unstorable_field ?? 0;
    const hitsBefore = weatherHits().length;
    phone.sendMessage({ logId: String(logSeq++), text: '날씨 독도', ...poisoned });
    const err = await phone.nextPacket('error', (p) => p.data.code === 'UNSTORABLE_FIELD');
    expect(err.data.field).toBe(field);
    expect(err.data.message).toBe(`저장할 수 없는 문자(NUL 또는 짝 없는 서로게이트)가 들어 있습니다: ${field} (field holds a character that cannot be stored)`);
    expect(stack.gateway.metrics.snapshot().rejected.unstorable_field).toBe(rejectedBefore + 1);

    // Same phone, same room: the next ordinary message is answered, and it is the only call the tenant got.
    phone.sendMessage({ logId: String(logSeq++), text: '날씨 울릉도', ...next });
    expect(await phone.nextReply()).toBe('날씨 울릉도: 맑음');
    expect(phone.closed).toBe(false);
    const hits = weatherHits().slice(hitsBefore);
    expect(hits.map((h) => h.json.parameters[0])).toEqual(['울릉도']);
  });

  it('replaces NUL in the chat text and the sender with U+FFFD and answers once', async () => {
    const hitsBefore = weatherHits().length;
    const logId = String(logSeq++);
    phone.sendMessage({ room: '독방', channelId: 'ch-room', text: '날씨 서\u0000울', sender: '홍\u0000길동', logId });
    expect(await phone.nextReply()).toBe('날씨 서\uFFFD울: 맑음');
    const { rows } = await stack.pool.query<{ n: number }>(`select count(*)::int as n from kb_api_logs l join kb_outbox o on o.event_id = l.event_id where o.log_id = $1`, [logId]);
    expect(rows[0]!.n).toBe(1);
    const hits = weatherHits().slice(hitsBefore);
    expect(hits).toHaveLength(1);
    expect(hits[0]!.json).toMatchObject({ raw_text: '날씨 서\uFFFD울', parameters: ['서\uFFFD울'], sender: '홍\uFFFD길동' });
  });

  it('answers a handshake with NUL in botName or deviceID with the named refusal, not SERVER_ERROR', async () => {
    const devicesBefore = (await tenant.ok<unknown[]>('GET', `/bots/${bot.id}/devices`)).length;
    const tries = [
      { field: 'botName', identity: { botName: 'LOA\u0000poison', deviceID: 'android-x' } },
      { field: 'deviceID', identity: { botName: bot.name, deviceID: 'android\u0000x' } },
      { field: 'deviceID', identity: { botName: bot.name, deviceID: 'android\udc00x' } },
    ];
    for (const t of tries) {
      const p = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
      phones.push(p);
      const answer = await p.handshake({ ...t.identity, secretKey: bot.secretKey, salt: bot.salt });
      expect(answer).toMatchObject({ success: false, approved: false, message: expect.stringContaining(`: ${t.field} (`) });
      await p.waitClosed();
      const errors = p.packets.filter((x) => x.event === 'error').map((x) => [x.data.code, x.data.field]);
      expect(errors).toEqual([['UNSTORABLE_FIELD', t.field]]);
    }
    expect(await tenant.ok<unknown[]>('GET', `/bots/${bot.id}/devices`)).toHaveLength(devicesBefore);
    const gatewayErrors = logs().filter((l) => l.name === 'gateway' && l.level >= 50);
    expect(gatewayErrors).toEqual([]);
    expect(logs().filter((l) => l.name === 'gateway' && l.reason === 'unstorable_field' && l.event === 'handshake')).toHaveLength(3);
  });

  it('refuses POST /messages with NUL in an identifier by name, and answers one with NUL in the text', async () => {
    const hitsBefore = weatherHits().length;
    for (const [field, body] of [
      ['room', { room: '웹방\u0000' }],
      ['channelId', { channelId: 'web\u0000' }],
      ['messageId', { messageId: '\ud800' }],
    ] as const) {
      const r = await tenant.call('POST', '/messages?wait=1', { ...{ botName: bot.name, room: '웹방', channelId: 'web-1', sender: '홍길동', text: '날씨 부산' }, ...body });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('KB_ERR_VALIDATION');
      expect(r.body.error.message).toContain(`: ${field} /`);
    }
    expect(weatherHits().length).toBe(hitsBefore);
    const ok = await tenant.call('POST', '/messages?wait=1', { botName: bot.name, room: '웹방', channelId: 'web-1', sender: '홍\u0000길동', text: '날씨 부\u0000산' });
    expect(ok.status).toBe(200);
    expect(ok.body.reply).toEqual({ type: 'text', text: '날씨 부\uFFFD산: 맑음' });
    expect(weatherHits().slice(hitsBefore).map((h) => h.json.raw_text)).toEqual(['날씨 부\uFFFD산']);
  });

  it('left no dead letter behind (phones, HTTP)', async () => {
    // Every message above was decided (answered or refused at the door); nothing may be waiting to die.
    expect(await deadLetters()).toEqual({ queued: 0, stored: [] });
  });

  it('dead-letters an external bot server event with NUL in room by name, and answers one with NUL in the text', async () => {
    const n = names(stack.env.brokerPrefix);
    const event = (room: string, text: string) => {
      const auth = { clientType: 'MyBotServer', botName: bot.name, deviceUUID: 'server-1', macAddress: 'unknown', ipAddress: 'unknown', timestamp: Date.now() };
      return {
        id: randomUUID(),
        type: 'ingress.analyze',
        version: 1,
        occurredAt: new Date().toISOString(),
        payload: { botName: bot.name, room, channelId: 'srv-1', sender: '서버', text, logId: randomUUID(), auth: { ...auth, signature: signBot(auth, bot.secretKey, bot.salt) } },
      };
    };
    const ch = await stack.amqp.createConfirmChannel();
    const publish = (body: { id: string }) =>
      new Promise<void>((resolve, reject) =>
        ch.publish(n.ingress, 'analyze', Buffer.from(JSON.stringify(body)), { persistent: true, messageId: body.id }, (err) => (err ? reject(err) : resolve())),
      );
    const hitsBefore = weatherHits().length;
    const poisoned = event('서버방\u0000', '날씨 대구');
    const texted = event('서버방', '날씨 대\u0000구');
    await publish(poisoned);
    await publish(texted);
    await ch.close();

    const done = await stack.done((d) => d.eventId === texted.id, 'the NUL-text ingress event answered');
    expect(done).toMatchObject({ status: 'replied', reply: { text: '날씨 대\uFFFD구: 맑음' } });
    const dead = await waitFor(async () => {
      const d = await deadLetters();
      return d.stored.length ? d : null;
    }, { what: 'the refused ingress event among the dead letters' });
    expect(dead.stored).toEqual([{ message_id: poisoned.id, detail: 'unstorable_field: room' }]);
    expect(weatherHits().slice(hitsBefore).map((h) => h.json.raw_text)).toEqual(['날씨 대\uFFFD구']);
  });
});
