import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KbError } from '@domaeka/core';
import { EgressPolicy, type Resolver } from './policy.js';
import { safeFetch, type SafeRequest } from './safe-fetch.js';
import { closedPort, startServer, type LocalServer } from '../../../../test/support/egress-servers.js';
import { httpAgent } from './transport.js';

const MiB = 1024 * 1024;
const base = { method: 'GET', timeoutMs: 2_000, maxBytes: MiB } satisfies Partial<SafeRequest>;

/** Runs the request and returns the KbError it failed with. */
async function failure(policy: EgressPolicy, req: SafeRequest): Promise<KbError> {
  const err = await safeFetch(policy, req).then(
    (res) => { throw new Error(`expected a failure, got status ${res.status}`); },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KbError);
  return err as KbError;
}

let server: LocalServer;
let policy: EgressPolicy;

beforeAll(async () => {
  server = await startServer((req, res, hit) => {
    switch (hit.path) {
      case '/json':
        return res.end(JSON.stringify({ success: true, response: { text: 'hi' } }));
      case '/echo':
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify(hit));
      case '/error':
        res.statusCode = 500;
        return res.end('{"error":"boom"}');
      case '/html':
        res.setHeader('content-type', 'text/html');
        return res.end('<html>not json</html>');
      case '/hang':
        return; // never answers
      case '/stall-body':
        res.writeHead(200, { 'content-length': '100' });
        return res.write('only part'); // headers and a little, then nothing
      case '/big-declared':
        res.writeHead(200, { 'content-length': String(10 * MiB) });
        return res.end(Buffer.alloc(10 * MiB));
      case '/big-chunked':
        res.writeHead(200); // no content-length: chunked
        for (let i = 0; i < 10; i++) res.write(Buffer.alloc(MiB));
        return res.end();
      case '/exact':
        return res.end(Buffer.alloc(MiB, 'x'));
      case '/cut':
        res.writeHead(200, { 'content-length': '1000' });
        res.write('partial');
        return res.destroy();
      default:
        res.statusCode = 404;
        return res.end('no');
    }
  });
  policy = new EgressPolicy({ allow: [`127.0.0.1:${server.port}`] });
});
afterAll(() => server.close());

describe('safeFetch: answers', () => {
  it('returns status, headers and body of a JSON answer', async () => {
    const res = await safeFetch(policy, { ...base, url: `${server.origin}/json` });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ success: true, response: { text: 'hi' } });
    expect(res.url).toBe(`${server.origin}/json`);
  });

  it('returns a 500 with its body instead of throwing', async () => {
    const res = await safeFetch(policy, { ...base, url: `${server.origin}/error` });
    expect(res.status).toBe(500);
    expect(res.body.toString()).toBe('{"error":"boom"}');
  });

  it('returns a non-JSON body as bytes, untouched', async () => {
    const res = await safeFetch(policy, { ...base, url: `${server.origin}/html` });
    expect(res.headers['content-type']).toBe('text/html');
    expect(res.body.toString()).toBe('<html>not json</html>');
  });

  it('sends the body with a content-length (no chunking), whatever the caller set', async () => {
    const body = JSON.stringify({ command: '날씨', parameters: ['서울'] });
    const res = await safeFetch(policy, {
      ...base, method: 'post', url: `${server.origin}/echo`, body,
      headers: { 'Content-Type': 'application/json', 'Content-Length': '3', 'Transfer-Encoding': 'chunked' },
    });
    const hit = JSON.parse(res.body.toString());
    expect(hit.method).toBe('POST');
    expect(hit.body).toBe(body);
    expect(hit.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(hit.headers['transfer-encoding']).toBeUndefined();
    expect(hit.headers.host).toBe(`127.0.0.1:${server.port}`);
  });

  it('reuses keep-alive connections, pooled by pinned address', async () => {
    const s = await startServer((_req, res) => res.end('ok'));
    try {
      const p = new EgressPolicy({ allow: [`127.0.0.1:${s.port}`] });
      for (let i = 0; i < 3; i++) expect((await safeFetch(p, { ...base, url: `${s.origin}/` })).body.toString()).toBe('ok');
      expect(s.hits).toHaveLength(3);
      expect(s.connections).toBe(1);
      expect(Object.keys(httpAgent.freeSockets).some((k) => k.includes(`:${s.port}:`) && k.endsWith('|127.0.0.1'))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('retries once on a fresh connection when a reused keep-alive socket is reset', async () => {
    // The server hangs up on the second request of its first connection, as
    // a server closing an idle keep-alive socket does at the wrong moment.
    const perSocket = new WeakMap<object, number>();
    const s = await startServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n === 2) return req.socket.destroy();
      res.end(`answer ${n}`);
    });
    try {
      const p = new EgressPolicy({ allow: [`127.0.0.1:${s.port}`] });
      expect((await safeFetch(p, { ...base, url: `${s.origin}/` })).body.toString()).toBe('answer 1');
      expect((await safeFetch(p, { ...base, url: `${s.origin}/` })).body.toString()).toBe('answer 1');
      expect(s.connections).toBe(2);
      expect(s.hits).toHaveLength(3);
    } finally {
      await s.close();
    }
  });

  it('keys pooled sockets by the pinned address, so a re-resolved name gets a new socket', () => {
    const a = httpAgent.getName({ host: 'api.tenant.test', port: 80, pinnedAddress: '93.184.216.34' } as object);
    const b = httpAgent.getName({ host: 'api.tenant.test', port: 80, pinnedAddress: '10.0.0.1' } as object);
    expect(a).not.toBe(b);
  });
});

