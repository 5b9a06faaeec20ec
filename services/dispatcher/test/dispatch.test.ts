import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomMessageFor } from '@domaeka/core';
import { waitFor } from '../../../test/support/wait.js';
import { json, logRows, startHarness, type Harness, type Seeded } from './harness.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a10000000049454e44ae426082', 'hex');

describe('dispatcher: commands answered through the tenant HTTP API', () => {
  let h: Harness;
  let a: Seeded;

  beforeAll(async () => {
    h = await startHarness('disp-main', {
      stub: {
        '/weather': (req, res) => {
          const place = req.json?.parameters?.[0] ?? '?';
          json({ success: true, response: { text: `🌤️ ${place} 날씨\n현재: 5°C`, type: 'text' }, error: null, processing_time: 3 })(req, res);
        },
        '/bare': json({ text: '그냥 텍스트' }),
        '/buttons': json({
          success: true,
          response: { text: '주문 1234: 배송 중', type: 'text', buttons: [{ label: '자세히 보기', url: 'https://example.com/o/1234' }, { label: '문의', url: 'https://example.com/help' }] },
        }),
        '/echo': (req, res) => json({ text: `params=${JSON.stringify(req.json?.parameters)} cmd=${req.json?.command}` })(req, res),
        '/image': json({ success: true, response: { type: 'image', text: '오늘의 지도', image_base64: PNG.toString('base64'), format: 'png' } }),
        '/tenant-b': json({ text: 'B의 응답' }),
        '/pic.png': (_req, res) => void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(PNG),
        '/get': (req, res) => json({ text: `${req.method} ${req.body === '' ? 'no-body' : 'body'} ${req.headers['x-api-key']}` })(req, res),
      },
    });
    a = await h.seed.botWithDevice();
    const url = (p: string) => h.stub.url(p);
    await h.seed.command(a.tenantId, { command: '날씨', url: url('/weather'), headers: { 'x-api-key': 'tenant-secret-1' } });
    await h.seed.command(a.tenantId, { command: '인사', url: url('/bare') });
    await h.seed.command(a.tenantId, { command: '주문 조회', url: url('/buttons') });
    await h.seed.command(a.tenantId, { command: '주문', url: url('/echo') });
    await h.seed.command(a.tenantId, { command: '재고', pattern: '^재고\\s+(\\S+)(?:\\s+(\\d+))?', url: url('/echo') });
    await h.seed.command(a.tenantId, { command: '지도', url: url('/image') });
    h.stub.on('/image-url', json({ success: true, response: { type: 'image', text: '위성 사진', url: url('/pic.png') } }));
    h.stub.on('/image-metadata', json({ success: true, response: { type: 'image', url: 'http://169.254.169.254/latest/meta-data/iam' } }));
    await h.seed.command(a.tenantId, { command: '사진', url: url('/image-url') });
    await h.seed.command(a.tenantId, { command: '몰래', url: url('/image-metadata') });
    await h.seed.command(a.tenantId, { command: '조회', method: 'GET', url: url('/get'), headers: { 'x-api-key': 'k-get' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers 날씨 화도읍 with the API text, logs the call and sends the REST standard request', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const eventId = await h.analyze(a, { text: '날씨 화도읍', room: '테스트방', channelId: '12345' });

    await waitFor(() => replies.find((r) => r.id === eventId), { what: 'reply' });
    const reply = replies.find((r) => r.id === eventId)!;
    expect(reply.payload).toMatchObject({ type: 'text', text: '🌤️ 화도읍 날씨\n현재: 5°C', room: '테스트방', channelId: '12345', botId: a.botId, media: [] });

    const req = h.stub.requests.find((r) => r.json?.metadata?.event_id === eventId)!;
    expect(req.method).toBe('POST');
    expect(req.headers['x-api-key']).toBe('tenant-secret-1');
    expect(req.json).toMatchObject({
      command: '날씨',
      parameters: ['화도읍'],
      raw_text: '날씨 화도읍',
      sender: '홍길동',
      room: '테스트방',
      channel_id: '12345',
      metadata: { device_id: a.deviceKey, bot: a.botName, event_id: eventId },
    });
    expect(typeof req.json.metadata.timestamp).toBe('string');

    const done = await h.done(eventId);
    expect(done).toMatchObject({ status: 'replied', tenantId: a.tenantId, reply: { type: 'text', text: reply.payload.text } });

    const [log, ...more] = await logRows(h.pool, eventId);
    expect(more).toHaveLength(0);
    expect(log).toMatchObject({ status_code: 200, error_code: null, tenant_id: a.tenantId });
    expect(log!.response_time).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(log!.request_data!)).toMatchObject({ command: '날씨', parameters: ['화도읍'] });
    expect(log!.response_data).toContain('화도읍 날씨');
    // The tenant's API key travels to its API but never into our logs.
    expect(log!.request_data).not.toContain('tenant-secret-1');

    const { rows } = await h.pool.query(`select status, reply->>'text' as text from kb_outbox where event_id = $1`, [eventId]);
    expect(rows[0]).toEqual({ status: 'replied', text: reply.payload.text });
  });

  it('accepts a bare {text} answer', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const eventId = await h.analyze(a, { text: '인사' });
    const r = await waitFor(() => replies.find((x) => x.id === eventId));
    expect(r.payload.text).toBe('그냥 텍스트');
  });

  it('renders buttons as `label: url` lines and prefers the longer command (주문 조회 over 주문)', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const lookup = await h.analyze(a, { text: '주문 조회 1234' });
    const order = await h.analyze(a, { text: '주문   사과    3' });
    const r1 = await waitFor(() => replies.find((x) => x.id === lookup));
    expect(r1.payload.text).toBe('주문 1234: 배송 중\n자세히 보기: https://example.com/o/1234\n문의: https://example.com/help');
    const r2 = await waitFor(() => replies.find((x) => x.id === order));
    expect(r2.payload.text).toBe('params=["사과","3"] cmd=주문');
  });

  it('fills parameters from the pattern capture groups (unmatched group -> "")', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const id = await h.analyze(a, { text: '재고 사과' });
    const r = await waitFor(() => replies.find((x) => x.id === id));
    expect(r.payload.text).toBe('params=["사과",""] cmd=재고');
  });

  it('sends GET without a body, with the tenant headers', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const id = await h.analyze(a, { text: '조회 1' });
    const r = await waitFor(() => replies.find((x) => x.id === id));
    expect(r.payload.text).toBe('GET no-body k-get');
  });

  it('sends an image answer as media with its caption', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const id = await h.analyze(a, { text: '지도' });
    const r = await waitFor(() => replies.find((x) => x.id === id));
    expect(r.payload.type).toBe('image');
    expect(r.payload.text).toBe('오늘의 지도');
    expect(r.payload.media).toEqual([{ format: 'png', data: PNG.toString('base64') }]);
  });

  it('fetches an image URL through the egress policy, and refuses one pointing at the metadata address', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const ok = await h.analyze(a, { text: '사진' });
    const r = await waitFor(() => replies.find((x) => x.id === ok));
    expect(r.payload).toMatchObject({ type: 'image', text: '위성 사진', media: [{ format: 'png', data: PNG.toString('base64') }] });

    const sneaky = await h.analyze(a, { text: '몰래' });
    const refused = await waitFor(() => replies.find((x) => x.id === sneaky));
    expect(refused.payload).toMatchObject({ type: 'text', text: roomMessageFor('KB_ERR_EGRESS_DENIED'), media: [] });
    expect((await logRows(h.pool, sneaky))[0]).toMatchObject({ status_code: 200, error_code: 'KB_ERR_EGRESS_DENIED' });
  });

  it('answers nothing to ordinary chat and writes nothing for it', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const before = replies.length;
    const id = await h.analyze(a, { text: '오늘 날씨 좋네요' });
    expect(await h.done(id)).toMatchObject({ status: 'no_match', reply: null });
    expect(replies.length).toBe(before);
    const { rowCount } = await h.pool.query(`select 1 from kb_outbox where event_id = $1`, [id]);
    expect(rowCount).toBe(0);
  });

  it("never answers tenant B's command in tenant A's rooms", async () => {
    const b = await h.seed.botWithDevice();
    await h.seed.command(b.tenantId, { command: '비밀', url: h.stub.url('/tenant-b') });
    const repliesA = await h.watchRoute(`dev.${a.deviceId}`);
    const repliesB = await h.watchRoute(`dev.${b.deviceId}`);
    const before = repliesA.length;

    const inA = await h.analyze(a, { text: '비밀 1' });
    expect(await h.done(inA)).toMatchObject({ status: 'no_match', tenantId: a.tenantId });
    expect(repliesA.length).toBe(before);

    // The same words in B's own room are answered: B's command exists and works.
    const inB = await h.analyze(b, { text: '비밀 1' });
    const r = await waitFor(() => repliesB.find((x) => x.id === inB));
    expect(r.payload.text).toBe('B의 응답');
    expect(h.stub.requests.filter((x) => x.path === '/tenant-b').map((x) => x.json?.metadata?.event_id)).toEqual([inB]);
  });

  it('writes the outbox row of an HTTP-ingress event and announces the reply on dispatch.done', async () => {
    const http = { botId: a.botId, botName: a.botName };
    const answered = await h.analyze(http, { source: 'http', text: '날씨 남양주', deviceId: null, deviceKey: null, replyRoute: null, logId: null });
    expect(await h.done(answered)).toMatchObject({ status: 'replied', reply: { type: 'text', text: '🌤️ 남양주 날씨\n현재: 5°C' } });
    const { rows } = await h.pool.query(`select status, source, reply->>'text' as text from kb_outbox where event_id = $1`, [answered]);
    expect(rows[0]).toEqual({ status: 'replied', source: 'http', text: '🌤️ 남양주 날씨\n현재: 5°C' });

    const chat = await h.analyze(http, { source: 'http', text: '안녕하세요', deviceId: null, deviceKey: null, replyRoute: null, logId: null });
    expect(await h.done(chat)).toMatchObject({ status: 'no_match', reply: null });
    const { rows: r2 } = await h.pool.query(`select status, completed_at is not null as completed from kb_outbox where event_id = $1`, [chat]);
    expect(r2[0]).toEqual({ status: 'no_match', completed: true });
  });

  it('logs a reply whose route has no queue as undelivered and still finishes the event', async () => {
    const before = h.dispatcher.counters.undelivered;
    const id = await h.analyze(a, { text: '인사', replyRoute: 'dev.nobody-listens' });
    expect(await h.done(id)).toMatchObject({ status: 'replied', reply: { text: '그냥 텍스트' } });
    expect(h.dispatcher.counters.undelivered).toBe(before + 1);
  });

  it('dead-letters a schema-invalid analyze event with the reason in x-kb-reason', async () => {
    const ch = await h.conn.createChannel();
    try {
      const bad = Buffer.from(JSON.stringify({ id: 'not-a-uuid', type: 'analyze', version: 1, occurredAt: 'x', payload: { text: '날씨' } }));
      await h.publisher.publishRaw(`${h.env.brokerPrefix}.events`, 'analyze', bad, { messageId: 'bad-analyze-1' });
      const dead = await waitFor(async () => {
        const m = await ch.get(`${h.env.brokerPrefix}.dead`, { noAck: true });
        return m && m.properties.messageId === 'bad-analyze-1' ? m : undefined;
      });
      expect(String(dead.properties.headers?.['x-kb-reason'])).toMatch(/schema analyze\.v1/);
    } finally {
      await ch.close();
    }
  });

  it('serves /healthz, /readyz and /metrics on its HTTP port', async () => {
    const base = `http://127.0.0.1:${h.dispatcher.httpPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { broker: true, database: true } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/kb_dispatcher_events_total\{[^}]*outcome="replied"[^}]*\} [1-9]/);
    expect(metrics).toContain('kb_dispatcher_target_duration_seconds_bucket');
  });
});
