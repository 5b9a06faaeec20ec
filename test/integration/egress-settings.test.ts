import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp, { type ChannelModel } from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names, routingKeys, type ChangedPayload, type EnvelopeOf } from '@domaeka/broker';
import { buildApi, type ApiServer } from '../../services/api/src/app.js';
import { parseApiConfig } from '../../services/api/src/config.js';
import { DomainList } from '@domaeka/calls';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { TenantClient } from '../support/tenant-client.js';
import { waitFor } from '../support/wait.js';

/**
 * A tenant's egress domain allowlist (DESIGN.md section 5) as the tenant
 * meets it in the settings: `GET /egress` says whether its plan lets
 * sandbox code out at all, `PUT /egress` replaces the list, stored in the
 * form the runner's DomainList reads, each bad entry refused by name; no
 * other tenant sees it; every save tells the caches (`changed` {egress}).
 * Only the API runs here: what the dispatcher and runner do with the list
 * is theirs to test.
 */
type EgressView = { enabled: boolean; plan: string; domains: string[] };

const execFileP = promisify(execFile);

describe('egress settings: the tenant domain allowlist', () => {
  let env: TestEnv;
  let api: ApiServer;
  let broker: ChannelModel;
  let db: pg.Client;
  let free: TenantClient;
  let premium: TenantClient;
  let premiumTenantId: string;
  const changes: ChangedPayload[] = [];

  // TenantClient names the methods the API had before this one; the transport passes any method through.
  const put = (client: TenantClient, body: unknown) => client.call<any>('PUT', '/egress', body);
  const egressChanged = (tenantId: string, after: number) =>
    waitFor(() => changes.slice(after).find((c) => c.entity === 'egress' && c.tenantId === tenantId), { what: `changed {egress} of ${tenantId}` });

  beforeAll(async () => {
    env = await createTestEnv('egress-settings');
    api = buildApi(parseApiConfig({ ...env.env, API_PORT: '0' }));
    await api.start();
    db = new pg.Client({ connectionString: env.databaseUrl });
    await db.connect();
    broker = await amqp.connect(env.amqpUrl);
    const channel = await broker.createChannel();
    const q = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(q.queue, names(env.brokerPrefix).changes, routingKeys.changed);
    await channel.consume(q.queue, (m) => m && changes.push((JSON.parse(m.content.toString()) as EnvelopeOf<ChangedPayload>).payload), { noAck: true });

    // The first account of a platform is its admin: take that seat so the tenants below are ordinary ones.
    await TenantClient.signup(api, 'egress-admin@shop.example');
    free = await TenantClient.signup(api, 'egress-free@shop.example', '무료 가게');
    premium = await TenantClient.signup(api, 'egress-premium@shop.example', '유료 가게');
    premiumTenantId = (await premium.ok('GET', '/me')).tenant.id;
    // As an operator does it (sandbox-path.test.ts too): the CLI moves the account's tenant to premium.
    const cli = await execFileP('npx', ['tsx', 'services/api/src/cli.ts', 'plan', 'egress-premium@shop.example', 'premium'], { env: { ...process.env, ...env.env } });
    expect(cli.stdout).toContain('premium');
  });

  afterAll(async () => {
    await broker?.close().catch(() => undefined);
    await db?.end().catch(() => undefined);
    await api?.stop().catch(() => undefined);
    await env?.cleanup();
  });

  it('tells a free tenant its plan has no outbound network, and a premium one that its list is in force', async () => {
    expect(await free.ok<EgressView>('GET', '/egress')).toEqual({ enabled: false, plan: 'free', domains: [] });
    expect(await premium.ok<EgressView>('GET', '/egress')).toEqual({ enabled: true, plan: 'premium', domains: [] });
  });

  it('stores the list normalised and without duplicates, as the runner reads it, and tells the caches', async () => {
    const before = changes.length;
    const saved = await put(premium, { domains: ['api.example.com', '*.weather.example', 'API.Example.com'] });
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual({ enabled: true, plan: 'premium', domains: ['*.weather.example', 'api.example.com'] });
    expect(await premium.ok<EgressView>('GET', '/egress')).toEqual(saved.body);
    expect(await egressChanged(premiumTenantId, before)).toEqual({ entity: 'egress', tenantId: premiumTenantId, botId: null });

    // What the dispatcher and runner will select, and what DomainList makes of it.
    const rows = await db.query<{ domain: string }>('select domain from kb_egress_domains where tenant_id = $1 order by domain', [premiumTenantId]);
    const list = new DomainList(rows.rows.map((r) => r.domain));
    expect(['api.example.com', 'seoul.weather.example'].map((h) => list.matches(h))).toEqual([true, true]);
    expect(['weather.example', 'example.com', 'evil.example.com'].map((h) => list.matches(h))).toEqual([false, false, false]);

    // A PUT replaces the whole list; an empty one clears it.
    expect((await put(premium, { domains: ['openapi.naver.com'] })).body.domains).toEqual(['openapi.naver.com']);
    expect((await put(premium, { domains: [] })).body.domains).toEqual([]);
    expect((await premium.ok<EgressView>('GET', '/egress')).domains).toEqual([]);
  });

  it('lets a free tenant prepare its list, still reported as not in force', async () => {
    const saved = await put(free, { domains: ['api.example.com'] });
    expect(saved.body).toEqual({ enabled: false, plan: 'free', domains: ['api.example.com'] });
  });

  it('refuses a URL, a port, an IP, a bare *, a broken name and the 51st name, naming the entry, and keeps the list', async () => {
    await put(premium, { domains: ['keep.example.com'] });
    const refused = async (domains: unknown[], entryShown: string) => {
      const r = await put(premium, { domains });
      expect([r.status, r.body.error.code], JSON.stringify(domains)).toEqual([400, 'KB_ERR_VALIDATION']);
      expect(r.body.error.message).toContain(entryShown);
      // Korean first, then English after " / ".
      expect(r.body.error.message).toMatch(/^[가-힣]/);
      expect(r.body.error.message).toContain(' / ');
      return r.body.error as { message: string; details?: { entry?: string } };
    };
    expect((await refused(['ok.example.com', 'http://x.com'], '"http://x.com"')).details?.entry).toBe('http://x.com');
    expect((await refused(['x.com:443'], '"x.com:443"')).message).toContain('포트');
    expect((await refused(['10.0.0.1'], '"10.0.0.1"')).message).toContain('IP');
    expect((await refused(['*'], '"*"')).message).toContain('모든 도메인');
    expect((await refused(['a..b'], '"a..b"')).message).toContain('올바른 도메인');
    const many = Array.from({ length: 51 }, (_, i) => `api${i}.example.com`);
    expect((await refused(many, '50')).message).toContain('50개까지');
    // 51 entries that collapse to 50 names are 50.
    expect((await put(premium, { domains: [...many.slice(0, 50), 'API0.example.com'] })).body.domains).toHaveLength(50);
    await put(premium, { domains: ['keep.example.com'] });
    expect((await refused(['x.com/path'], '"x.com/path"')).message).toContain('경로');
    expect((await premium.ok<EgressView>('GET', '/egress')).domains).toEqual(['keep.example.com']);
  });

  it("never shows one tenant another's list, and a tenant's save leaves the other's alone", async () => {
    await put(premium, { domains: ['premium-only.example.com'] });
    const b = await TenantClient.signup(api, 'egress-b@shop.example', '다른 가게');
    expect(await b.ok<EgressView>('GET', '/egress')).toEqual({ enabled: false, plan: 'free', domains: [] });
    expect((await put(b, { domains: ['b.example.com'] })).body.domains).toEqual(['b.example.com']);
    expect((await premium.ok<EgressView>('GET', '/egress')).domains).toEqual(['premium-only.example.com']);
    expect(JSON.stringify(await b.ok('GET', '/egress'))).not.toContain('premium-only');
  });

  it('is in the OpenAPI document, so the isolation and hostile-input sweeps walk it', async () => {
    const doc = (await api.app.inject({ method: 'GET', url: '/api/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v1/egress'] ?? {}).sort()).toEqual(['get', 'put']);
  });

  it('needs a signed-in caller and the CSRF header for a cookie session', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/api/v1/egress' })).statusCode).toBe(401);
    const noCsrf = await api.app.inject({ method: 'PUT', url: '/api/v1/egress', headers: { cookie: premium.cookie }, payload: { domains: ['x.example.com'] } });
    expect([noCsrf.statusCode, noCsrf.json().error.code]).toEqual([403, 'KB_ERR_CSRF']);
    expect((await premium.ok<EgressView>('GET', '/egress')).domains).toEqual(['premium-only.example.com']);
  });
});
