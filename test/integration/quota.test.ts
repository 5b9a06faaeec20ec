import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBroker, envelope, messages, routingKeys, type AnalyzePayload, type Publisher } from '@domaeka/broker';
import { createLogger } from '@domaeka/core';
import { json } from '../support/http-stub.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 4, plans and quotas, through the real path (POST /messages?wait=1
 * -> broker -> dispatcher -> tenant API stub -> reply): daily room calls
 * per KST day against the plan's runs_per_day, the Korean quota message
 * and its log row, an administrator moving the tenant to premium, test runs
 * counted apart, and GET /usage. "Today" is injected: the API and the
 * dispatcher share a clock the test sets.
 */
const QUOTA_TEXT = '일일 실행 횟수를 초과했습니다';
/** 23:30 KST on 2 March 2026 (14:30 UTC): half an hour before the Korean day turns. */
const DAY = '2026-03-02';
let now = Date.parse('2026-03-02T14:30:00Z');

type Bot = { id: string; name: string };
type Usage = {
  plan: { id: string };
  today: { day: string; resetsAt: string; roomCalls: { used: number; limit: number }; testRuns: { used: number; limit: number } };
  days: { day: string; roomCalls: number; testRuns: number }[];
};
type Said = { eventId: string; status: string; reply: { type: string; text: string } | null };

