import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/http-stub.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';

type PatternAnswer = { matched: boolean; command: string | null; parameters: string[]; groups: Record<string, string>; reason?: string };
type HttpAnswer = {
  ok: boolean;
  status: number | null;
  durationMs: number;
  reply: { type: string; text: string } | null;
  body: string | null;
  error: { code: string; message: string } | null;
};

/**
 * The command editor's helpers, checked against what the room really gets:
 * a pattern tried in the editor yields the parameters a room message sends
 * to the target, and a test call to an HTTP target is the dispatcher's
 * request (secrets in headers, egress policy, timeout).
 */
describe('editor helpers', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let bot: { name: string };
  const API_KEY = 'sk-live-7f3a9c';

  const roomReply = async (text: string) =>
    (await tenant.ok<{ status: string; reply: { text: string } | null }>('POST', '/messages?wait=1', { botName: bot.name, room: '편집방', channelId: 'editor-room', sender: '홍길동', text })).reply;

  beforeAll(async () => {
    stack = await startStack('editor-helpers', {
      // Says back the parameters it got, as the room will show them.
      '/params': (req, res) => json({ text: `받은 값: ${JSON.stringify(req.json?.parameters)}` })(req, res),
      // A careless API that echoes our credential back.
      '/echo-key': (req, res) => json({ text: `키 ${String(req.headers['x-api-key'])} 확인`, seen: req.headers['x-api-key'] })(req, res),
      '/buttons': json({ success: true, response: { type: 'text', text: '메뉴', buttons: [{ label: '주문', url: 'https://shop.example/o' }] } }),
      '/broken': json({ message: 'oops' }, 500),
      // Never answers (the stub drops the connection when the test ends).
      '/hang': () => undefined,
    });
    tenant = await TenantClient.signup(stack.api, 'editor@shop.example');
    bot = await tenant.ok('POST', '/bots', { name: 'editor-bot' });
    await tenant.ok('POST', '/secrets', { name: 'SHOP_KEY', value: API_KEY });
  });

  afterAll(async () => {
    await stack?.close();
  });

  describe('POST /patterns/test', () => {
    const cases: { command: string; pattern: string | null; text: string }[] = [
      { command: '주문 조회', pattern: '^주문 조회 (\\d+)(?:\\s+(\\S+))?$', text: '주문 조회 1234' },
      { command: '날씨', pattern: null, text: '날씨   화도읍 내일' },
      { command: '배송', pattern: '송장\\s*(?P<no>\\d{4,})', text: '배송 확인 부탁 송장 123456' },
    ];

    it('gives the parameters the room message sends to the target', async () => {
      for (const [i, c] of cases.entries()) {
        const url = stack.stub.url('/params');
        const created = await tenant.ok<{ id: number }>('POST', '/commands', { command: c.command, pattern: c.pattern, target: { type: 'http', url } });
        const tried = await tenant.ok<PatternAnswer>('POST', '/patterns/test', { command: c.command, pattern: c.pattern, text: c.text });
        expect(tried.matched, `case ${i}`).toBe(true);
        expect((await roomReply(c.text))?.text, `case ${i}`).toBe(`받은 값: ${JSON.stringify(tried.parameters)}`);
        await tenant.ok('DELETE', `/commands/${created.id}`);
      }
    });

    it('shows named groups and says why a text does not match', async () => {
      expect(await tenant.ok<PatternAnswer>('POST', '/patterns/test', { pattern: '^주문 (?P<no>\\d+)(?: (?P<memo>.+))?$', text: '주문 42' })).toEqual({
        matched: true,
        command: null,
        parameters: ['42', ''],
        groups: { no: '42', memo: '' },
      });
      expect(await tenant.ok<PatternAnswer>('POST', '/patterns/test', { command: '날씨', text: '오늘 날씨' })).toMatchObject({ matched: false, reason: 'command' });
      expect(await tenant.ok<PatternAnswer>('POST', '/patterns/test', { command: '  주문   조회 ', pattern: '(\\d+)', text: '주문 조회 없음' })).toMatchObject({
        matched: false,
        reason: 'pattern',
        command: '주문 조회',
      });
    });

    it('says why a message does not start with the command: a word glued to it, the command later, another word first', async () => {
      expect(await tenant.ok<PatternAnswer>('POST', '/patterns/test', { command: '날씨', text: '날씨좀 알려줘' })).toMatchObject({
        matched: false,
        reason: 'command',
        hint: { kind: 'glued', word: '날씨좀', example: '날씨 좀 알려줘' },
      });
      expect(await tenant.ok<PatternAnswer>('POST', '/patterns/test', { command: '날씨', text: '오늘 날씨' })).toMatchObject({ hint: { kind: 'later', first: '오늘' } });
      expect(await tenant.ok<PatternAnswer>('POST', '/patterns/test', { command: '주문 조회', pattern: '(\\d+)', text: '주문조회 12' })).toMatchObject({
        reason: 'command',
        hint: { kind: 'spacing', word: '주문조회', example: '주문 조회 12' },
      });
      // The pattern alone (no command) has no command to explain.
      expect(await tenant.ok<PatternAnswer>('POST', '/patterns/test', { pattern: '^주문 (\\d+)$', text: '주문좀' })).not.toHaveProperty('hint');
    });

    it('refuses patterns RE2 cannot run safely, and overlong ones, with KB_ERR_INVALID_PATTERN', async () => {
      for (const pattern of ['(a)\\1', '(?=x)x', '(?<=a)b', '(unclosed', 'a{1001}', 'x'.repeat(256)]) {
        const r = await tenant.call('POST', '/patterns/test', { pattern, text: 'aa' });
        expect(r.status, pattern.slice(0, 20)).toBe(400);
        expect(r.body.error.code).toBe('KB_ERR_INVALID_PATTERN');
        expect(r.body.error.message).toMatch(/^[가-힣]/);
      }
      // Nested quantifiers stall backtracking engines; RE2 answers at once.
      const hostile = await tenant.ok<PatternAnswer>('POST', '/patterns/test', { pattern: '^(a+)+$', text: 'a'.repeat(60_000) + '!' });
      expect(hostile.matched).toBe(false);
      const tooLong = await tenant.call('POST', '/patterns/test', { pattern: 'a', text: 'a'.repeat(65_001) });
      expect(tooLong.status).toBe(400);
    });
  });

  describe('POST /commands/test-http', () => {
    const testHttp = (body: object) => tenant.ok<HttpAnswer>('POST', '/commands/test-http', body);

    it('sends the room request with the secret filled in, and never hands the secret back', async () => {
      const r = await testHttp({
        target: { type: 'http', url: stack.stub.url('/echo-key'), headers: { 'X-Api-Key': '{{secret:SHOP_KEY}}' } },
        input: { command: '주문 조회', parameters: ['1234'] },
      });
      const sent = stack.stub.requests.filter((q) => q.path === '/echo-key').at(-1)!;
      expect(sent.headers['x-api-key']).toBe(API_KEY);
      expect(sent.method).toBe('POST');
      expect(sent.json).toMatchObject({ command: '주문 조회', parameters: ['1234'], raw_text: '주문 조회 1234', room: '테스트방', sender: '테스트 사용자' });
      expect(sent.headers['x-kb-event-id']).toBe(sent.json.metadata.event_id);

      expect(r).toMatchObject({ ok: true, status: 200, error: null, reply: { type: 'text', text: '키 ******** 확인' } });
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(r)).not.toContain(API_KEY);
    });

    it('renders the answer as the room would get it, and the failures with their codes', async () => {
      expect(await testHttp({ target: { type: 'http', url: stack.stub.url('/buttons'), method: 'GET' } })).toMatchObject({
        ok: true,
        reply: { type: 'text', text: '메뉴\n주문: https://shop.example/o' },
      });
      const broken = await testHttp({ target: { type: 'http', url: stack.stub.url('/broken') } });
      expect(broken).toMatchObject({ ok: false, status: 500, body: '{"message":"oops"}', error: { code: 'KB_ERR_TARGET_STATUS' } });
      expect(broken.reply?.text).toMatch(/^[가-힣]/);

      const missing = await testHttp({ target: { type: 'http', url: stack.stub.url('/params'), headers: { Authorization: 'Bearer {{secret:NOPE}}' } } });
      expect(missing).toMatchObject({ ok: false, status: null, error: { code: 'KB_ERR_SECRET_MISSING' } });
    });

    it('goes through the egress policy', async () => {
      for (const url of ['http://127.0.0.1:1/x', 'http://169.254.169.254/latest/meta-data']) {
        const r = await testHttp({ target: { type: 'http', url } });
        expect(r).toMatchObject({ ok: false, status: null, error: { code: 'KB_ERR_EGRESS_DENIED' } });
      }
    });

    it('gives up after the timeout with KB_ERR_TIMEOUT', async () => {
      const r = await testHttp({ target: { type: 'http', url: stack.stub.url('/hang') }, timeoutMs: 300 });
      expect(r).toMatchObject({ ok: false, status: null, error: { code: 'KB_ERR_TIMEOUT' } });
      expect(r.durationMs).toBeGreaterThanOrEqual(250);
      expect(r.durationMs).toBeLessThan(5000);
    });

    it('limits test calls per tenant', async () => {
      const other = await TenantClient.signup(stack.api, 'busy@shop.example');
      const call = () => other.call('POST', '/commands/test-http', { target: { type: 'http', url: stack.stub.url('/buttons') } });
      for (let i = 0; i < 30; i++) expect((await call()).status).toBe(200);
      const refused = await call();
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('KB_ERR_RATE_LIMITED');
      // The first tenant is not affected.
      expect((await testHttp({ target: { type: 'http', url: stack.stub.url('/buttons') } })).ok).toBe(true);
    });
  });
});
