import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kakaoAccepts, kakaoFixture } from '../support/kakao-contract.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 16, item 4: a command with a fixed answer, made without code
 * (`target: {type: 'reply', text, imageUrl?, buttons?}`). The API checks it
 * in Korean and keeps it to its tenant; a room message gets the answer
 * from the real dispatcher without any call (placeholders filled, buttons
 * as lines, an image fetched through the egress policy), logged in
 * kb_api_logs and counted against the day's room calls like any call. The
 * KakaoTalk channel gets the same answer drawn as Kakao draws it (a card
 * with its buttons, a `tel:` one as a phone button).
 */
// The smallest valid PNG (1x1): the dispatcher sniffs the bytes, not the content-type.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const HOURS = '{sender}님, 영업시간은 매일 10:00~21:00 입니다. ({room})';

describe('a fixed reply (no code)', () => {
  let stack: Stack;
  let shop: TenantClient;
  let other: TenantClient;
  let bot: { id: string; name: string; secretKey: string; salt: string };
  let phone: Phone;
  let logSeq = 9100;

  beforeAll(async () => {
    stack = await startStack('fixed-reply', {
      '/menu.png': (_req, res) => {
        res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      },
    });
    shop = await TenantClient.signup(stack.api, 'owner@fixed-reply.example', '고정답장가게');
    other = await TenantClient.signup(stack.api, 'other@fixed-reply.example', '옆가게');
    bot = await shop.ok('POST', '/bots', { name: '고정답장봇' });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'android-fixed-reply', secretKey: bot.secretKey, salt: bot.salt });
    await shop.approveDevice(bot.id, 'android-fixed-reply');
  });

  afterAll(async () => {
    phone?.destroy();
    await stack?.close();
  });

  it('is made, shown and changed through the API, checked in Korean, and kept to its tenant', async () => {
    const made = await shop.call('POST', '/commands', {
      command: ' 영업시간 ',
      target: { type: 'reply', text: `  ${HOURS}\r\n`, buttons: [{ label: '전화하기', url: 'tel:010-1234-5678' }, { label: '', url: '' }] },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      command: '영업시간',
      version: 1,
      target: { type: 'reply', text: HOURS, imageUrl: null, buttons: [{ label: '전화하기', url: 'tel:010-1234-5678' }] },
    });
    const id = made.body.id as number;
    expect((await shop.ok('GET', `/commands/${id}`)).target.type).toBe('reply');

    const refused = async (target: Record<string, unknown>) => {
      const r = await shop.call('POST', '/commands', { command: '공지', target: { type: 'reply', ...target } });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      return (r.body as { error: { code: string; message: string } }).error;
    };
    expect(await refused({ text: '   ' })).toMatchObject({ code: 'KB_ERR_VALIDATION', message: expect.stringContaining('답장 내용을 적어 주세요') });
    expect((await refused({ text: '가'.repeat(1001) })).message).toContain('답장은 1000자까지입니다');
    expect((await refused({ text: '메뉴', imageUrl: 'ftp://shop.example/menu.png' })).message).toContain('이미지 주소는 http:// 또는 https://');
    expect((await refused({ text: '메뉴', buttons: [{ label: '지도', url: '' }] })).message).toContain('1번째 버튼의 주소를 적어 주세요');
    expect((await refused({ text: '메뉴', buttons: [{ label: '아주아주아주아주긴버튼이름입니다', url: 'https://x.example' }] })).message).toContain(
      '버튼 이름은 14자까지입니다',
    );
    const six = Array.from({ length: 6 }, (_v, i) => ({ label: `링크${i}`, url: `https://x.example/${i}` }));
    expect((await refused({ text: '메뉴', buttons: six })).message).toContain('버튼은 5개까지입니다');
    // The image is fetched when the room asks: an address the egress policy refuses is refused at save.
    expect((await refused({ text: '메뉴', imageUrl: 'http://10.1.2.3/menu.png' })).code).toBe('KB_ERR_EGRESS_DENIED');

    // A change is a new version; the other tenant neither sees nor changes it.
    const changed = await shop.ok('PATCH', `/commands/${id}`, { target: { type: 'reply', text: HOURS, buttons: [{ label: '전화하기', url: 'tel:010-1234-5678' }] } });
    expect(changed.version).toBe(2);
    expect((await other.call('GET', `/commands/${id}`)).status).toBe(404);
    expect((await other.call('PATCH', `/commands/${id}`, { target: { type: 'reply', text: '남의 가게' } })).status).toBe(404);
    expect((await other.ok<unknown[]>('GET', '/commands')).length).toBe(0);
    const versions = await shop.ok<{ version: number; target: { type: string } }[]>('GET', `/commands/${id}/versions`);
    expect(versions.map((v) => [v.version, v.target.type])).toEqual([
      [2, 'reply'],
      [1, 'reply'],
    ]);
  });

  it('answers the room with the fixed text (placeholders filled, buttons as lines), logs and counts the call', async () => {
    const logId = String(logSeq++);
    phone.sendMessage({ room: '단골방', channelId: 'fixed-room', text: '영업시간', sender: '김손님', logId });
    const reply = await phone.nextReply(undefined, 15_000);
    expect(reply).toBe('김손님님, 영업시간은 매일 10:00~21:00 입니다. (단골방)\n전화하기: tel:010-1234-5678');
    // One log row like any call, no request to any server.
    const row = await waitFor(
      async () => {
        const { rows } = await stack.pool.query(
          `select l.error_code, l.response_data from kb_api_logs l join kb_outbox o on o.event_id = l.event_id where o.log_id = $1`,
          [logId],
        );
        return rows.length === 1 ? rows[0] : undefined;
      },
      { what: 'the call logged' },
    );
    expect(row.error_code).toBeNull();
    expect(row.response_data).toContain('영업시간은 매일');
    expect(stack.stub.requests).toHaveLength(0);
    const usage = await shop.ok('GET', '/usage');
    expect(usage.today.roomCalls.used).toBe(1);
  });

  it('sends an image fetched through the egress policy, its caption after it, and {params}', async () => {
    await shop.ok('POST', '/commands', {
      command: '메뉴',
      target: { type: 'reply', text: '{params} 메뉴판입니다', imageUrl: stack.stub.url('/menu.png'), buttons: [{ label: '주문', url: 'https://shop.example/order' }] },
    });
    phone.sendMessage({ room: '단골방', channelId: 'fixed-room', text: '메뉴 점심', sender: '김손님', logId: String(logSeq++) });
    const image = await phone.nextPacket('messageResponse', (p) => p.data.message_type === 'image', 15_000);
    expect(Buffer.from(image.raw, 'base64').equals(PNG)).toBe(true);
    expect(await phone.nextReply((t) => t.includes('메뉴판'), 15_000)).toBe('점심 메뉴판입니다\n주문: https://shop.example/order');
    expect(stack.stub.requests.map((r) => r.path)).toEqual(['/menu.png']);
  });

  it('answers the KakaoTalk channel with the same reply: the text on a card, tel: as a phone button, the customer as 고객', async () => {
    const channel = await shop.ok<{ skillUrl: string }>('GET', `/bots/${bot.id}/kakao`);
    const payload = kakaoFixture('skill-payload.weather.json');
    payload.userRequest.utterance = '영업시간';
    const res = await stack.api.app.inject({
      method: 'POST',
      url: new URL(channel.skillUrl).pathname,
      payload,
      headers: { 'content-type': 'application/json;charset=UTF-8' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(kakaoAccepts(body)).toEqual([]);
    expect(body.template.outputs).toEqual([
      {
        basicCard: {
          description: `고객님, 영업시간은 매일 10:00~21:00 입니다. (${payload.bot.name as string})`,
          buttons: [{ label: '전화하기', action: 'phone', phoneNumber: '010-1234-5678' }],
        },
      },
    ]);
  });
});