describe('plans and quotas', () => {
  let stack: Stack;
  let admin: TenantClient;
  let publisher: Publisher;
  let closeBroker: () => Promise<void>;

  /** A free tenant with a bot and the command `에코 <word>` (the stub answers `응답 <word>`). */
  async function shop(email: string): Promise<{ client: TenantClient; bot: Bot; tenantId: string }> {
    const client = await TenantClient.signup(stack.api, email);
    const bot = await client.ok<Bot>('POST', '/bots', { name: `quota-${email.split('@')[0]}` });
    await client.ok('POST', '/commands', { command: '에코', pattern: '^에코\\s+(\\S+)$', target: { type: 'http', url: stack.stub.url('/echo') } });
    const me = await client.ok<{ tenant: { id: string } }>('GET', '/me');
    return { client, bot, tenantId: me.tenant.id };
  }

  const say = (client: TenantClient, bot: Bot, text: string, messageId?: string) =>
    client.ok<Said>('POST', '/messages?wait=1', { botName: bot.name, room: '테스트방', channelId: 'quota-room', sender: '홍길동', text, ...(messageId ? { messageId } : {}) });

  const counter = async (tenantId: string, day = DAY) =>
    (await stack.pool.query<{ room_calls: number; test_runs: number }>(`select room_calls, test_runs from kb_usage_daily where tenant_id = $1 and day = $2`, [tenantId, day]))
      .rows[0] ?? { room_calls: 0, test_runs: 0 };

  /** The 100 earlier calls of the day, written straight into the counter (sending them all would only be slow). */
  const seedCalls = (tenantId: string, roomCalls: number, day = DAY) =>
    stack.pool.query(
      `insert into kb_usage_daily (tenant_id, day, room_calls) values ($1, $2, $3)
       on conflict (tenant_id, day) do update set room_calls = excluded.room_calls`,
      [tenantId, day, roomCalls],
    );

  const echoes = () => stack.stub.requests.filter((r) => r.path === '/echo').length;

  beforeAll(async () => {
    stack = await startStack('quota', { '/echo': (req, res) => json({ text: `응답 ${String(req.json?.parameters?.[0])}` })(req, res) }, { clock: () => now });
    // The first account of the platform is its administrator.
    admin = await TenantClient.signup(stack.api, 'admin@quota.example', '운영자');
    const broker = await connectBroker({ url: stack.env.amqpUrl, prefix: stack.env.brokerPrefix, name: 'quota-test', logger: createLogger('quota-test', 'silent') });
    publisher = broker.publisher;
    closeBroker = () => broker.conn.close();
  });

  afterAll(async () => {
    await closeBroker?.();
    await stack?.close();
  });

  it('refuses the 101st call of a free tenant on one day in Korean, logs KB_ERR_QUOTA_EXCEEDED, and answers again once an admin makes it premium', async () => {
    const { client, bot, tenantId } = await shop('acceptance@quota.example');

    // Real calls are counted on the injected KST day.
    for (const word of ['하나', '둘', '셋']) expect((await say(client, bot, `에코 ${word}`)).reply?.text).toBe(`응답 ${word}`);
    expect(await counter(tenantId)).toMatchObject({ room_calls: 3 });
    let usage = await client.ok<Usage>('GET', '/usage');
    expect(usage.today).toMatchObject({ day: DAY, resetsAt: '2026-03-02T15:00:00.000Z', roomCalls: { used: 3, limit: 100 }, testRuns: { used: 0, limit: 200 } });

    // 100 calls so far today (3 sent, 97 written into the counter).
    await seedCalls(tenantId, 100);
    const before = echoes();
    const refused = await say(client, bot, '에코 넷');
    expect(refused.status).toBe('replied');
    expect(refused.reply?.text).toContain(QUOTA_TEXT);
    expect(echoes()).toBe(before); // the tenant's API was not called
    const row = await waitFor(async () => (await client.ok<{ items: any[] }>('GET', '/logs')).items.find((l) => l.eventId === refused.eventId), {
      what: 'log row of the refused call',
    });
    expect(row).toMatchObject({ errorCode: 'KB_ERR_QUOTA_EXCEEDED', statusCode: null });
    expect(row.errorMessage).toContain('101');

    // A tenant user may not change plans; the administrator may.
    const denied = await client.call('PATCH', `/admin/tenants/${tenantId}`, { planId: 'premium' });
    expect(denied.status).toBe(403);
    const moved = await admin.ok('PATCH', `/admin/tenants/${tenantId}`, { planId: 'premium' });
    expect(moved).toMatchObject({ id: tenantId, planId: 'premium', limits: { runsPerDay: 10_000, testRunsPerDay: 20_000 }, today: { day: DAY, roomCalls: 101 } });

    // The very next call is answered.
    const answered = await say(client, bot, '에코 다섯');
    expect(answered.reply?.text).toBe('응답 다섯');
    expect(echoes()).toBe(before + 1);
    usage = await client.ok<Usage>('GET', '/usage');
    expect(usage.plan.id).toBe('premium');
    expect(usage.today.roomCalls).toEqual({ used: 102, limit: 10_000 });
  });

  it('counts an event once however often it is delivered, and a chat message relayed twice once', async () => {
    const { client, bot, tenantId } = await shop('redelivery@quota.example');

    // The same analyze event published twice (a redelivery after a crash, as the broker does it).
    const payload: AnalyzePayload = {
      source: 'http',
      botId: bot.id,
      botName: bot.name,
      deviceId: null,
      deviceKey: null,
      room: '테스트방',
      channelId: 'quota-room',
      sender: '홍길동',
      senderHash: null,
      text: '에코 다시',
      isGroupChat: true,
      isMention: false,
      logId: null,
      sentAt: null,
      replyRoute: null,
    };
    const env = envelope(messages.analyze, payload);
    const before = echoes();
    await publisher.publish(messages.analyze, routingKeys.analyze, env);
    await stack.done((d) => d.eventId === env.id, 'first delivery');
    await publisher.publish(messages.analyze, routingKeys.analyze, env);
    await waitFor(() => stack.doneEvents.filter((d) => d.eventId === env.id).length === 2, { what: 'second delivery' });
    expect(stack.doneEvents.filter((d) => d.eventId === env.id).map((d) => d.reply?.text)).toEqual(['응답 다시', '응답 다시']);
    expect(echoes()).toBe(before + 1);
    expect(await counter(tenantId)).toMatchObject({ room_calls: 1 });

    // One chat message relayed twice (two phones of the bot: same KakaoTalk log id, two events).
    const first = await say(client, bot, '에코 한번', 'kakao-log-77');
    const second = await say(client, bot, '에코 한번', 'kakao-log-77');
    expect(first.reply?.text).toBe('응답 한번');
    expect(second).toMatchObject({ status: 'duplicate', reply: null });
    expect(await counter(tenantId)).toMatchObject({ room_calls: 2 });
    expect((await client.ok<Usage>('GET', '/usage')).today.roomCalls.used).toBe(2);
  });

  it('serves exactly up to the limit when calls arrive together (claims batched into one statement)', async () => {
    const { client, bot, tenantId } = await shop('together@quota.example');
    await seedCalls(tenantId, 97);
    const said = await Promise.all(['가', '나', '다', '라', '마'].map((w) => say(client, bot, `에코 ${w}`)));
    const texts = said.map((s) => s.reply?.text ?? '');
    expect(texts.filter((t) => t.startsWith('응답 '))).toHaveLength(3);
    expect(texts.filter((t) => t.includes(QUOTA_TEXT))).toHaveLength(2);
    expect(await counter(tenantId)).toMatchObject({ room_calls: 102 });
  });

  it('counts test runs apart from room calls, with their own limit (429 beyond it)', async () => {
    const { client, bot, tenantId } = await shop('runs@quota.example');
    const code = 'def handle_command(params):\n    return "안녕"\n';

    await say(client, bot, '에코 방');
    // No runner in this stack: the runs fail later (KB_ERR_NO_RUNNER) but each one started and counts.
    for (let i = 0; i < 2; i++) expect((await client.call('POST', '/runs', { code, input: {} })).status).toBe(202);
    let usage = await client.ok<Usage>('GET', '/usage');
    expect(usage.today.roomCalls).toEqual({ used: 1, limit: 100 });
    expect(usage.today.testRuns).toEqual({ used: 2, limit: 200 });

    await stack.pool.query(`update kb_usage_daily set test_runs = 200 where tenant_id = $1 and day = $2`, [tenantId, DAY]);
    const over = await client.call<{ error: { code: string; message: string; details: { limit: number } } }>('POST', '/runs', { code, input: {} });
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('KB_ERR_QUOTA_EXCEEDED');
    expect(over.body.error.message).toContain('일일 테스트 실행 횟수를 초과했습니다');
    expect(over.body.error.details.limit).toBe(200);
    // Room calls have their own limit: still answered.
    expect((await say(client, bot, '에코 여전히')).reply?.text).toBe('응답 여전히');
    usage = await client.ok<Usage>('GET', '/usage');
    expect(usage.today.roomCalls.used).toBe(2);
    expect(usage.today.testRuns.used).toBeGreaterThan(200);
  });

  it('keeps the admin routes to administrators, who see every tenant with its plan and usage of today', async () => {
    const { client, tenantId } = await shop('tenant-user@quota.example');
    const list = await client.call('GET', '/admin/tenants');
    expect(list.status).toBe(403);
    expect(list.body.error.code).toBe('KB_ERR_FORBIDDEN');
    // Forbidden before the body is even looked at, and nothing changed.
    const patch = await client.call('PATCH', `/admin/tenants/${tenantId}`, { planId: 'premium', extra: 'x' });
    expect(patch.status).toBe(403);
    expect((await client.ok<{ tenant: { plan: string } }>('GET', '/me')).tenant.plan).toBe('free');

    const tenants = await admin.ok<any[]>('GET', '/admin/tenants');
    const acceptance = tenants.find((t) => t.ownerEmail === 'acceptance@quota.example');
    expect(acceptance).toMatchObject({ planId: 'premium', today: { day: DAY, roomCalls: 102, testRuns: 0 } });
    expect(tenants.find((t) => t.id === tenantId)).toMatchObject({ planId: 'free', limits: { runsPerDay: 100, testRunsPerDay: 200 }, today: { roomCalls: 0 } });

    expect((await admin.call('PATCH', `/admin/tenants/${tenantId}`, { planId: 'platinum' })).status).toBe(400);
    expect((await admin.call('PATCH', '/admin/tenants/00000000-0000-7000-8000-000000000000', { planId: 'premium' })).status).toBe(404);
  });

  it('starts counting again when the Korean day turns (15:00 UTC)', async () => {
    const { client, bot, tenantId } = await shop('midnight@quota.example');
    await seedCalls(tenantId, 100);
    expect((await say(client, bot, '에코 늦게')).reply?.text).toContain(QUOTA_TEXT);

    now = Date.parse('2026-03-02T15:00:00Z'); // 00:00 KST, 3 March
    expect((await say(client, bot, '에코 자정')).reply?.text).toBe('응답 자정');
    expect(await counter(tenantId, '2026-03-03')).toMatchObject({ room_calls: 1 });
    const usage = await client.ok<Usage>('GET', '/usage');
    expect(usage.today).toMatchObject({ day: '2026-03-03', resetsAt: '2026-03-03T15:00:00.000Z', roomCalls: { used: 1, limit: 100 } });
    expect(usage.days).toHaveLength(7);
    expect(usage.days.slice(-2)).toEqual([
      { day: DAY, roomCalls: 101, testRuns: 0 },
      { day: '2026-03-03', roomCalls: 1, testRuns: 0 },
    ]);
    expect(usage.days[0]!.day).toBe('2026-02-25');
  });
});
