import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/http-stub.js';
import { kakaoAccepts, kakaoFixture as fixture } from '../support/kakao-contract.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 17: the tenant's commands on its official KakaoTalk channel. Kakao i
 * Open Builder is played by this test with our fixtures (test/fixtures/kakao,
 * written from Kakao's developer guide): skill calls go to the skill URL the
 * bot page shows, through the real API, broker, dispatcher, tenant API stub
 * and sandbox runner; every answer must pass our SkillResponse 2.0 schema.
 * The callback server is a route of the stub on 127.0.0.1, which
 * EGRESS_ALLOW lets through as it does for the tenant's API.
 */
const QUOTA_TEXT = '일일 실행 횟수를 초과했습니다';
/** Noon KST on 9 December 2026: the quota's day is this one whatever the wall clock says. */
const NOW = Date.parse('2026-12-09T03:00:00Z');
const DAY = '2026-12-09';
/** A 1x1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

type Channel = { skillUrl: string; skillKey: string; fallbackText: string | null; defaultFallbackText: string };
type Output = Record<string, any>;

describe('the official KakaoTalk channel (Kakao i Open Builder skill server)', () => {
  let stack: Stack;
  let admin: TenantClient;
  let shop: TenantClient;
  let botId: string;
  let channel: Channel;
  const sockets: Socket[] = [];

  /** What Open Builder would send for `utterance`, optionally from a block with the callback option. */
  const payload = (utterance: string, callbackUrl?: string) => {
    const p = fixture(callbackUrl ? 'skill-payload.callback.json' : 'skill-payload.weather.json');
    p.userRequest.utterance = utterance;
    if (callbackUrl) p.userRequest.callbackUrl = callbackUrl;
    return p;
  };
  const skill = async (url: string, body: unknown) => {
    const res = await stack.api.app.inject({ method: 'POST', url: new URL(url).pathname, payload: body as object, headers: { 'content-type': 'application/json;charset=UTF-8' } });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  };
  const outputs = (r: { body: any }): Output[] => r.body.template.outputs;

  beforeAll(async () => {
    stack = await startStack(
      'kakao-channel',
      {
        '/weather': (req, res) => json({ success: true, response: { type: 'text', text: `🌤️ ${String(req.json?.parameters?.[0])} 날씨: 맑음, 15°C` }, error: null })(req, res),
        '/order': json({
          success: true,
          response: { type: 'text', text: '주문 1234: 배송 중', buttons: [{ label: '배송 조회', url: 'https://shop.example/o/1234' }, { label: '다른 주문', url: '주문 5678' }] },
        }),
        '/menu.png': (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG),
      },
      { runner: true, clock: () => NOW },
    );
    // The first account of the platform is its administrator.
    admin = await TenantClient.signup(stack.api, 'admin@kakao.example', '운영자');
    shop = await TenantClient.signup(stack.api, 'owner@kakao.example', '도매까 상점');
    botId = (await shop.ok<{ id: string }>('POST', '/bots', { name: 'kakao-shop' })).id;
    await shop.ok('POST', '/commands', { command: '날씨', pattern: '^날씨\\s+(\\S+)', target: { type: 'http', url: stack.stub.url('/weather') } });
    await shop.ok('POST', '/commands', { command: '주문', target: { type: 'http', url: stack.stub.url('/order') } });
    // The image lives on the stub: its URL is what Kakao loads (the dispatcher checks it is an image, through the egress policy).
    const menu = `def handle_command(params):\n    return {"type": "image", "url": "${stack.stub.url('/menu.png')}", "text": "오늘의 메뉴"}\n`;
    await shop.ok('POST', '/commands', { command: '메뉴', target: { type: 'sandbox', language: 'python', code: menu } });
    channel = await shop.ok<Channel>('GET', `/bots/${botId}/kakao`);
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    await stack?.close();
  });

  it('shows a ready-to-paste skill URL with a random key, the same on every view', async () => {
    expect(channel.skillKey).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(channel.skillUrl).toBe(`http://localhost:80/kakao/skill/${channel.skillKey}`);
    expect(channel).toMatchObject({ fallbackText: null, defaultFallbackText: expect.stringContaining('무슨 말씀인지') });
    expect(await shop.ok<Channel>('GET', `/bots/${botId}/kakao`)).toEqual(channel);
    // Only its hash finds the bot; the stored key is sealed.
    const { rows } = await stack.pool.query('select kakao_skill_key_hash, kakao_skill_key_enc from bots where id = $1', [botId]);
    expect(rows[0].kakao_skill_key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].kakao_skill_key_enc).not.toContain(channel.skillKey);
  });

  it('날씨 화도읍 is answered with a simpleText holding the command\'s reply', async () => {
    const res = await skill(channel.skillUrl, payload('날씨 화도읍'));
    expect(res.status).toBe(200);
    expect(kakaoAccepts(res.body)).toEqual([]);
    expect(outputs(res)).toEqual([{ simpleText: { text: '🌤️ 화도읍 날씨: 맑음, 15°C' } }]);
    // The tenant's API got the seed's request: the Kakao user as sender, the channel as room, Open Builder's params beside.
    const call = stack.stub.requests.filter((r) => r.path === '/weather').at(-1)!;
    expect(call.json).toMatchObject({
      command: '날씨',
      parameters: ['화도읍'],
      raw_text: '날씨 화도읍',
      sender: fixture('skill-payload.weather.json').userRequest.user.id,
      room: '도매까 상점',
      channel_id: 'kakao:64a1eff0b1c2d3e4f5a6b7c8',
      metadata: { kakao: { params: { sys_location: '화도읍' }, block: '폴백 블록' } },
    });
  });

  it('maps buttons to a basicCard and quick replies, and an image answer to simpleImage', async () => {
    const order = await skill(channel.skillUrl, payload('주문'));
    expect(kakaoAccepts(order.body)).toEqual([]);
    expect(order.body.template).toEqual({
      outputs: [{ basicCard: { description: '주문 1234: 배송 중', buttons: [{ label: '배송 조회', action: 'webLink', webLinkUrl: 'https://shop.example/o/1234' }] } }],
      quickReplies: [{ label: '다른 주문', action: 'message', messageText: '주문 5678' }],
    });
    const menu = await skill(channel.skillUrl, payload('메뉴'));
    expect(kakaoAccepts(menu.body)).toEqual([]);
    expect(outputs(menu)).toEqual([
      { simpleImage: { imageUrl: stack.stub.url('/menu.png'), altText: '오늘의 메뉴' } },
      { simpleText: { text: '오늘의 메뉴' } },
    ]);
  });

  it('an utterance with no command gets the fallback text: the default, then the bot\'s own', async () => {
    const before = await skill(channel.skillUrl, payload('영업 시간이 어떻게 되나요?'));
    expect(outputs(before)).toEqual([{ simpleText: { text: channel.defaultFallbackText } }]);
    const set = await shop.ok<Channel>('PATCH', `/bots/${botId}/kakao`, { fallbackText: '  "날씨 지역"이나 "주문"이라고 말씀해 주세요.  ' });
    expect(set.fallbackText).toBe('"날씨 지역"이나 "주문"이라고 말씀해 주세요.');
    const after = await skill(channel.skillUrl, payload('안녕하세요'));
    expect(kakaoAccepts(after.body)).toEqual([]);
    expect(outputs(after)).toEqual([{ simpleText: { text: '"날씨 지역"이나 "주문"이라고 말씀해 주세요.' } }]);
    expect((await shop.ok<Channel>('PATCH', `/bots/${botId}/kakao`, { fallbackText: null })).fallbackText).toBeNull();
  });

  it('a key no bot has is 404 like a path that does not exist, and counted; a rotated key stops the old URL', async () => {
    const metric = async () => {
      const text = (await stack.api.app.inject({ method: 'GET', url: '/metrics' })).body;
      return Number(/kb_api_kakao_skill_calls_total\{[^}]*outcome="unknown_key"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const counted = await metric();
    const wrong = await skill(channel.skillUrl.replace(channel.skillKey, 'A'.repeat(32)), payload('날씨 화도읍'));
    expect(wrong.status).toBe(404);
    expect(wrong.body.error.code).toBe('KB_ERR_NOT_FOUND');
    const nowhere = await stack.api.app.inject({ method: 'POST', url: '/kakao/nowhere/x', payload: payload('날씨') });
    expect(Object.keys(wrong.body.error)).toEqual(Object.keys(nowhere.json().error));
    expect(await metric()).toBe(counted + 1);

    const rotated = await shop.ok<Channel>('POST', `/bots/${botId}/kakao/rotate`);
    expect(rotated.skillKey).not.toBe(channel.skillKey);
    expect((await skill(channel.skillUrl, payload('날씨 화도읍'))).status).toBe(404);
    expect(outputs(await skill(rotated.skillUrl, payload('날씨 서울')))).toEqual([{ simpleText: { text: '🌤️ 서울 날씨: 맑음, 15°C' } }]);
    channel = rotated;
    // Another tenant's bot: not found, and nothing of it shown.
    const other = await TenantClient.signup(stack.api, 'other@kakao.example');
    expect((await other.call('GET', `/bots/${botId}/kakao`)).status).toBe(404);
    expect((await other.call('POST', `/bots/${botId}/kakao/rotate`)).status).toBe(404);
    expect((await other.call('PATCH', `/bots/${botId}/kakao`, { fallbackText: '남의 봇' })).status).toBe(404);
    expect((await shop.ok<Channel>('GET', `/bots/${botId}/kakao`)).skillKey).toBe(rotated.skillKey);
  });

  it('a slow sandbox command answers useCallback at once, then POSTs the final SkillResponse once to the callback URL', async () => {
    const slow = await TenantClient.signup(stack.api, 'slow@kakao.example');
    const tenantId = (await slow.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id;
    // Premium allows a command more time than Kakao waits (its timeout above the threshold).
    await admin.ok('PATCH', `/admin/tenants/${tenantId}`, { planId: 'premium' });
    const bot = await slow.ok<{ id: string }>('POST', '/bots', { name: 'kakao-slow' });
    const code = 'import time\n\ndef handle_command(params):\n    time.sleep(1.5)\n    return "계산 끝: " + " ".join(params["parameters"])\n';
    await slow.ok('POST', '/commands', { command: '계산', timeoutMs: 10_000, target: { type: 'sandbox', language: 'python', code } });
    const { skillUrl } = await slow.ok<Channel>('GET', `/bots/${bot.id}/kakao`);
    stack.stub.on('/kakao/callback/1', json({ taskId: 'task-1', status: 'SUCCESS', message: 'OK', timestamp: NOW }));

    const ack = await skill(skillUrl, payload('계산 1 2 3', stack.stub.url('/kakao/callback/1')));
    expect(ack.status).toBe(200);
    expect(kakaoAccepts(ack.body)).toEqual([]);
    expect(ack.body).toEqual({ version: '2.0', useCallback: true, data: { text: '잠시만요, 답을 준비하고 있어요.' } });

    const callback = await waitFor(() => stack.stub.requests.find((r) => r.path === '/kakao/callback/1'), { timeoutMs: 55_000, what: 'the callback POST' });
    expect(callback.method).toBe('POST');
    expect(callback.headers['content-type']).toContain('application/json');
    expect(kakaoAccepts(callback.json)).toEqual([]);
    expect(callback.json).toEqual({ version: '2.0', template: { outputs: [{ simpleText: { text: '계산 끝: 1 2 3' } }] } });
    await stack.api.services.kakao.skill.settle();
    expect(stack.stub.requests.filter((r) => r.path === '/kakao/callback/1')).toHaveLength(1);
  });

  it('a tenant over its daily quota gets the Korean quota text, counted like any room call', async () => {
    const tenantId = (await shop.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id;
    await stack.pool.query(
      `insert into kb_usage_daily (tenant_id, day, room_calls) values ($1, $2, 100)
       on conflict (tenant_id, day) do update set room_calls = excluded.room_calls`,
      [tenantId, DAY],
    );
    const calls = stack.stub.requests.length;
    const res = await skill(channel.skillUrl, payload('날씨 부산'));
    expect(kakaoAccepts(res.body)).toEqual([]);
    expect(outputs(res)).toEqual([{ simpleText: { text: expect.stringContaining(QUOTA_TEXT) } }]);
    expect(stack.stub.requests.length).toBe(calls);
    const { rows } = await stack.pool.query('select room_calls from kb_usage_daily where tenant_id = $1 and day = $2', [tenantId, DAY]);
    expect(rows[0].room_calls).toBe(101);
    await stack.pool.query('update kb_usage_daily set room_calls = 0 where tenant_id = $1 and day = $2', [tenantId, DAY]);
  });

  it('the call is in /logs and in the live tail with source kakao-skill', async () => {
    const socket = io(`http://127.0.0.1:${stack.api.port}`, { path: '/socket.io', transports: ['websocket'], extraHeaders: { cookie: shop.cookie }, reconnection: false });
    sockets.push(socket);
    const tail: any[] = [];
    socket.on('tail:call', (c: unknown) => tail.push(c));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    expect(await socket.timeout(5000).emitWithAck('tail:join', {})).toEqual({ ok: true });

    const res = await skill(channel.skillUrl, payload('날씨 강릉'));
    expect(outputs(res)).toEqual([{ simpleText: { text: '🌤️ 강릉 날씨: 맑음, 15°C' } }]);
    const seen = await waitFor(() => tail.find((c) => c.text === '날씨 강릉'), { what: 'tail:call of the skill call' });
    expect(seen).toMatchObject({ source: 'kakao-skill', botId, command: '날씨', channelId: 'kakao:64a1eff0b1c2d3e4f5a6b7c8', reply: { type: 'text' } });

    const log = await waitFor(async () => (await shop.ok<{ items: any[] }>('GET', '/logs')).items.find((l) => l.eventId === seen.eventId), { what: 'the log row' });
    expect(log).toMatchObject({ source: 'kakao-skill', command: '날씨', channelId: 'kakao:64a1eff0b1c2d3e4f5a6b7c8', errorCode: null, statusCode: 200 });
    expect(log.text).toBe('날씨 강릉');
  });
});
