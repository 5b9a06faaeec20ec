import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/http-stub.js';
import { apiRoutes, fillPath, routeName, sampleOf, wrongTypeFor, type RouteSpec, type Schema } from '../support/route-catalog.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { dropTenantRoles } from '../support/tenant-roles.js';

/**
 * Acceptance (issue 4): hostile input to every route (wrong types, huge
 * bodies, unknown fields, SQL-ish strings, invalid UTF-8) gets a 4xx with a
 * clear `KB_ERR_*` code and changes nothing. Every request here is the
 * owner's own, aimed at its own objects, so only the input is wrong.
 */
const SQLISH = ["1' OR '1'='1", '1; DROP TABLE commands; --', "'); DELETE FROM users; --", '%00%27', '../../etc/passwd'];

/** Ends the caller's session; walked by the auth tests instead. */
const SKIP = new Set(['POST /auth/logout']);
/**
 * Public routes a phone's browser opens: any token that is not a live link is
 * one and the same plain-text 404 (no hint whether it was unknown, used or
 * expired; services/api/test/bridge-script.test.ts), never a JSON error.
 */
const PLAIN_TEXT_404 = new Set(['GET /bridge-script/{token}']);
/** Sheet uploads (base64 in JSON, 5 MB of file): their body limit is 8 MiB, so the huge body is bigger. */
const UPLOADS = new Set(['POST /data/import', 'POST /data/import/preview']);
/** A tenant export file (tables' rows included): 20 MiB. */
const BIG_UPLOADS = new Set(['POST /import']);
/**
 * A store key is any text the tenant's code chose (`store.set` takes any),
 * always a bound parameter: a SQL-ish key is stored as that text, in the
 * caller's own store (test/integration/data-api.test.ts).
 */
const FREE_TEXT_KEYS = new Set(['PUT /data/store/{key}']);

