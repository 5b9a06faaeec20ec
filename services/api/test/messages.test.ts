import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBroker, envelope, messages, routingKeys, type DispatchDonePayload, type Publisher } from '@domaeka/broker';
import { createLogger } from '@domaeka/core';
import { waitFor } from '../../../test/support/wait.js';
import { as, observe, signup, startApi, type Account, type Harness, type Observed } from './harness.js';

let h: Harness;
let a: Account;
let b: Account;
let slow: Account;
let events: Observed;
let dispatcher: { publisher: Publisher; close(): Promise<void> };
let botName: string;
let botId: string;

beforeAll(async () => {
  h = await startApi('api-messages');
  a = await signup(h, 'msg-a@example.com');
  b = await signup(h, 'msg-b@example.com');
  slow = await signup(h, 'msg-tiny@example.com');
  // A plan whose longest command may run 100 ms: ?wait=1 gives up after 100 + 2000 ms.
  await h.db.query(`insert into plans (id, name, runs_per_day, timeout_max_ms, memory_mb, cpus, network, mode)
                    values ('tiny', 'Tiny', 10, 100, 128, 0.5, 'none', 'ephemeral')`);
  await h.db.query(`update tenants set plan_id = 'tiny' where id = $1`, [slow.me.tenant.id]);
  const bot = (await as(h, a)('POST', '/bots', { name: 'msg-bot' })).json();
  botName = bot.name;
  botId = bot.id;
  // Our own queue on the events exchange (the real dispatch queue receives the events too).
  events = await observe(h, 'events', routingKeys.analyze);
  const broker = await connectBroker({ url: h.env.amqpUrl, prefix: h.env.brokerPrefix, name: 'fake-dispatcher', logger: createLogger('test', 'silent') });
  dispatcher = { publisher: broker.publisher, close: () => broker.conn.close() };
});
afterAll(async () => {
  await events?.close();
  await dispatcher?.close();
  await h?.close();
});

const message = (extra: object = {}) => ({
  botName,
  room: '테스트방',
  channelId: '12345',
  sender: '홍길동',
  text: '날씨 화도읍',
  ...extra,
});

/** The analyze event the API published for this event id. */
const analyzed = (eventId: string) => waitFor(() => events.messages.find((m) => m.body.id === eventId), { what: `analyze ${eventId}` });
/** The analyze event of the next POST whose text is `text`. */
const analyzedText = (text: string) => waitFor(() => events.messages.find((m) => m.body.payload.text === text), { what: `analyze "${text}"` });

function publishDone(payload: Omit<DispatchDonePayload, 'tenantId' | 'botId'> & { tenantId?: string }) {
  const full: DispatchDonePayload = { tenantId: payload.tenantId ?? a.me.tenant.id, botId, ...payload };
  dispatcher.publisher.publishTelemetry(messages.dispatchDone, routingKeys.dispatchDone('http', full.tenantId), envelope(messages.dispatchDone, full));
}

