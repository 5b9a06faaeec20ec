import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/http-stub.js';
import { apiRoutes, fillPath, isIdSchema, routeName, type RouteSpec } from '../support/route-catalog.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 13, hole 5: bad ids and deep bodies answered 500. `/commands/99999999999999999999`,
 * `/logs/9223372036854775808` and `?before=1e22` reached PostgreSQL as bigints out of range,
 * `/commands/0x10` was command 16 (ajv coerces with `+x`), and `POST /runs` with `input`
 * nested 5,000 deep answered 500 (1,000-4,999 deep: the sandbox crashed on it).
 * Real stack with a sandbox runner (Docker): the deepest input the limit lets through runs.
 */
const JSON_DEPTH_LIMIT = 64;

/** Path ids that name nothing: every one is 404 KB_ERR_NOT_FOUND, on every route. */
const BAD_BIGINT_IDS = ['99999999999999999999', '9223372036854775808', '0x10', '1e1', '-1', '0', '007', ' 7', '7.0', '+7', '0b1', 'Infinity', 'NaN', '７'];
const BAD_UUIDS = ['not-a-uuid', 'urn:uuid:00000000-0000-4000-8000-000000000000', '{00000000-0000-4000-8000-000000000000}', '00000000000040008000000000000000', '00000000-0000-4000-8000-00000000000g'];

/** `{"a":{"a":...1...}}` with `levels` objects. */
const nested = (levels: number) => '{"a":'.repeat(levels - 1) + '{"a":1' + '}'.repeat(levels);

