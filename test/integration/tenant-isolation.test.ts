import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { json } from '../support/http-stub.js';
import { connectPhone } from '../support/phone.js';
import { apiRoutes, fillPath, routeName, sampleOf, type RouteSpec } from '../support/route-catalog.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { dropTenantRoles } from '../support/tenant-roles.js';
import { waitFor } from '../support/wait.js';

/**
 * Acceptance (issue 4, item 2): every route and every socket room, walked as
 * tenant B against tenant A's objects, answers 404 (403 for admin routes)
 * and changes nothing of A's. The routes come from the API's own OpenAPI
 * document, so a route added tomorrow is walked too, or this test names it
 * as one it does not know how to aim at A.
 */

/** Routes that hold no tenant's data, and why they are not aimed at A. */
const NOT_TENANT_DATA: Record<string, string> = {
  'POST /auth/signup': 'creates an account; no existing object involved',
  'POST /auth/login': 'public; answers for the credentials given',
  'POST /auth/logout': "ends the caller's own session (would end B's walk)",
  'GET /templates': 'the platform-wide template library',
  'GET /templates/{id}': 'the platform-wide template library',
  'GET /bridge-script/{token}': "public; the single-use token is the credential and B never holds A's (services/api/test/bridge-script.test.ts)",
  'PUT /data/store/{key}': "writes a key of the caller's own store (keys are per tenant): viewOfA shows A's key of that name unchanged",
};

interface TenantA {
  tenantId: string;
  botId: string;
  botName: string;
  deviceId: string;
  channelId: string;
  commandId: number;
  commandWord: string;
  secretName: string;
  apiKeyId: string;
  apiKeyPrefix: string;
  runId: string;
  eventId: string;
  logId: number;
  scheduleId: string;
  tableName: string;
  storeKey: string;
}

