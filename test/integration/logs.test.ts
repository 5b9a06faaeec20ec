import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kstDay } from '@domaeka/core';
import { json } from '../support/http-stub.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 4 item 8, logs and analytics, through the real path (POST
 * /messages?wait=1 -> broker -> dispatcher -> tenant API stub -> log row):
 * the stub answers `지연 <ms>` after <ms> and `지연 <ms> 실패` with HTTP 500
 * after <ms>; `먹통` never answers (its command times out after 300 ms).
 * The filters of GET /logs, GET /logs/:id, per-command statistics and the
 * usage history are checked against those known calls, and a second tenant
 * sees none of it.
 */
type Bot = { id: string; name: string };
type Log = {
  id: number;
  commandId: number | null;
  command: string | null;
  room: string | null;
  sender: string | null;
  text: string | null;
  requestData: string | null;
  responseData: string | null;
  statusCode: number | null;
  responseTimeMs: number | null;
  errorCode: string | null;
};
type Page = { items: Log[]; nextBefore: number | null };
const DAY_MS = 86_400_000;

describe('logs and analytics', () => {
  let stack: Stack;
  let a: TenantClient;
  let b: TenantClient;
  let aTenant: string;
  let bTenant: string;
  let bot: Bot;
  const cmd: Record<'delay' | 'hang' | 'unused', number> = { delay: 0, hang: 0, unused: 0 };
  /** The database clock between the first two calls and the rest. */
  let mark: Date;

  const say = (text: string) =>
    a.ok<{ eventId: string; status: string }>('POST', '/messages?wait=1', { botName: bot.name, room: '분석방', channelId: 'logs-room', sender: '김철수', text });
  const logs = (query = '') => a.ok<Page>('GET', `/logs${query}`);
  const texts = (p: Page) => p.items.map((l) => l.text);
  const logCount = async (n: number) => waitFor(async () => (await logs()).items.length === n, { what: `${n} log rows` });

  beforeAll(async () => {
    stack = await startStack('logs', {
      '/delay': (req, res) => {
        const [ms, fail] = (req.json?.parameters ?? []) as string[];
        setTimeout(() => json(fail ? { error: 'boom' } : { text: `응답 ${ms}` }, fail ? 500 : 200)(req, res), Number(ms));
      },
      // Never answers: the dispatcher gives up at the command's timeout.
      '/hang': () => undefined,
    });
    a = await TenantClient.signup(stack.api, 'a@logs.example');
    b = await TenantClient.signup(stack.api, 'b@logs.example', '다른 상점');
    aTenant = (await a.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id;
    bTenant = (await b.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id;
    bot = await a.ok<Bot>('POST', '/bots', { name: 'logs-bot-a' });
    cmd.delay = (await a.ok('POST', '/commands', { command: '지연', target: { type: 'http', url: stack.stub.url('/delay') } })).id;
    cmd.hang = (await a.ok('POST', '/commands', { command: '먹통', timeoutMs: 300, target: { type: 'http', url: stack.stub.url('/hang') } })).id;
    cmd.unused = (await a.ok('POST', '/commands', { command: '안씀', target: { type: 'http', url: stack.stub.url('/delay') } })).id;

    await say('지연 50');
    await say('지연 100');
    await logCount(2);
    mark = (await stack.pool.query<{ t: Date }>('select clock_timestamp() as t')).rows[0]!.t;
    await say('지연 150');
    await say('지연 200');
    await say('지연 300 실패');
    await say('먹통');
    await logCount(6);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('lists calls with their command word, room, sender and text, and filters them exactly', async () => {
    const all = await logs();
    expect(texts(all)).toEqual(['먹통', '지연 300 실패', '지연 200', '지연 150', '지연 100', '지연 50']);
    expect(all.items[2]).toMatchObject({ commandId: cmd.delay, command: '지연', room: '분석방', sender: '김철수', statusCode: 200, errorCode: null, responseData: '{"text":"응답 200"}' });
    expect(all.items[0]).toMatchObject({ commandId: cmd.hang, command: '먹통', errorCode: 'KB_ERR_TIMEOUT', statusCode: null });
    expect(all.items[1]).toMatchObject({ errorCode: 'KB_ERR_TARGET_STATUS', statusCode: 500 });

    expect(texts(await logs('?status=error'))).toEqual(['먹통', '지연 300 실패']);
    expect(texts(await logs('?status=ok'))).toEqual(['지연 200', '지연 150', '지연 100', '지연 50']);
    expect(texts(await logs('?errorCode=KB_ERR_TIMEOUT'))).toEqual(['먹통']);
    expect(texts(await logs('?status=error&errorCode=KB_ERR_TARGET_STATUS'))).toEqual(['지연 300 실패']);
    expect(texts(await logs('?status=ok&errorCode=KB_ERR_TARGET_STATUS'))).toEqual([]);
    expect(texts(await logs(`?commandId=${cmd.hang}`))).toEqual(['먹통']);
    expect(texts(await logs(`?commandId=${cmd.delay}&status=error`))).toEqual(['지연 300 실패']);
    expect(texts(await logs(`?from=${encodeURIComponent(mark.toISOString())}`))).toEqual(['먹통', '지연 300 실패', '지연 200', '지연 150']);
    expect(texts(await logs(`?to=${encodeURIComponent(mark.toISOString())}`))).toEqual(['지연 100', '지연 50']);
    expect(texts(await logs(`?from=${encodeURIComponent(new Date(Date.now() + DAY_MS).toISOString())}`))).toEqual([]);
    expect(texts(await logs(`?q=${encodeURIComponent('실패')}`))).toEqual(['지연 300 실패']);
    // A wildcard is a literal character, not "anything" (unescaped, `지연_5` would match `지연 50`).
    expect(texts(await logs(`?q=${encodeURIComponent('지연%')}`))).toEqual([]);
    expect(texts(await logs(`?q=${encodeURIComponent('지연_5')}`))).toEqual([]);

    // Paging keeps the filter.
    const p1 = await logs('?status=ok&limit=3');
    expect(texts(p1)).toEqual(['지연 200', '지연 150', '지연 100']);
    expect(texts(await logs(`?status=ok&limit=3&before=${p1.nextBefore}`))).toEqual(['지연 50']);
  });

  it('shows one call whole, and another tenant none of them', async () => {
    const [newest] = (await logs('?errorCode=KB_ERR_TARGET_STATUS')).items;
    const one = await a.ok<Log>('GET', `/logs/${newest!.id}`);
    expect(one).toMatchObject({ id: newest!.id, command: '지연', text: '지연 300 실패', statusCode: 500, responseData: '{"error":"boom"}' });
    expect(JSON.parse(one.requestData!)).toMatchObject({ command: '지연', parameters: ['300', '실패'], room: '분석방', sender: '김철수' });

    expect(await b.ok<Page>('GET', '/logs')).toEqual({ items: [], nextBefore: null });
    expect(await b.ok<Page>('GET', `/logs?commandId=${cmd.delay}`)).toEqual({ items: [], nextBefore: null });
    const other = await b.call('GET', `/logs/${newest!.id}`);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('KB_ERR_NOT_FOUND');
    expect((await a.call('GET', '/logs/999999999')).status).toBe(404);
  });

  it("computes a command's calls, errors and response times in SQL, per window", async () => {
    const s = await a.ok('GET', `/commands/${cmd.delay}/stats?window=hour`);
    expect(s).toMatchObject({ window: 'hour', commandId: cmd.delay, calls: 5, errors: 1, errorRate: 0.2 });
    // The stub waited 50..300 ms: percentile_cont over [50,100,150,200,300] is 150 (p50) and 280 (p95), plus our overhead.
    expect(s.p50Ms).toBeGreaterThanOrEqual(150);
    expect(s.p95Ms).toBeGreaterThanOrEqual(280);
    expect(s.avgMs).toBeGreaterThanOrEqual(160);
    // Exactly the figures of the five rows' own response times (p95: position 0.95 x 4 = 3.8, between the 4th and 5th);
    // how long our overhead is, is the bench's business.
    const took = (await logs(`?commandId=${cmd.delay}`)).items.map((l) => l.responseTimeMs!).sort((x, y) => x - y);
    expect(took).toHaveLength(5);
    expect(s.p50Ms).toBe(took[2]);
    expect(s.p95Ms).toBe(Math.round(took[3]! + 0.8 * (took[4]! - took[3]!)));
    expect(s.avgMs).toBe(Math.round(took.reduce((n, t) => n + t, 0) / 5));
    // 5-minute points over the last hour, oldest first, every call in one of them.
    expect(s.series.length).toBeGreaterThanOrEqual(12);
    expect(s.series.length).toBeLessThanOrEqual(13);
    const ts = s.series.map((p: { t: string }) => Date.parse(p.t));
    expect(ts).toEqual([...ts].sort((x, y) => x - y));
    expect(s.series.reduce((n: number, p: { calls: number }) => n + p.calls, 0)).toBe(5);
    expect(s.series.reduce((n: number, p: { errors: number }) => n + p.errors, 0)).toBe(1);

    const week = await a.ok('GET', `/commands/${cmd.delay}/stats?window=week`);
    expect(week).toMatchObject({ window: 'week', calls: 5, errors: 1 });
    expect(week.series.length).toBeGreaterThanOrEqual(7);
    expect(await a.ok('GET', `/commands/${cmd.hang}/stats`)).toMatchObject({ window: 'day', calls: 1, errors: 1, errorRate: 1 });
    const idle = await a.ok('GET', `/commands/${cmd.unused}/stats?window=day`);
    expect(idle).toMatchObject({ calls: 0, errors: 0, errorRate: 0, p50Ms: null, p95Ms: null, avgMs: null });
    expect(idle.series.every((p: { calls: number }) => p.calls === 0)).toBe(true);

    const list = await a.ok('GET', '/stats/commands?window=day');
    expect(list.window).toBe('day');
    expect(list.items.map((i: { command: string; calls: number; errors: number; errorRate: number }) => [i.command, i.calls, i.errors, i.errorRate])).toEqual([
      ['지연', 5, 1, 0.2],
      ['먹통', 1, 1, 1],
      ['안씀', 0, 0, 0],
    ]);
    expect(list.items[0].p50Ms).toBe(s.p50Ms);
  });

  it("keeps a deleted command's word on its logs and statistics, and hides both from another tenant", async () => {
    const gone = (await a.ok('POST', '/commands', { command: '임시', target: { type: 'http', url: stack.stub.url('/delay') } })).id;
    await say('임시 10');
    await logCount(7);
    await a.ok('DELETE', `/commands/${gone}`);
    expect((await logs(`?commandId=${gone}`)).items.map((l) => l.command)).toEqual(['임시']);
    expect(await a.ok('GET', `/commands/${gone}/stats`)).toMatchObject({ calls: 1 });
    expect((await a.ok('GET', '/stats/commands')).items.map((i: { command: string }) => i.command)).toEqual(['지연', '먹통', '안씀']);

    for (const id of [cmd.delay, gone]) {
      const r = await b.call('GET', `/commands/${id}/stats`);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('KB_ERR_NOT_FOUND');
    }
    const own = (await b.ok('POST', '/commands', { command: '지연', target: { type: 'http', url: stack.stub.url('/delay') } })).id;
    expect((await b.ok('GET', '/stats/commands?window=week')).items).toEqual([
      { commandId: own, command: '지연', calls: 0, errors: 0, errorRate: 0, p50Ms: null, p95Ms: null },
    ]);
  });

  it('refuses invalid query parameters with KB_ERR_VALIDATION', async () => {
    for (const url of [
      '/logs?status=failed',
      '/logs?errorCode=timeout',
      '/logs?from=yesterday',
      '/logs?to=2026-13-45T99:00:00Z',
      '/logs?limit=0',
      '/logs?commandId=abc',
      `/logs?q=${'가'.repeat(101)}`,
      `/commands/${cmd.delay}/stats?window=month`,
      '/stats/commands?window=',
      '/usage/history?days=0',
      '/usage/history?days=91',
      '/usage/history?days=seven',
    ]) {
      const r = await a.call('GET', url);
      expect({ url, status: r.status, code: r.body?.error?.code }).toEqual({ url, status: 400, code: 'KB_ERR_VALIDATION' });
    }
    // A path id that cannot name a row is not found (issue 13: ids parsed strictly).
    expect((await a.call('GET', '/logs/abc')).body.error.code).toBe('KB_ERR_NOT_FOUND');
  });

  it('charts executions and test runs per KST day, zero-filled, per tenant', async () => {
    const now = Date.now();
    const day = (daysAgo: number) => kstDay(now - daysAgo * DAY_MS);
    await stack.pool.query(`insert into kb_usage_daily (tenant_id, day, room_calls, test_runs) values ($1, $2, 7, 2), ($3, $4, 9, 0)`, [
      aTenant,
      day(3),
      bTenant,
      day(5),
    ]);

    const h = await a.ok<{ items: { day: string; executions: number; testRuns: number }[] }>('GET', '/usage/history');
    expect(h.items).toHaveLength(30);
    expect(h.items.at(-1)!.day).toBe(day(0));
    expect(h.items[0]!.day).toBe(day(29));
    expect(h.items[26]).toEqual({ day: day(3), executions: 7, testRuns: 2 });
    expect(h.items[24]).toEqual({ day: day(5), executions: 0, testRuns: 0 });
    // The seven room calls of this file, all of today (or, around midnight KST, of today and yesterday).
    const recent = h.items.filter((i) => i.day !== day(3));
    expect(recent.reduce((n, i) => n + i.executions, 0)).toBe(7);
    expect(recent.filter((i) => i.executions > 0).every((i) => i.day === day(0) || i.day === day(1))).toBe(true);

    const short = await a.ok('GET', '/usage/history?days=1');
    expect(short.items).toEqual([h.items.at(-1)]);
    const other = await b.ok<{ items: { day: string; executions: number }[] }>('GET', '/usage/history?days=7');
    expect(other.items.map((i) => i.executions)).toEqual([0, 9, 0, 0, 0, 0, 0]);
  });
});