describe('hole 5: ids parsed strictly (404 / 400 with a code, never 500) and a JSON depth limit on every body', () => {
  let stack: Stack;
  let admin: TenantClient;
  let a: TenantClient;
  let routes: RouteSpec[];
  let commandIds: number[];

  const runsOf = async () => Number((await stack.pool.query('select count(*) from kb_runs')).rows[0].count);
  const raw = async (who: TenantClient, method: string, url: string, payload: string) => {
    const res = await stack.api.app.inject({
      method: method as 'POST',
      url: `/api/v1${url}`,
      headers: { cookie: who.cookie, 'x-csrf-token': who.csrfToken, 'content-type': 'application/json' },
      payload,
    });
    return { status: res.statusCode, body: res.json() as { error?: { code: string; message: string } } };
  };

  beforeAll(async () => {
    stack = await startStack('h13-ids', { '/h': json({ text: 'ok' }) }, { runner: true });
    admin = await TenantClient.signup(stack.api, 'h13-ids-admin@shop.example');
    a = await TenantClient.signup(stack.api, 'h13-ids-a@shop.example');
    // Up to command 16, so `0x10` has a command it could be mistaken for.
    commandIds = [];
    for (let i = 0; i < 16; i++) commandIds.push((await a.ok('POST', '/commands', { command: `명령${i}`, target: { type: 'http', url: stack.stub.url('/h') } })).id);
    routes = await apiRoutes(stack.api);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers the reported requests with 404 / 400 and a code, and 0x10 is not command 16', async () => {
    expect(commandIds).toContain(16);
    const found: Record<string, unknown> = {};
    for (const url of ['/commands/99999999999999999999', '/logs/9223372036854775808', '/commands/0x10', '/commands/16/stats?window=day&x=1'.replace('16', '0x10')]) {
      const r = await a.call('GET', url);
      found[url] = { status: r.status, code: r.body?.error?.code };
    }
    for (const url of ['/logs?before=1e22', '/logs?before=9223372036854775808', '/logs?commandId=0x10', '/logs?commandId=99999999999999999999', '/logs?before=-5']) {
      const r = await a.call('GET', url);
      found[url] = { status: r.status, code: r.body?.error?.code };
    }
    expect(found).toEqual({
      '/commands/99999999999999999999': { status: 404, code: 'KB_ERR_NOT_FOUND' },
      '/logs/9223372036854775808': { status: 404, code: 'KB_ERR_NOT_FOUND' },
      '/commands/0x10': { status: 404, code: 'KB_ERR_NOT_FOUND' },
      '/commands/0x10/stats?window=day&x=1': { status: 404, code: 'KB_ERR_NOT_FOUND' },
      '/logs?before=1e22': { status: 400, code: 'KB_ERR_VALIDATION' },
      '/logs?before=9223372036854775808': { status: 400, code: 'KB_ERR_VALIDATION' },
      '/logs?commandId=0x10': { status: 400, code: 'KB_ERR_VALIDATION' },
      '/logs?commandId=99999999999999999999': { status: 400, code: 'KB_ERR_VALIDATION' },
      '/logs?before=-5': { status: 400, code: 'KB_ERR_VALIDATION' },
    });
    // The column's whole range is a valid cursor; the decimal 16 is command 16.
    expect((await a.call('GET', '/logs?before=9223372036854775807')).status).toBe(200);
    expect((await a.ok('GET', '/commands/16')).id).toBe(16);
    // A body id out of range is refused by the schema, not by PostgreSQL.
    const rollback = await a.call('POST', '/commands/16/rollback', { version: 1e22 });
    expect({ status: rollback.status, code: rollback.body?.error?.code }).toEqual({ status: 400, code: 'KB_ERR_VALIDATION' });
    const run = await raw(a, 'POST', '/runs', '{"code":"def handle_command(params):\\n    return 1\\n","commandId":99999999999999999999}');
    expect({ status: run.status, code: run.body.error?.code }).toEqual({ status: 400, code: 'KB_ERR_VALIDATION' });
  });

  it('walks every route of the catalog: every malformed or out-of-range id in a path is 404 KB_ERR_NOT_FOUND, in a query 400 KB_ERR_VALIDATION', async () => {
    const wrong: string[] = [];
    let sent = 0;
    for (const r of routes) {
      const who = r.path.startsWith('/admin/') ? admin : a;
      for (const p of r.pathParams) {
        const schema = r.pathSchemas[p]!;
        const kind = isIdSchema(schema);
        if (!kind) continue;
        for (const bad of kind === 'uuid' ? BAD_UUIDS : BAD_BIGINT_IDS) {
          const params = Object.fromEntries(r.pathParams.map((q) => [q, q === p ? bad : 'x']));
          const res = await who.call(r.method as 'GET', fillPath(r.path, params), ['GET', 'DELETE'].includes(r.method) ? undefined : {});
          sent++;
          if (res.status !== 404 || res.body?.error?.code !== 'KB_ERR_NOT_FOUND') wrong.push(`${routeName(r)} ${p}=${bad}: ${res.status} ${res.body?.error?.code}`);
        }
      }
      if (r.method !== 'GET') continue;
      for (const q of r.query) {
        if (!isIdSchema(q.schema)) continue;
        for (const bad of BAD_BIGINT_IDS) {
          const params = Object.fromEntries(r.pathParams.map((p) => [p, p === 'id' ? commandIds[0]! : 'x']));
          const res = await who.call('GET', `${fillPath(r.path, params)}?${q.name}=${encodeURIComponent(bad)}`);
          sent++;
          if (res.status !== 400 || res.body?.error?.code !== 'KB_ERR_VALIDATION') wrong.push(`${routeName(r)} ?${q.name}=${bad}: ${res.status} ${res.body?.error?.code}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(sent).toBeGreaterThan(200);
  });

  it('refuses a body nested past the limit on every route with one (400 KB_ERR_INVALID_BODY naming the limit), before any schema or handler', async () => {
    const wrong: string[] = [];
    for (const r of routes.filter((x) => x.body && x.path !== '/auth/logout')) {
      const who = r.path.startsWith('/admin/') ? admin : a;
      const url = fillPath(r.path, Object.fromEntries(r.pathParams.map((p) => [p, p === 'id' ? (r.path.startsWith('/commands') ? commandIds[0]! : '00000000-0000-4000-8000-000000000000') : 'x'])));
      for (const levels of [JSON_DEPTH_LIMIT + 1, 5000]) {
        const res = await raw(who, r.method, url, nested(levels));
        if (res.status !== 400 || res.body.error?.code !== 'KB_ERR_INVALID_BODY' || !res.body.error.message.includes(String(JSON_DEPTH_LIMIT)))
          wrong.push(`${routeName(r)} ${levels} deep: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      }
      // Deep arrays count the same as deep objects, and brackets inside strings do not count.
      const arrays = await raw(who, r.method, url, '['.repeat(JSON_DEPTH_LIMIT + 1) + ']'.repeat(JSON_DEPTH_LIMIT + 1));
      if (arrays.body.error?.code !== 'KB_ERR_INVALID_BODY') wrong.push(`${routeName(r)} deep arrays: ${arrays.status} ${arrays.body.error?.code}`);
      const quoted = await raw(who, r.method, url, JSON.stringify({ zz: '{['.repeat(5000) }));
      if (quoted.body.error?.code === 'KB_ERR_INVALID_BODY') wrong.push(`${routeName(r)} brackets in a string counted as depth`);
    }
    expect(wrong).toEqual([]);
  });

  it('a deep run input answers 400 and never reaches the runner; the deepest input the limit allows runs', async () => {
    const code = [
      'def handle_command(params):',
      '    d, v = 0, params.get("x")',
      '    while isinstance(v, dict):',
      '        d, v = d + 1, v.get("a")',
      '    return "깊이 %d" % d',
      '',
    ].join('\n');
    const before = await runsOf();
    for (const levels of [JSON_DEPTH_LIMIT, 1000, 4999, 5000]) {
      const res = await raw(a, 'POST', '/runs', `{"code":${JSON.stringify(code)},"input":{"x":${nested(levels)}}}`);
      expect({ levels, status: res.status, code: res.body.error?.code }).toEqual({ levels, status: 400, code: 'KB_ERR_INVALID_BODY' });
      expect(res.body.error!.message).toMatch(/64/);
    }
    expect(await runsOf()).toBe(before);

    // body (1) > input (2) > x (3): x may hold 61 more levels.
    const deepest = JSON_DEPTH_LIMIT - 3;
    const ok = await raw(a, 'POST', '/runs', `{"code":${JSON.stringify(code)},"input":{"x":${nested(deepest)}}}`);
    expect(ok.status).toBe(202);
    const runId = (ok.body as unknown as { runId: string }).runId;
    const run = await waitFor(
      async () => {
        const r = await a.ok('GET', `/runs/${runId}`);
        return r.status === 'succeeded' || r.status === 'failed' ? r : undefined;
      },
      { what: 'the run at the depth limit ended', timeoutMs: 45_000 },
    );
    expect(run).toMatchObject({ status: 'succeeded', result: expect.objectContaining({ text: `깊이 ${deepest}` }) });
    expect(await runsOf()).toBe(before + 1);
  });
});