describe('safeFetch: limits', () => {
  it('times out a target that never answers', async () => {
    const err = await failure(policy, { ...base, url: `${server.origin}/hang`, timeoutMs: 200 });
    expect(err.code).toBe('KB_ERR_TIMEOUT');
    expect(err.message).toContain('200 ms');
  });

  it('times out a body that stalls after the headers', async () => {
    const err = await failure(policy, { ...base, url: `${server.origin}/stall-body`, timeoutMs: 200 });
    expect(err.code).toBe('KB_ERR_TIMEOUT');
  });

  it('refuses a 10 MB body announced by content-length', async () => {
    const err = await failure(policy, { ...base, url: `${server.origin}/big-declared` });
    expect(err.code).toBe('KB_ERR_TARGET_TOO_LARGE');
    expect(err.message).toContain(String(MiB));
  });

  it('refuses a 10 MB chunked body while streaming', async () => {
    const err = await failure(policy, { ...base, url: `${server.origin}/big-chunked` });
    expect(err.code).toBe('KB_ERR_TARGET_TOO_LARGE');
  });

  it('accepts a body of exactly maxBytes', async () => {
    const res = await safeFetch(policy, { ...base, url: `${server.origin}/exact` });
    expect(res.body.length).toBe(MiB);
  });

  it('reports a connection cut mid-body as unreachable', async () => {
    const err = await failure(policy, { ...base, url: `${server.origin}/cut` });
    expect(err.code).toBe('KB_ERR_TARGET_UNREACHABLE');
  });

  it('reports a refused connection as unreachable', async () => {
    const port = await closedPort();
    const p = new EgressPolicy({ allow: [`127.0.0.1:${port}`] });
    const err = await failure(p, { ...base, url: `http://127.0.0.1:${port}/` });
    expect(err.code).toBe('KB_ERR_TARGET_UNREACHABLE');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('reports a name that does not resolve as unreachable', async () => {
    const resolver: Resolver = async () => { throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' }); };
    const p = new EgressPolicy({ allow: [], resolver });
    const err = await failure(p, { ...base, url: 'http://gone.tenant.test/' });
    expect(err.code).toBe('KB_ERR_TARGET_UNREACHABLE');
    expect(err.message).toContain('gone.tenant.test does not resolve');
  });
});

describe('safeFetch: policy and DNS', () => {
  it('refuses a URL the policy refuses, without connecting', async () => {
    const p = new EgressPolicy({ allow: [] });
    const before = server.hits.length;
    const err = await failure(p, { ...base, url: `${server.origin}/json` });
    expect(err.code).toBe('KB_ERR_EGRESS_DENIED');
    expect(err.message).toContain('127.0.0.1 is a loopback address');
    expect(server.hits.length).toBe(before);
  });

  it('refuses a name resolving to a private address even when that address:port is allowed by IP', async () => {
    const p = new EgressPolicy({ allow: [`127.0.0.1:${server.port}`], resolver: async () => ['127.0.0.1'] });
    const before = server.hits.length;
    const err = await failure(p, { ...base, url: `http://sneaky.tenant.test:${server.port}/json` });
    expect(err.code).toBe('KB_ERR_EGRESS_DENIED');
    expect(err.message).toContain('sneaky.tenant.test resolves to 127.0.0.1, a loopback address');
    expect(server.hits.length).toBe(before);
  });

  it('connects to the address it checked, not to a later DNS answer (rebinding)', async () => {
    let calls = 0;
    // First answer is allowed (CIDR entry); any later answer would be the metadata address.
    const rebinding: Resolver = async () => (++calls === 1 ? ['127.0.0.1'] : ['169.254.169.254']);
    const p = new EgressPolicy({ allow: ['127.0.0.1/32'], resolver: rebinding });
    const res = await safeFetch(p, { ...base, url: `http://rebind.tenant.test:${server.port}/echo` });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString()).headers.host).toBe(`rebind.tenant.test:${server.port}`);
    expect(calls).toBe(1);
    // The next exchange re-checks, sees the new answer and refuses it.
    const err = await failure(p, { ...base, url: `http://rebind.tenant.test:${server.port}/echo` });
    expect(err.code).toBe('KB_ERR_EGRESS_DENIED');
    expect(err.message).toContain('169.254.169.254');
  });

  it('sends the host name as TLS server name and keeps certificate verification on', async () => {
    const tls = await startServer((_req, res) => res.end('secret'), true);
    try {
      const p = new EgressPolicy({ allow: [`api.tenant.test:${tls.port}`], resolver: async () => ['127.0.0.1'] });
      const err = await failure(p, { ...base, url: `https://api.tenant.test:${tls.port}/` });
      // Our self-signed test certificate is not trusted: the request must not go through.
      expect(err.code).toBe('KB_ERR_TARGET_UNREACHABLE');
      expect(err.message).toMatch(/SELF_SIGNED|self.signed/i);
      expect(tls.serverNames).toEqual(['api.tenant.test']);
      expect(tls.hits).toHaveLength(0);
    } finally {
      await tls.close();
    }
  });
});
