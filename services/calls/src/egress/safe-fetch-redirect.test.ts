import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KbError } from '@domaeka/core';
import { EgressPolicy } from './policy.js';
import { safeFetch, type SafeRequest } from './safe-fetch.js';
import { startServer, type LocalServer } from '../../../../test/support/egress-servers.js';

/*
 * Two real servers: `api.tenant.test:<a>` (the tenant's URL, a fake name
 * our resolver maps to 127.0.0.1) and `127.0.0.1:<b>` (another origin).
 * A third server listens but is NOT allowed: redirects there must be refused
 * before any byte reaches it.
 */
let a: LocalServer;
let b: LocalServer;
let forbidden: LocalServer;
let policy: EgressPolicy;
let tenant: string;

const base = { method: 'GET', timeoutMs: 2_000, maxBytes: 1024 * 1024 } satisfies Partial<SafeRequest>;
const secrets = {
  Authorization: 'Bearer tenant-secret',
  Cookie: 'sid=tenant-session',
  'Proxy-Authorization': 'Basic cHJveHk6cGFzcw==',
  'X-Api-Key': 'tenant-api-key',
  Accept: 'application/json',
};

async function failure(req: SafeRequest): Promise<KbError> {
  const err = await safeFetch(policy, req).then(
    (res) => { throw new Error(`expected a failure, got status ${res.status}`); },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KbError);
  return err as KbError;
}

const echo = (body: Buffer) => JSON.parse(body.toString()) as { method: string; path: string; body: string; headers: Record<string, string> };

beforeAll(async () => {
  b = await startServer((_req, res, hit) => res.end(JSON.stringify(hit)));
  forbidden = await startServer((_req, res) => res.end('you should not be here'));
  a = await startServer((_req, res, hit) => {
    const [path, query = ''] = hit.path.split('?');
    const to = new URLSearchParams(query).get('to') ?? '';
    const status = Number(path!.slice(1)) || 302;
    if (path === '/echo') return res.end(JSON.stringify(hit));
    if (path === '/loop') {
      res.writeHead(302, { location: '/loop' });
      return res.end();
    }
    res.writeHead(status, { location: to });
    res.end('moved');
  });
  tenant = `http://api.tenant.test:${a.port}`;
  policy = new EgressPolicy({
    allow: [`api.tenant.test:${a.port}`, `127.0.0.1:${b.port}`],
    resolver: async (host) => (host === 'api.tenant.test' ? ['127.0.0.1'] : []),
  });
});
afterAll(async () => {
  await Promise.all([a.close(), b.close(), forbidden.close()]);
});

const via = (status: number, to: string) => `${tenant}/${status}?to=${encodeURIComponent(to)}`;

describe('safeFetch: redirects', () => {
  it('follows a redirect to another allowed origin, stripping credentials and tenant headers', async () => {
    const res = await safeFetch(policy, { ...base, url: via(302, `${b.origin}/landed`), headers: secrets });
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${b.origin}/landed`);
    const hit = echo(res.body);
    expect(hit.path).toBe('/landed');
    expect(hit.headers.authorization).toBeUndefined();
    expect(hit.headers.cookie).toBeUndefined();
    expect(hit.headers['proxy-authorization']).toBeUndefined();
    expect(hit.headers['x-api-key']).toBeUndefined();
    expect(hit.headers.accept).toBe('application/json');
  });

  it('keeps credentials on a same-origin redirect', async () => {
    const res = await safeFetch(policy, { ...base, url: via(301, '/echo'), headers: secrets });
    const hit = echo(res.body);
    expect(res.url).toBe(`${tenant}/echo`);
    expect(hit.headers.authorization).toBe('Bearer tenant-secret');
    expect(hit.headers['x-api-key']).toBe('tenant-api-key');
  });

  it('refuses a redirect to the metadata address', async () => {
    const err = await failure({ ...base, url: via(302, 'http://169.254.169.254/latest/meta-data') });
    expect(err.code).toBe('KB_ERR_EGRESS_DENIED');
    expect(err.message).toContain('169.254.169.254 is a link-local (cloud metadata) address');
  });

  it('refuses a redirect to a loopback port that is not allowed, before connecting', async () => {
    const err = await failure({ ...base, url: via(307, `${forbidden.origin}/`) });
    expect(err.code).toBe('KB_ERR_EGRESS_DENIED');
    expect(err.message).toContain('127.0.0.1 is a loopback address');
    expect(forbidden.hits).toHaveLength(0);
  });

  it('refuses a redirect to another scheme or to a URL with credentials', async () => {
    expect((await failure({ ...base, url: via(302, 'file:///etc/passwd') })).message).toContain('scheme "file"');
    expect((await failure({ ...base, url: via(302, `http://u:p@127.0.0.1:${b.port}/`) })).message).toContain('credentials');
  });

  it('turns POST into GET without body on 303, and on 301/302', async () => {
    for (const status of [303, 301, 302]) {
      const res = await safeFetch(policy, {
        ...base, method: 'POST', url: via(status, '/echo'), body: '{"x":1}',
        headers: { 'Content-Type': 'application/json', Authorization: 'k' },
      });
      const hit = echo(res.body);
      expect(hit.method, String(status)).toBe('GET');
      expect(hit.body).toBe('');
      expect(hit.headers['content-type']).toBeUndefined();
      expect(hit.headers['content-length']).toBeUndefined();
      expect(hit.headers.authorization).toBe('k');
    }
  });

  it('repeats method and body on 307 and 308', async () => {
    for (const status of [307, 308]) {
      const res = await safeFetch(policy, {
        ...base, method: 'POST', url: via(status, `${b.origin}/again`), body: '{"x":1}',
        headers: { 'Content-Type': 'application/json' },
      });
      const hit = echo(res.body);
      expect(hit.method, String(status)).toBe('POST');
      expect(hit.body).toBe('{"x":1}');
      expect(hit.headers['content-type']).toBe('application/json');
    }
  });

  it('stops after maxRedirects', async () => {
    const before = a.hits.length;
    const err = await failure({ ...base, url: `${tenant}/loop`, maxRedirects: 2 });
    expect(err.code).toBe('KB_ERR_TARGET_UNREACHABLE');
    expect(err.message).toBe('more than 2 redirects');
    expect(a.hits.length - before).toBe(3);
  });

  it('defaults to at most 3 redirects', async () => {
    const before = a.hits.length;
    expect((await failure({ ...base, url: `${tenant}/loop` })).message).toBe('more than 3 redirects');
    expect(a.hits.length - before).toBe(4);
  });

  it('returns a redirect without Location as the answer', async () => {
    const res = await safeFetch(policy, { ...base, url: `${tenant}/302` });
    expect(res.status).toBe(302);
    expect(res.body.toString()).toBe('moved');
  });
});