describe('tenant isolation: every route and socket room, as tenant B against tenant A', () => {
  let stack: Stack;
  let admin: TenantClient;
  let a: TenantClient;
  let b: TenantClient;
  let bTenantId = '';
  let A: TenantA;
  let routes: RouteSpec[];
  const sockets: Socket[] = [];

  /** What A sees of its own things: compared before and after B's walk. */
  const viewOfA = async () => {
    const paths = [
      '/me',
      '/commands',
      `/commands/${A.commandId}`,
      `/commands/${A.commandId}/versions`,
      '/bots',
      `/bots/${A.botId}`,
      `/bots/${A.botId}/devices`,
      `/bots/${A.botId}/rooms`,
      '/secrets',
      '/egress',
      '/api-keys',
      `/runs/${A.runId}`,
      `/messages/${A.eventId}`,
      '/logs',
      `/logs/${A.logId}`,
      '/usage',
      '/schedules',
      `/schedules/${A.scheduleId}`,
      '/data/tables',
      `/data/tables/${encodeURIComponent(A.tableName)}/rows`,
      '/data/store',
    ];
    const out: Record<string, unknown> = {};
    for (const p of paths) out[p] = await a.ok('GET', p);
    // What the phone itself reports (ping round trip, memory) may still land after it hung up; B can change none of it.
    const devices = out[`/bots/${A.botId}/devices`] as Record<string, unknown>[];
    out[`/bots/${A.botId}/devices`] = devices.map(({ lastSeenAt: _seen, monitoring: _m, rttMs: _rtt, ...rest }) => rest);
    return out;
  };

  beforeAll(async () => {
    stack = await startStack('isolation', { '/iso': json({ text: '격리 응답' }) });
    admin = await TenantClient.signup(stack.api, 'iso-admin@shop.example');
    a = await TenantClient.signup(stack.api, 'iso-a@shop.example', '가게 A');
    b = await TenantClient.signup(stack.api, 'iso-b@shop.example', '가게 B');
    bTenantId = (await b.ok('GET', '/me')).tenant.id;
    expect((await admin.ok('GET', '/me')).isAdmin).toBe(true);
    expect((await b.ok('GET', '/me')).isAdmin).toBe(false);

    const me = await a.ok('GET', '/me');
    const bot = await a.ok('POST', '/bots', { name: 'LOA.isoA' });
    const command = await a.ok('POST', '/commands', { command: '격리확인', pattern: '^격리확인\\s+(\\S+)', target: { type: 'http', url: stack.stub.url('/iso') } });
    await a.ok('PATCH', `/commands/${command.id}`, { description: '두 번째 판' });
    await a.ok('POST', '/secrets', { name: 'ISO_A_SECRET', value: 'a-only-value' });
    await a.ok('PUT', '/egress', { domains: ['a-only.example.com'] });
    const key = await a.ok('POST', '/api-keys', { name: 'A의 스크립트' });
    const run = await a.ok('POST', '/runs', { code: 'def handle_command(params):\n    return "A"\n', input: {} });
    // No runner in this stack: the run ends as KB_ERR_NO_RUNNER; let it settle before A's view is taken.
    await waitFor(async () => !['queued', 'running'].includes((await a.ok('GET', `/runs/${run.runId}`)).status), { what: "A's run settled" });

    // A phone of A's in a room of A's, and one call through the path: a device, a room and a log row.
    const phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'android-iso-a', secretKey: bot.secretKey, salt: bot.salt });
    await a.approveDevice(bot.id, 'android-iso-a');
    phone.sendMessage({ room: 'A의 단골방', channelId: '7100', text: '격리확인 하나', logId: '71001' });
    expect(await phone.nextReply()).toBe('격리 응답');
    phone.destroy();
    const eventRes = await stack.api.app.inject({
      method: 'POST',
      url: '/api/v1/messages?wait=1',
      headers: { authorization: `Bearer ${key.key}` },
      payload: { botName: bot.name, room: 'A의 단골방', channelId: '7100', sender: '손님', text: '격리확인 둘' },
    });
    expect(eventRes.statusCode).toBe(200);
    const logs = await a.ok('GET', '/logs');
    expect(logs.items.length).toBeGreaterThanOrEqual(2);
    await a.ok('POST', '/data/import', { filename: 'a.csv', content: Buffer.from('이름,값\nA의 행,a-only-row\n').toString('base64'), table: 'A의표', mode: 'create', primaryKey: true });
    await a.ok('PUT', `/data/store/${encodeURIComponent('A의키')}`, { value: 'a-only-store' });
    const schedule = await a.ok('POST', '/schedules', { commandId: command.id, phrase: '매일 오전 9시', rooms: [{ botId: bot.id, channelId: '7100' }] });

    A = {
      tenantId: me.tenant.id,
      botId: bot.id,
      botName: bot.name,
      deviceId: 'android-iso-a',
      channelId: '7100',
      commandId: command.id,
      commandWord: '격리확인',
      secretName: 'ISO_A_SECRET',
      apiKeyId: key.id,
      apiKeyPrefix: key.prefix,
      runId: run.runId,
      eventId: eventRes.json().eventId,
      logId: logs.items[0].id,
      scheduleId: schedule.id,
      tableName: 'A의표',
      storeKey: 'A의키',
    };
    routes = await apiRoutes(stack.api);
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await stack?.close();
    // A's table and B's walk of the 데이터 routes made their schemas' roles, which are the cluster's.
    await dropTenantRoles([A?.tenantId, bTenantId].filter((x): x is string => !!x));
  });

  /** A's object for each path parameter, by the route's first segment. */
  const paramsFor = (r: RouteSpec): Record<string, string | number> | null => {
    const group = r.path.split('/')[1];
    const id: Record<string, string | number | undefined> = {
      commands: A.commandId,
      bots: A.botId,
      'api-keys': A.apiKeyId,
      runs: A.runId,
      logs: A.logId,
      schedules: A.scheduleId,
      admin: r.path.startsWith('/admin/tenants') ? A.tenantId : 1,
    };
    const out: Record<string, string | number> = {};
    for (const p of r.pathParams) {
      const v = p === 'deviceId' ? A.deviceId : p === 'channelId' ? A.channelId : p === 'name' ? (group === 'data' ? A.tableName : A.secretName) : p === 'key' ? A.storeKey : p === 'eventId' ? A.eventId : p === 'id' ? id[group!] : undefined;
      if (v === undefined) return null;
      out[p] = v;
    }
    return out;
  };

  /** Bodies that point at A's things where a route takes a reference in its body. */
  const bodyFor = (r: RouteSpec): unknown => {
    const name = routeName(r);
    if (name === 'POST /runs') return { code: 'def handle_command(params):\n    return "B"\n', input: {}, commandId: A.commandId };
    if (name === 'POST /messages') return { botName: A.botName, room: 'B가 보냄', channelId: A.channelId, sender: 'B', text: '격리확인 셋' };
    if (name === 'PATCH /commands/{id}') return { description: 'B가 바꿈' };
    if (name === 'PATCH /bots/{id}') return { name: 'B가 바꾼 이름' };
    if (name === 'PATCH /admin/tenants/{id}') return { planId: 'premium' };
    if (name === 'POST /bots') return { name: A.botName };
    return r.body ? sampleOf(r.body) : undefined;
  };
  const queryFor = (r: RouteSpec): string => (routeName(r) === 'GET /logs' || routeName(r) === 'GET /commands/{id}/stats' ? `?commandId=${A.commandId}` : '');

  const markersOfA = () => [A.tenantId, A.botId, A.botName, A.commandWord, A.secretName, A.apiKeyPrefix, A.runId, A.eventId, A.deviceId, 'A의 단골방', 'a-only-value', 'a-only.example.com', 'a-only-row', 'a-only-store', 'A의표'];

  it('answers 404 (403 for admin routes) on every route aimed at A, shows B nothing of A, and changes nothing', async () => {
    const before = await viewOfA();
    const walked: string[] = [];
    const unknown: string[] = [];
    const wrong: string[] = [];
    for (const r of routes) {
      const name = routeName(r);
      if (NOT_TENANT_DATA[name]) continue;
      const params = paramsFor(r);
      if (!params) {
        unknown.push(name);
        continue;
      }
      const url = fillPath(r.path, params) + queryFor(r);
      const res = await b.call(r.method as 'GET', url, r.method === 'GET' || (r.method === 'DELETE' && !r.body) ? undefined : bodyFor(r));
      walked.push(`${name} -> ${res.status}`);
      const text = JSON.stringify(res.body ?? null);
      const aimedAtA = r.pathParams.length > 0 || ['POST /runs', 'POST /messages'].includes(name);
      if (r.path.startsWith('/admin/')) {
        if (res.status !== 403 || res.body?.error?.code !== 'KB_ERR_FORBIDDEN') wrong.push(`${name}: ${res.status} ${text}`);
      } else if (aimedAtA) {
        if (![403, 404].includes(res.status) || !String(res.body?.error?.code).startsWith('KB_ERR_')) wrong.push(`${name}: ${res.status} ${text}`);
      } else if (name === 'POST /bots') {
        // Bot names are unique across the platform (phones identify by name): taken, and nothing more said.
        if (res.status !== 409) wrong.push(`${name}: ${res.status} ${text}`);
      } else if (res.status >= 500 && !(res.status === 503 && res.body?.error?.code === 'KB_ERR_NO_RUNNER')) {
        // (This stack runs no sandbox runner: B's own lint answers that no runner is there, which is no leak.)
        wrong.push(`${name}: ${res.status} ${text}`);
      }
      if (res.status < 300) for (const m of markersOfA()) if (text.includes(m)) wrong.push(`${name} showed B "${m}": ${text.slice(0, 300)}`);
    }
    expect(unknown, 'routes this test cannot aim at A: give them a parameter in paramsFor').toEqual([]);
    expect(wrong).toEqual([]);
    expect(walked.length).toBeGreaterThanOrEqual(35);
    expect(await viewOfA()).toEqual(before);
    // The stub saw only A's two calls: B's attempt to speak as A's bot went nowhere.
    expect(stack.stub.requests.filter((q) => q.path === '/iso')).toHaveLength(2);
  });

  it("refuses B every socket room of A's (runs, the tail of A's command) and the admin feed", async () => {
    const socket = io(`http://127.0.0.1:${stack.api.port}`, {
      path: '/socket.io',
      transports: ['websocket'],
      extraHeaders: { cookie: b.cookie },
      reconnection: false,
    });
    sockets.push(socket);
    const seen: string[] = [];
    socket.onAny((event: string) => seen.push(event));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const ask = (event: string, arg: unknown) => socket.timeout(5000).emitWithAck(event, arg) as Promise<{ ok: boolean; error?: { code: string } }>;
    expect(await ask('run:join', { runId: A.runId })).toMatchObject({ ok: false, error: { code: 'KB_ERR_NOT_FOUND' } });
    expect(await ask('tail:join', { commandId: A.commandId })).toMatchObject({ ok: false, error: { code: 'KB_ERR_NOT_FOUND' } });
    expect(await ask('admin:join', {})).toMatchObject({ ok: false, error: { code: 'KB_ERR_FORBIDDEN' } });
    expect(seen).toEqual([]);
  });
});
