import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, messages, routingKeys, type AnalyzePayload } from '@domaeka/broker';
import { waitFor } from '../../../test/support/wait.js';
import { logRows, startHarness, type Harness, type Seeded } from './harness.js';

describe('dispatcher: once per event and per chat message (outbox)', () => {
  let h: Harness;
  let a: Seeded;
  let calls = 0;

  beforeAll(async () => {
    h = await startHarness('disp-dedupe', {
      stub: {
        '/count': (_req, res) => {
          calls++;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: `응답 #${calls}` }));
        },
      },
    });
    a = await h.seed.botWithDevice();
    await h.seed.command(a.tenantId, { command: '번호', url: h.stub.url('/count') });
  });
  afterAll(async () => {
    await h?.close();
  });

  const callsFor = (eventId: string) => h.stub.requests.filter((r) => r.json?.metadata?.event_id === eventId).length;

  it('two phones of one bot relaying the same chat message (same log_id) give one reply and one log row', async () => {
    const second = await h.seed.device(a.botId);
    const phone2: Seeded = { ...a, deviceId: second.id, deviceKey: second.key };
    const replies1 = await h.watchRoute(`dev.${a.deviceId}`);
    const replies2 = await h.watchRoute(`dev.${phone2.deviceId}`);

    const logId = '3141592653589793';
    const [e1, e2] = await Promise.all([
      h.analyze(a, { text: '번호 1', logId, channelId: 'room-dup' }),
      h.analyze(phone2, { text: '번호 1', logId, channelId: 'room-dup' }),
    ]);
    const [d1, d2] = await Promise.all([h.done(e1), h.done(e2)]);
    expect([d1.status, d2.status].sort()).toEqual(['duplicate', 'replied']);

    const answered = d1.status === 'replied' ? e1 : e2;
    const all = [...replies1, ...replies2].filter((r) => r.id === e1 || r.id === e2);
    expect(all.map((r) => r.id)).toEqual([answered]);
    expect((await logRows(h.pool, e1)).length + (await logRows(h.pool, e2)).length).toBe(1);
    expect(callsFor(e1) + callsFor(e2)).toBe(1);
  });

  it('a redelivered event whose reply is stored gets the same reply again without calling the API', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const payload: AnalyzePayload = {
      source: 'phone',
      botId: a.botId,
      botName: a.botName,
      deviceId: a.deviceId,
      deviceKey: a.deviceKey,
      room: '테스트방',
      channelId: 'room-redeliver',
      sender: '홍길동',
      senderHash: null,
      text: '번호 2',
      isGroupChat: true,
      isMention: false,
      logId: '2718281828',
      sentAt: null,
      replyRoute: `dev.${a.deviceId}`,
    };
    const env = envelope(messages.analyze, payload);
    await h.publisher.publish(messages.analyze, routingKeys.analyze, env);
    const first = await waitFor(() => replies.find((r) => r.id === env.id));

    // The same envelope again, as the broker would redeliver it after a dispatcher died before acking.
    await h.publisher.publish(messages.analyze, routingKeys.analyze, env);
    const both = await waitFor(() => {
      const got = replies.filter((r) => r.id === env.id);
      return got.length === 2 ? got : undefined;
    });
    expect(both[1]!.payload).toEqual(first.payload);
    expect(callsFor(env.id)).toBe(1);
    expect(await logRows(h.pool, env.id)).toHaveLength(1);
    expect(h.dispatcher.counters.republished).toBeGreaterThanOrEqual(1);
  });

  it('an event whose outbox row was left pending (crash mid-call) calls the API again and answers', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const eventId = randomUUID();
    await h.pool.query(
      `insert into kb_outbox (event_id, tenant_id, bot_id, channel_id, log_id, source, status, reply_route)
       values ($1, $2, $3, 'room-crash', '1618033988', 'phone', 'pending', $4)`,
      [eventId, a.tenantId, a.botId, `dev.${a.deviceId}`],
    );
    await h.analyze(a, { text: '번호 3', channelId: 'room-crash', logId: '1618033988' }, eventId);
    const reply = await waitFor(() => replies.find((r) => r.id === eventId));
    expect(reply.payload.text).toMatch(/^응답 #\d+$/);
    expect(callsFor(eventId)).toBe(1);
    // The reply is published while the row is stored: wait for the row, do not race it.
    await waitFor(async () => (await h.pool.query(`select status from kb_outbox where event_id = $1`, [eventId])).rows[0]?.status === 'replied', {
      what: 'the outbox row replied',
    });
  });

  it('messages without a log_id are never taken for duplicates of each other', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const e1 = await h.analyze(a, { text: '번호 4', logId: null, channelId: 'room-nolog' });
    const e2 = await h.analyze(a, { text: '번호 4', logId: null, channelId: 'room-nolog' });
    await waitFor(() => replies.some((r) => r.id === e1) && replies.some((r) => r.id === e2));
  });
});
