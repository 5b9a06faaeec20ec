import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names } from '@domaeka/broker';
import { roomMessageFor } from '@domaeka/core';
import { waitFor } from '../../../test/support/wait.js';
import { logRows, startHarness, type Harness, type Seeded } from './harness.js';

/**
 * Issue 12 at the dispatcher: a result the database refuses is answered
 * once and never called again; a retry is bounded by kb_outbox.attempts;
 * an event the database can never store is dead-lettered once.
 */
const MARKER = 'STORE-REFUSED';

describe('dispatcher: poison after the call', () => {
  let h: Harness;
  let a: Seeded;
  let amqpConn: ChannelModel;
  let ch: Channel;

  beforeAll(async () => {
    h = await startHarness('disp-poison', {
      stub: {
        '/nul': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"a\\u0000b"}'),
        '/ok': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"정상 응답"}'),
        '/marked': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(`{"text":"표시된 응답 ${MARKER}"}`),
        '/marked-silent': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(`{"text":"","note":"${MARKER}"}`),
      },
    });
    a = await h.seed.botWithDevice();
    await h.seed.command(a.tenantId, { command: '널', url: h.stub.url('/nul') });
    await h.seed.command(a.tenantId, { command: '정상', url: h.stub.url('/ok') });
    await h.seed.command(a.tenantId, { command: '표시', url: h.stub.url('/marked') });
    await h.seed.command(a.tenantId, { command: '표시침묵', url: h.stub.url('/marked-silent') });
    // A deterministic store failure without mocks: this test database refuses a log row carrying the marker.
    await h.pool.query(`
      create function refuse_marker() returns trigger language plpgsql as $$
      begin
        if new.response_data like '%${MARKER}%' then
          raise exception 'marked row refused by the test database' using errcode = 'check_violation';
        end if;
        return new;
      end $$`);
    await h.pool.query(`create trigger refuse_marker before insert on kb_api_logs for each row execute function refuse_marker()`);
    amqpConn = await amqp.connect(h.env.amqpUrl);
    ch = await amqpConn.createChannel();
  });
  afterAll(async () => {
    await amqpConn?.close().catch(() => undefined);
    await h?.close();
  });

  const hits = (path: string) => h.stub.requests.filter((r) => r.path === path).length;
  const deadCount = async () => (await ch.checkQueue(names(h.env.brokerPrefix).deadQueue)).messageCount;

  it('gives the room U+FFFD where the tenant wrote NUL, one log row, one call', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const id = await h.analyze(a, { text: '널' });
    expect((await h.done(id)).status).toBe('replied');
    expect(replies.filter((r) => r.id === id).map((r) => r.payload.text)).toEqual(['a\uFFFDb']);
    const rows = await logRows(h.pool, id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ error_code: null, status_code: 200, response_data: '{"text":"a\\u0000b"}' });
    const stored = await h.pool.query(`select reply->>'text' as text from kb_outbox where event_id = $1`, [id]);
    expect(stored.rows[0].text).toBe('a\uFFFDb');
    expect(hits('/nul')).toBe(1);
  });

  it('answers a result the database refuses once with KB_ERR_INVALID_RESULT and never calls the target again', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const before = h.dispatcher.counters.unstorable;
    // The reply was on its way while the store failed: the room keeps that one message.
    const sent = await h.analyze(a, { text: '표시' });
    await h.done(sent);
    // A silent answer had sent nothing: the room gets the error.
    const silent = await h.analyze(a, { text: '표시침묵' });
    await h.done(silent);
    expect(replies.filter((r) => r.id === sent).map((r) => r.payload.text)).toEqual([`표시된 응답 ${MARKER}`]);
    expect(replies.filter((r) => r.id === silent).map((r) => r.payload.text)).toEqual([roomMessageFor('KB_ERR_INVALID_RESULT')]);
    for (const id of [sent, silent]) {
      const rows = await logRows(h.pool, id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ error_code: 'KB_ERR_INVALID_RESULT', status_code: 200, response_data: null });
      expect(rows[0]!.error_message).toMatch(/^the result could not be stored: 23514 marked row refused/);
    }
    expect(hits('/marked')).toBe(1);
    expect(hits('/marked-silent')).toBe(1);
    expect(h.dispatcher.counters.unstorable).toBe(before + 2);
    expect(await deadCount()).toBe(0);

    const next = await h.analyze(a, { text: '정상' });
    await h.done(next);
    expect(replies.find((r) => r.id === next)?.payload.text).toBe('정상 응답');
  });

  it('retries a call left pending by a crash, counting attempts, and answers with an error past the third', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const pending = async (attempts: number) => {
      const eventId = randomUUID();
      const logId = String(Date.now()) + String(attempts);
      await h.pool.query(
        `insert into kb_outbox (event_id, tenant_id, bot_id, channel_id, log_id, source, status, reply_route, attempts)
         values ($1, $2, $3, '12345', $4, 'phone', 'pending', $5, $6)`,
        [eventId, a.tenantId, a.botId, logId, `dev.${a.deviceId}`, attempts],
      );
      await h.analyze(a, { text: '정상', logId }, eventId);
      await h.done(eventId);
      return eventId;
    };
    const attemptsOf = async (id: string) => (await h.pool.query(`select attempts from kb_outbox where event_id = $1`, [id])).rows[0].attempts;

    const callsBefore = hits('/ok');
    const second = await pending(2);
    expect(replies.find((r) => r.id === second)?.payload.text).toBe('정상 응답');
    expect(await attemptsOf(second)).toBe(3);
    expect(hits('/ok')).toBe(callsBefore + 1);

    const fourth = await pending(3);
    expect(replies.filter((r) => r.id === fourth).map((r) => r.payload.text)).toEqual([roomMessageFor('KB_ERR_INTERNAL')]);
    expect(await attemptsOf(fourth)).toBe(4);
    expect(hits('/ok')).toBe(callsBefore + 1); // not called
    const rows = await logRows(h.pool, fourth);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ error_code: 'KB_ERR_INTERNAL' });
    expect(rows[0]!.error_message).toContain('after 3 failed attempts');
    expect(h.dispatcher.counters.givenUp).toBeGreaterThanOrEqual(1);
  });

  it('dead-letters an event the database can never store (NUL in the room name) once, with the reason, and serves the room next door', async () => {
    const dead = names(h.env.brokerPrefix).deadQueue;
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const id = await h.analyze(a, { text: '정상', room: '널\u0000방', channelId: 'nul-room' });
    const msg = await waitFor(async () => (await ch.get(dead, { noAck: true })) || undefined, { what: 'the refused event in the dead-letter queue' });
    expect(msg.properties.messageId).toBe(id);
    expect(String(msg.properties.headers?.['x-kb-reason'])).toMatch(/0x00|invalid byte sequence/);
    expect(msg.properties.headers?.['x-death']).toBeUndefined(); // refused at once, not after redeliveries
    expect(await deadCount()).toBe(0);
    expect(replies.some((r) => r.id === id)).toBe(false);

    const next = await h.analyze(a, { text: '정상', channelId: 'nul-room-neighbour' });
    await h.done(next);
    expect(replies.find((r) => r.id === next)?.payload.text).toBe('정상 응답');
  });
});
