import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 12, fair share of editor test runs: a free tenant (B) past its
 * plan's test runs at once (2) or per minute (10) gets 429
 * KB_ERR_RATE_LIMITED with `retryAfterSec` and Retry-After, counted in
 * kb_throttle, while another tenant's (A's) room command is answered
 * meanwhile; the admin's "who is throttled" lists B, never A.
 */
const SLEEPY = 'import time\n\ndef handle_command(params):\n    time.sleep(3)\n    return "잘 잤다"\n';
const QUICK = 'def handle_command(params):\n    return "빠름"\n';
const GREET = 'def handle_command(params):\n    return "안녕하세요 " + params["parameters"][0]\n';

type Refused = { error: { code: string; message: string; details: { retryAfterSec: number; kind: string; limit: number } } };
type Throttled = { since: string; windowMinutes: number; tenants: { tenantId: string; tenantName: string; testRuns: { perMinute: number; concurrent: number }; roomCallsBusy: number }[] };

describe('test-run limits per tenant', () => {
  let stack: Stack;
  let admin: TenantClient;
  let a: TenantClient;
  let aBot: { id: string; name: string };

  /** A free tenant and its id. */
  async function shop(email: string, name: string): Promise<{ client: TenantClient; tenantId: string }> {
    const client = await TenantClient.signup(stack.api, email, name);
    const me = await client.ok<{ tenant: { id: string } }>('GET', '/me');
    return { client, tenantId: me.tenant.id };
  }

  /** POST /runs as the browser sends it, keeping the headers (Retry-After). */
  const postRun = async (client: TenantClient, code: string) => {
    const res = await stack.api.app.inject({
      method: 'POST',
      url: '/api/v1/runs',
      headers: { cookie: client.cookie, 'x-csrf-token': client.csrfToken },
      payload: { code, input: {} },
    });
    return { status: res.statusCode, body: res.json(), retryAfter: res.headers['retry-after'] };
  };

  /** A's room command through the real path (POST /messages?wait=1 -> dispatcher -> runner -> reply). */
  const greetA = (word: string) =>
    a.ok<{ status: string; reply: { text: string } | null }>('POST', '/messages?wait=1', { botName: aBot.name, room: '가게방', channelId: 'a-room', sender: '손님', text: `인사 ${word}` });

  const throttleRows = async (tenantId: string) =>
    (await stack.pool.query<{ kind: string; count: number }>(`select kind, sum(count)::int as count from kb_throttle where tenant_id = $1 group by kind`, [tenantId])).rows;

  beforeAll(async () => {
    stack = await startStack('run-limits', {}, { runner: true });
    admin = await TenantClient.signup(stack.api, 'admin@limits.example', '운영자'); // the first account is the administrator
    ({ client: a } = await shop('a@limits.example', '가게 A'));
    aBot = await a.ok('POST', '/bots', { name: 'limits-a' });
    await a.ok('POST', '/commands', { command: '인사', pattern: '^인사\\s+(\\S+)$', target: { type: 'sandbox', language: 'python', code: GREET } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('refuses runs beyond the plan’s two at once (429, retryAfterSec, Retry-After), while another tenant’s room command is answered', async () => {
    const { client: b, tenantId } = await shop('b1@limits.example', '가게 B1');
    // Four at once: the check and the insert are one locked transaction per tenant, so exactly two get in.
    const first = await Promise.all([0, 1, 2, 3].map(() => postRun(b, SLEEPY)));
    expect(first.map((r) => r.status).sort()).toEqual([202, 202, 429, 429]);
    const accepted = first.filter((r) => r.status === 202).map((r) => (r.body as { runId: string }).runId);

    // While B's two sleep: B is refused again, A's room command is answered.
    const refused = await postRun(b, QUICK);
    expect(refused.status).toBe(429);
    const err = (refused.body as Refused).error;
    expect(err.code).toBe('KB_ERR_RATE_LIMITED');
    expect(err.details.kind).toBe('test_runs_concurrent');
    expect(err.details.limit).toBe(2);
    expect(err.details.retryAfterSec).toBeGreaterThan(0);
    // No run of the free plan lasts past its deadline: 5 s + 2 s of overhead.
    expect(err.details.retryAfterSec).toBeLessThanOrEqual(7);
    expect(refused.retryAfter).toBe(String(err.details.retryAfterSec));
    expect(err.message).toMatch(/^동시에 실행할 수 있는 테스트는 2개까지입니다\. \d+초 후에 다시 실행해 주세요/);
    expect((await greetA('하나')).reply?.text).toBe('안녕하세요 하나');

    const rows = await stack.pool.query<{ id: string; status: string }>(`select id, status from kb_runs where tenant_id = $1`, [tenantId]);
    expect(rows.rows.map((r) => r.id).sort()).toEqual([...accepted].sort()); // refused runs left no row
    expect(await throttleRows(tenantId)).toEqual([{ kind: 'test_runs_concurrent', count: 3 }]);

    // Once they end, B runs again.
    for (const id of accepted) {
      await waitFor(async () => ['succeeded', 'failed'].includes((await b.ok<{ status: string }>('GET', `/runs/${id}`)).status), { timeoutMs: 30_000, what: `run ${id} ends` });
    }
    expect((await postRun(b, QUICK)).status).toBe(202);
  });

  it('refuses the 11th run of a minute with the seconds until the oldest leaves the window', async () => {
    const { client: b, tenantId } = await shop('b2@limits.example', '가게 B2');
    // Nine runs of this minute, ended, the oldest 50 s ago (sending them all would only be slow).
    await stack.pool.query(
      `insert into kb_runs (id, tenant_id, status, code, input, created_at, finished_at)
       select gen_random_uuid(), $1, 'succeeded', 'x', '{}', now() - make_interval(secs => 50 - i), now() from generate_series(0, 8) as i`,
      [tenantId],
    );
    const tenth = await postRun(b, QUICK);
    expect(tenth.status).toBe(202);
    const eleventh = await postRun(b, QUICK);
    expect(eleventh.status).toBe(429);
    const err = (eleventh.body as Refused).error;
    expect(err).toMatchObject({ code: 'KB_ERR_RATE_LIMITED', details: { kind: 'test_runs_per_minute', limit: 10 } });
    // The oldest run leaves the window ~10 s from now.
    expect(err.details.retryAfterSec).toBeGreaterThanOrEqual(8);
    expect(err.details.retryAfterSec).toBeLessThanOrEqual(11);
    expect(eleventh.retryAfter).toBe(String(err.details.retryAfterSec));
    expect(err.message).toContain('테스트 실행이 너무 잦습니다 (1분에 10회까지)');
    expect((await greetA('둘')).reply?.text).toBe('안녕하세요 둘');
    expect(await throttleRows(tenantId)).toEqual([{ kind: 'test_runs_per_minute', count: 1 }]);
    // The daily quota is still counted (every run asked for).
    const usage = await b.ok<{ today: { testRuns: { used: number } } }>('GET', '/usage');
    expect(usage.today.testRuns.used).toBe(2);
  });

  it('lists the throttled tenants to administrators (B, never A), and to nobody else', async () => {
    const throttled = await admin.ok<Throttled>('GET', '/admin/throttled');
    expect(throttled.windowMinutes).toBe(15);
    const names = throttled.tenants.map((t) => t.tenantName).sort();
    expect(names).toEqual(['가게 B1', '가게 B2']);
    expect(throttled.tenants.find((t) => t.tenantName === '가게 B1')).toMatchObject({ testRuns: { perMinute: 0, concurrent: 3 }, roomCallsBusy: 0 });
    expect(throttled.tenants.find((t) => t.tenantName === '가게 B2')).toMatchObject({ testRuns: { perMinute: 1, concurrent: 0 } });
    const denied = await a.call('GET', '/admin/throttled');
    expect(denied.status).toBe(403);
  });

  it('describes the 429 of POST /runs in the OpenAPI document, with Retry-After', async () => {
    const spec = (await stack.api.app.inject({ method: 'GET', url: '/api/docs/json' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: { properties: Record<string, any> } }> }> }>>;
    };
    const r429 = spec.paths['/api/v1/runs']!.post!.responses['429']!;
    expect(Object.keys(r429.headers ?? {})).toEqual(['Retry-After']);
    const details = r429.content!['application/json']!.schema.properties.error.properties.details.properties;
    expect(Object.keys(details)).toEqual(expect.arrayContaining(['retryAfterSec', 'kind', 'limit']));
  });
});