describe('POST /messages', () => {
  it('publishes an analyze event for the caller\'s bot and answers 202 with its id', async () => {
    const res = await as(h, a)('POST', '/messages', message({ messageId: 'log-1', senderHash: 'abc123', isGroupChat: false }));
    expect(res.statusCode).toBe(202);
    const { eventId } = res.json();
    const ev = await analyzed(eventId);
    expect(ev.body).toMatchObject({ type: 'analyze', version: 1, id: eventId });
    expect(ev.body.payload).toEqual({
      source: 'http',
      botId,
      botName,
      deviceId: null,
      deviceKey: null,
      room: '테스트방',
      channelId: '12345',
      sender: '홍길동',
      senderHash: 'abc123',
      text: '날씨 화도읍',
      isGroupChat: false,
      isMention: false,
      logId: 'log-1',
      sentAt: null,
      replyRoute: null,
    });
    const status = await as(h, a)('GET', `/messages/${eventId}`);
    expect(status.json()).toEqual({ eventId, status: 'pending', reply: null });
  });

  it('refuses another tenant\'s bot (403) and an unknown bot (404)', async () => {
    const other = await as(h, b)('POST', '/messages', message());
    expect(other.statusCode).toBe(403);
    expect(other.json().error.code).toBe('KB_ERR_FORBIDDEN');
    const unknown = await as(h, a)('POST', '/messages', message({ botName: 'no-such-bot' }));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('KB_ERR_NOT_FOUND');
  });

  it('with ?wait=1 returns the reply once the dispatcher reports the event done', async () => {
    const pending = as(h, a)('POST', '/messages?wait=1', message({ text: '날씨 기다림' }));
    const ev = await analyzedText('날씨 기다림');
    // Another event's notice must not answer this request.
    publishDone({ eventId: '00000000-0000-7000-8000-000000000000', status: 'replied', reply: { type: 'text', text: 'wrong' } });
    publishDone({ eventId: ev.body.id, status: 'replied', reply: { type: 'text', text: '화도읍: 맑음 21°C' } });
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ eventId: ev.body.id, status: 'replied', reply: { type: 'text', text: '화도읍: 맑음 21°C' } });
  });

  it('with ?wait=1 reports a message that is no command as no_match with no reply', async () => {
    const pending = as(h, a)('POST', '/messages?wait=1', message({ text: '그냥 수다' }));
    const ev = await analyzedText('그냥 수다');
    publishDone({ eventId: ev.body.id, status: 'no_match', reply: null });
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ eventId: ev.body.id, status: 'no_match', reply: null });
  });

  it('with ?wait=1 gives up after the plan\'s timeout + 2 s and answers 202', async () => {
    const bot = (await as(h, slow)('POST', '/bots', { name: 'tiny-bot' })).json();
    const res = await as(h, slow)('POST', '/messages?wait=1', message({ botName: bot.name, text: '아무도 안 받음' }));
    expect(res.statusCode).toBe(202);
    const { eventId } = res.json();
    expect(res.json()).toEqual({ eventId });
    expect((await as(h, slow)('GET', `/messages/${eventId}`)).json().status).toBe('pending');
  });

  it('with ?wait=1 falls back to the stored outcome when the notice is lost', async () => {
    const bot = (await as(h, slow)('POST', '/bots', { name: 'tiny-bot-2' })).json();
    const pending = as(h, slow)('POST', '/messages?wait=1', message({ botName: bot.name, text: '알림 유실' }));
    const ev = await analyzedText('알림 유실');
    await h.db.query(
      `insert into kb_outbox (event_id, tenant_id, bot_id, channel_id, source, status, reply, completed_at)
       values ($1, $2, $3, '12345', 'http', 'replied', $4, now())`,
      [ev.body.id, slow.me.tenant.id, bot.id, JSON.stringify({ type: 'text', text: '저장된 답' })],
    );
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ eventId: ev.body.id, status: 'replied', reply: { type: 'text', text: '저장된 답' } });
  });
});

describe('GET /messages/:eventId', () => {
  it('reports the outbox outcome, duplicates, and hides other tenants\' events', async () => {
    const first = (await as(h, a)('POST', '/messages', message({ messageId: 'dup-1', text: '주문 조회 1' }))).json().eventId;
    const second = (await as(h, a)('POST', '/messages', message({ messageId: 'dup-1', text: '주문 조회 1' }))).json().eventId;
    expect(second).not.toBe(first);
    // What the dispatcher writes for the first of the two.
    await h.db.query(
      `insert into kb_outbox (event_id, tenant_id, bot_id, channel_id, log_id, source, status, reply, completed_at)
       values ($1, $2, $3, '12345', 'dup-1', 'http', 'replied', $4, now())`,
      [first, a.me.tenant.id, botId, JSON.stringify({ type: 'text', text: '주문 1: 배송 중', media: [] })],
    );
    expect((await as(h, a)('GET', `/messages/${first}`)).json()).toEqual({
      eventId: first,
      status: 'replied',
      reply: { type: 'text', text: '주문 1: 배송 중' },
    });
    expect((await as(h, a)('GET', `/messages/${second}`)).json()).toEqual({ eventId: second, status: 'duplicate', reply: null });

    const hidden = await as(h, b)('GET', `/messages/${first}`);
    expect(hidden.statusCode).toBe(404);
    expect((await as(h, a)('GET', '/messages/not-a-uuid')).statusCode).toBe(404);
  });
});