describe('hostile input to every route: a coded 4xx, nothing changed', () => {
  let stack: Stack;
  let a: TenantClient;
  let admin: TenantClient;
  let routes: RouteSpec[];
  let ids: Record<string, string | number>;
  let commandId: number;
  let botId: string;

  const view = async () => {
    const out: Record<string, unknown> = {};
    for (const p of ['/me', '/commands', `/commands/${commandId}`, `/commands/${commandId}/versions`, '/bots', `/bots/${botId}`, '/secrets', '/api-keys', '/logs', '/usage']) {
      out[p] = await a.ok('GET', p);
    }
    return out;
  };

  /** Admin routes are walked as the admin, the rest as tenant A. */
  const callerFor = (r: RouteSpec) => (r.path.startsWith('/admin/') ? admin : a);

  /** Sends raw bytes as the route's rightful caller (session cookie and CSRF header as a browser would). */
  const raw = async (r: RouteSpec, url: string, payload: string | Buffer, contentType = 'application/json') => {
    const who = callerFor(r);
    const res = await stack.api.app.inject({
      method: r.method,
      url: `/api/v1${url}`,
      headers: { cookie: who.cookie, 'x-csrf-token': who.csrfToken, 'content-type': contentType },
      payload,
    });
    let code: unknown;
    try {
      code = (res.json() as { error?: { code?: string } }).error?.code;
    } catch {
      code = `(not JSON: ${res.body.slice(0, 80)})`;
    }
    return { status: res.statusCode, code: String(code) };
  };

  beforeAll(async () => {
    stack = await startStack('hostile', { '/h': json({ text: '정상' }) });
    admin = await TenantClient.signup(stack.api, 'hostile-admin@shop.example');
    a = await TenantClient.signup(stack.api, 'hostile-a@shop.example');
    const bot = await a.ok('POST', '/bots', { name: 'LOA.hostile' });
    const command = await a.ok('POST', '/commands', { command: '안전', target: { type: 'http', url: stack.stub.url('/h') } });
    await a.ok('POST', '/secrets', { name: 'HOSTILE_KEY', value: 'v' });
    const key = await a.ok('POST', '/api-keys', { name: '키' });
    commandId = command.id;
    botId = bot.id;
    ids = { commandId, botId, keyId: key.id, tenantId: (await a.ok('GET', '/me')).tenant.id };
    routes = (await apiRoutes(stack.api)).filter((r) => !SKIP.has(routeName(r)));
  });

  afterAll(async () => {
    await stack?.close();
    // The 데이터 routes made A's table role (the cluster's).
    await dropTenantRoles(ids?.tenantId ? [String(ids.tenantId)] : []);
  });

  const ownParams = (r: RouteSpec): Record<string, string | number> => {
    const group = r.path.split('/')[1];
    // A real id for each: a malformed one is 404 before the body is looked at (ids parsed strictly, issue 13).
    // Schedules: any well-formed uuid; the body is refused before the schedule is looked up.
    const id = group === 'schedules' ? '0193a0c4-5b6e-7c1d-9e2f-0a1b2c3d4e5f' : group === 'commands' ? commandId : group === 'bots' ? botId : group === 'api-keys' ? ids.keyId! : r.path.startsWith('/admin/tenants') ? ids.tenantId! : 1;
    return Object.fromEntries(r.pathParams.map((p) => [p, p === 'id' ? id : p === 'name' ? 'HOSTILE_KEY' : 'x']));
  };

  it('refuses wrong types, unknown fields, broken JSON, invalid UTF-8, other content types and huge bodies on every route with a body', async () => {
    const before = await view();
    const wrong: string[] = [];
    const expectCoded = (what: string, got: { status: number; code: string }, status: number[], codes: string[]) => {
      if (!status.includes(got.status) || !codes.includes(got.code)) wrong.push(`${what}: ${got.status} ${got.code}`);
    };
    let sent = 0;
    for (const r of routes.filter((x) => x.body)) {
      const url = fillPath(r.path, ownParams(r));
      const sample = sampleOf(r.body!) as Record<string, unknown>;
      const props = Object.entries(r.body!.properties ?? {}) as [string, Schema][];
      for (const [field, schema] of props) {
        // A field that takes any JSON value (a store value) has no wrong type.
        if (schema.type === undefined && !schema.anyOf && !schema.oneOf && schema.const === undefined && !schema.enum && !schema.properties) continue;
        expectCoded(`${routeName(r)} ${field} of a wrong type`, await raw(r, url, JSON.stringify({ ...sample, [field]: wrongTypeFor(schema) })), [400], ['KB_ERR_VALIDATION']);
        sent++;
      }
      expectCoded(`${routeName(r)} unknown field`, await raw(r, url, JSON.stringify({ ...sample, 'isAdmin': true, 'tenantId': 'x' })), [400], ['KB_ERR_VALIDATION']);
      expectCoded(`${routeName(r)} array body`, await raw(r, url, '[1,2,3]'), [400], ['KB_ERR_VALIDATION']);
      expectCoded(`${routeName(r)} broken JSON`, await raw(r, url, '{"command": "a",'), [400], ['KB_ERR_INVALID_BODY']);
      const bytes = Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
      expectCoded(`${routeName(r)} invalid UTF-8`, await raw(r, url, bytes), [400], ['KB_ERR_INVALID_BODY']);
      expectCoded(`${routeName(r)} text/plain`, await raw(r, url, 'hello', 'text/plain'), [415], ['KB_ERR_UNSUPPORTED_MEDIA_TYPE']);
      expectCoded(`${routeName(r)} 2 MiB body`, await raw(r, url, JSON.stringify({ x: 'ㄱ'.repeat(BIG_UPLOADS.has(routeName(r)) ? 7_100_000 : UPLOADS.has(routeName(r)) ? 3_000_000 : 700_000) })), [413], ['KB_ERR_PAYLOAD_TOO_LARGE']);
      sent += 6;
    }
    expect(wrong).toEqual([]);
    expect(sent).toBeGreaterThan(100);
    expect(await view()).toEqual(before);
  });

  it('refuses SQL-ish and malformed path parameters and query values with a coded 4xx', async () => {
    const before = await view();
    const wrong: string[] = [];
    for (const r of routes) {
      for (const evil of SQLISH) {
        if (r.pathParams.length > 0 && !FREE_TEXT_KEYS.has(routeName(r))) {
          const params = Object.fromEntries(r.pathParams.map((p) => [p, evil]));
          if (PLAIN_TEXT_404.has(routeName(r))) {
            const res = await stack.api.app.inject({ method: 'GET', url: `/api/v1${fillPath(r.path, params)}` });
            if (res.statusCode !== 404 || !res.headers['content-type']?.toString().startsWith('text/plain')) wrong.push(`${routeName(r)} param ${evil}: ${res.statusCode}`);
            continue;
          }
          const res = await callerFor(r).call(r.method as 'GET', fillPath(r.path, params), r.body ? sampleOf(r.body) : undefined);
          if (res.status < 400 || res.status >= 500 || !String(res.body?.error?.code).startsWith('KB_ERR_')) wrong.push(`${routeName(r)} param ${evil}: ${res.status}`);
        }
        for (const q of r.query) {
          const type = q.schema.type;
          if (type !== 'integer' && type !== 'number' && !q.schema.format && !q.schema.anyOf && !q.schema.enum && !q.schema.pattern) continue;
          const url = `${fillPath(r.path, ownParams(r))}?${q.name}=${encodeURIComponent(evil)}`;
          const res = await callerFor(r).call('GET', url);
          if (r.method === 'GET' && (res.status !== 400 || res.body?.error?.code !== 'KB_ERR_VALIDATION')) wrong.push(`${routeName(r)} ?${q.name}=${evil}: ${res.status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(await view()).toEqual(before);
  });

  it('stores SQL-ish and unusual text that a field does allow exactly as given, and nothing else moves', async () => {
    const text = "'); DROP TABLE kb_commands; -- \u0000 제로 폭 \u200b 이모지 😀 <script>alert(1)</script>";
    const clean = text.replace('\u0000', '');
    const before = await view();
    // A NUL cannot be stored in PostgreSQL text: refused with a code, not a 500.
    const nul = await a.call('PATCH', `/commands/${commandId}`, { description: text });
    expect(nul.status).toBe(400);
    expect(nul.body.error.code).toMatch(/^KB_ERR_/);
    expect(await view()).toEqual(before);
    const saved = await a.ok('PATCH', `/commands/${commandId}`, { description: clean });
    expect(saved.description).toBe(clean);
    expect((await a.ok('GET', `/commands/${commandId}`)).description).toBe(clean);
    expect((await a.ok('GET', '/commands')).map((c: { command: string }) => c.command)).toEqual(['안전']);
  });
});
