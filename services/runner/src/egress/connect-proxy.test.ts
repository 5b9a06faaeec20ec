import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@domaeka/core';
import { EgressPolicy, type Resolver } from '@domaeka/calls';
import { closedPort, startServer, type LocalServer } from '../../../../test/support/egress-servers.js';
import { EgressProxy, type EgressDecisionEvent, type EgressGrant, type EgressProxyOptions } from './connect-proxy.js';
import { connectHead, readToClose, roundTrip, sendHead, startEcho, viaProxy, type EchoServer } from '../../test/egress-clients.js';

const API = 'api.test.example';

let dir: string;
let socketPath: string;
let echo: EchoServer;
let web: LocalServer;
let lookups: string[];
let logLines: string[];
let decisions: EgressDecisionEvent[];
let proxy: EgressProxy | undefined;

/** The tenant's names resolve (here, to loopback) without DNS; every lookup is recorded. */
const resolver: Resolver = async (host) => {
  lookups.push(host);
  if (host === 'nowhere.test.example') throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  if (host === 'slow.test.example') return new Promise<string[]>(() => {});
  return ['127.0.0.1'];
};

function grant(allow: string[] = ['127.0.0.0/8'], domains = [API, 'loop.test.example', 'nowhere.test.example', 'slow.test.example']): EgressGrant {
  return { tenantId: 'tenant-a', policy: new EgressPolicy({ allow, domains, resolver }) };
}

async function startProxy(policy: EgressProxyOptions['policy'], extra: Partial<EgressProxyOptions> = {}): Promise<EgressProxy> {
  const logger = createLogger('runner-egress-test', 'info', { write: (line: string) => void logLines.push(line) });
  proxy = new EgressProxy({ socketPath, policy, logger, onDecision: (e) => decisions.push(e), ...extra });
  await proxy.listen();
  return proxy;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kb-egress-'));
  socketPath = join(dir, 'egress.sock');
  echo = await startEcho();
  web = await startServer((req, res) => {
    res.setHeader('x-upstream', 'yes');
    res.end(`hello from ${req.url}`);
  });
  lookups = [];
  logLines = [];
  decisions = [];
});

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await echo.close();
  await web.close();
  await rm(dir, { recursive: true, force: true });
});

describe('EgressProxy: CONNECT (https:// from the sandbox)', () => {
  it('tunnels to an allowlisted name: bytes flow both ways, one lookup, the pinned address connected', async () => {
    await startProxy(() => grant());
    const answer = await sendHead(socketPath, connectHead(`${API}:${echo.port}`, 'Proxy-Authorization: Basic c2VjcmV0\r\n'));
    expect(answer.status).toBe(200);
    expect(await roundTrip(answer.socket, 'ping', 'echo:ping')).toBe('echo:ping');
    expect(await roundTrip(answer.socket, 'pong', 'pong')).toBe('pong');
    // The system resolver knows no api.test.example: the only way to the echo server is the address the policy pinned.
    expect(lookups).toEqual([API]);
    expect(echo.connections).toBe(1);
    expect(decisions).toEqual([
      { kind: 'connect', tenantId: 'tenant-a', host: API, port: echo.port, allowed: true, address: '127.0.0.1' },
    ]);
    // Proxy credentials and headers never reach the log.
    expect(logLines.join('')).toContain('"allowed":true');
    expect(logLines.join('')).not.toContain('c2VjcmV0');
    answer.socket.destroy();
  });

  it('tunnels when EGRESS_ALLOW names the host:port instead of a range', async () => {
    await startProxy(() => grant([`${API}:${echo.port}`]));
    const answer = await sendHead(socketPath, connectHead(`${API}:${echo.port}`));
    expect(answer.status).toBe(200);
    expect(await roundTrip(answer.socket, 'x', 'echo:x')).toBe('echo:x');
    answer.socket.destroy();
  });

  it('refuses a host outside the tenant allowlist with 403 and the reason, Korean first', async () => {
    await startProxy(() => grant());
    const answer = await sendHead(socketPath, connectHead(`evil.test.example:${echo.port}`));
    const body = await readToClose(answer);
    expect(answer.status).toBe(403);
    expect(answer.headers['x-kb-egress-denied']).toBe('evil.test.example is not in the domain allowlist');
    expect(body).toBe('외부 접속이 허용되지 않은 주소입니다 / egress refused: evil.test.example is not in the domain allowlist\n');
    expect(lookups).toEqual([]);
    expect(echo.connections).toBe(0);
    expect(decisions[0]).toMatchObject({ allowed: false, host: 'evil.test.example', tenantId: 'tenant-a' });
  });

  it('refuses an allowlisted name that resolves to loopback when EGRESS_ALLOW does not name it', async () => {
    await startProxy(() => grant([]));
    const answer = await sendHead(socketPath, connectHead(`loop.test.example:${echo.port}`));
    await readToClose(answer);
    expect(answer.status).toBe(403);
    expect(answer.headers['x-kb-egress-denied']).toBe('loop.test.example resolves to 127.0.0.1, a loopback address');
    expect(echo.connections).toBe(0);
  });

  it('answers 502 for a name that does not resolve and for a port nobody listens on', async () => {
    await startProxy(() => grant());
    const unresolved = await sendHead(socketPath, connectHead('nowhere.test.example:443'));
    expect(await readToClose(unresolved)).toContain('주소를 찾을 수 없습니다 / egress failed: nowhere.test.example does not resolve');
    expect(unresolved.status).toBe(502);
    expect(unresolved.headers['x-kb-egress-denied']).toBeUndefined();

    const refused = await sendHead(socketPath, connectHead(`${API}:${await closedPort()}`));
    expect(await readToClose(refused)).toContain('ECONNREFUSED');
    expect(refused.status).toBe(502);
  });

  it('answers 504 when the name does not resolve in time', async () => {
    await startProxy(() => grant(), { connectTimeoutMs: 100 });
    const answer = await sendHead(socketPath, connectHead('slow.test.example:443'));
    expect(await readToClose(answer)).toContain('resolving slow.test.example took over 100 ms');
    expect(answer.status).toBe(504);
  });

  it('refuses everything while the container has no grant, and serves once a tenant is assigned', async () => {
    let current: EgressGrant | null = null;
    await startProxy(() => current);
    const before = await sendHead(socketPath, connectHead(`${API}:${echo.port}`));
    expect(await readToClose(before)).toContain('이 실행 환경에는 외부 접속이 허용되지 않습니다');
    expect(before.status).toBe(403);
    expect(before.headers['x-kb-egress-denied']).toContain('no network access');
    const plain = await viaProxy(socketPath, `http://${API}:${web.port}/`);
    expect(plain.status).toBe(403);
    expect(echo.connections + web.hits.length).toBe(0);

    current = grant();
    const after = await sendHead(socketPath, connectHead(`${API}:${echo.port}`));
    expect(after.status).toBe(200);
    after.socket.destroy();
  });

  it('answers 503 past the tunnel limit', async () => {
    await startProxy(() => grant(), { maxTunnels: 1 });
    const first = await sendHead(socketPath, connectHead(`${API}:${echo.port}`));
    expect(first.status).toBe(200);
    const second = await sendHead(socketPath, connectHead(`${API}:${echo.port}`));
    expect(await readToClose(second)).toContain('max 1');
    expect(second.status).toBe(503);
    first.socket.destroy();
  });

  it('closes a tunnel idle past the idle timeout', async () => {
    await startProxy(() => grant(), { idleMs: 150 });
    const answer = await sendHead(socketPath, connectHead(`${API}:${echo.port}`));
    expect(answer.status).toBe(200);
    await readToClose(answer);
    await echo.closed[0];
  });
});

describe('EgressProxy: absolute-form HTTP (http:// from the sandbox)', () => {
  it('forwards in origin-form with the checked Host, without proxy headers, and returns the answer', async () => {
    await startProxy(() => grant());
    const res = await viaProxy(socketPath, `http://${API}:${web.port}/weather?city=seoul`, {
      headers: {
        host: 'elsewhere.example',
        'proxy-authorization': 'Basic c2VjcmV0',
        'proxy-connection': 'keep-alive',
        authorization: 'Bearer tenant-api-key',
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe('hello from /weather?city=seoul');
    expect(res.headers['x-upstream']).toBe('yes');
    const hit = web.hits[0]!;
    expect(hit.path).toBe('/weather?city=seoul');
    expect(hit.headers.host).toBe(`${API}:${web.port}`);
    expect(hit.headers.authorization).toBe('Bearer tenant-api-key');
    expect(Object.keys(hit.headers).filter((h) => h.startsWith('proxy-'))).toEqual([]);
    expect(lookups).toEqual([API]);
    expect(logLines.join('')).not.toMatch(/tenant-api-key|c2VjcmV0/);
  });

  it('forwards a request body', async () => {
    await startProxy(() => grant());
    const res = await viaProxy(socketPath, `http://${API}:${web.port}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"menu":"국밥"}',
    });
    expect(res.status).toBe(200);
    expect(web.hits[0]).toMatchObject({ method: 'POST', body: '{"menu":"국밥"}' });
  });

  it('refuses a host outside the allowlist and origin-form requests, and never reaches the server', async () => {
    await startProxy(() => grant());
    const denied = await viaProxy(socketPath, `http://evil.test.example:${web.port}/`);
    expect(denied.status).toBe(403);
    expect(denied.headers['x-kb-egress-denied']).toBe('evil.test.example is not in the domain allowlist');
    const origin = await viaProxy(socketPath, '/weather');
    expect(origin.status).toBe(400);
    expect(origin.body).toContain('잘못된 프록시 요청입니다');
    expect(web.hits).toEqual([]);
  });
});

describe('EgressProxy: hostile clients and lifecycle', () => {
  it('answers 400 to garbage and to a head over 16 KiB, and keeps serving', async () => {
    await startProxy(() => grant());
    const garbage = await sendHead(socketPath, '\x16\x03\x01\x02\x00garbage\r\n\r\n');
    expect(garbage.status).toBe(400);
    await readToClose(garbage);
    const huge = await sendHead(socketPath, connectHead(`${API}:${echo.port}`, `X-Fill: ${'a'.repeat(20_000)}\r\n`));
    expect(huge.status).toBe(400);
    expect(await readToClose(huge)).toContain('over 16384 bytes');
    const bad = await sendHead(socketPath, connectHead('api.test.example'));
    expect(bad.status).toBe(400);

    const next = await sendHead(socketPath, connectHead(`${API}:${echo.port}`));
    expect(next.status).toBe(200);
    next.socket.destroy();
  });

  it('closes a connection that sends no head in time', async () => {
    await startProxy(() => grant(), { headTimeoutMs: 150 });
    const answer = await sendHead(socketPath, '');
    expect(answer.status).toBe(408);
    await readToClose(answer);
  });

  it('creates a socket any uid can connect to; close() ends open tunnels and removes it', async () => {
    await startProxy(() => grant());
    expect(statSync(socketPath).mode & 0o777).toBe(0o666);
    const answer = await sendHead(socketPath, connectHead(`${API}:${echo.port}`));
    expect(await roundTrip(answer.socket, 'a', 'echo:a')).toBe('echo:a');
    const clientGone = once(answer.socket, 'close');
    await proxy!.close();
    await clientGone;
    await echo.closed[0];
    expect(existsSync(socketPath)).toBe(false);
  });

  it('replaces a stale socket file left by a runner that died, but never deletes another kind of file', async () => {
    // A process that exits without closing its server leaves the socket file behind.
    const script = `require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => process.exit(0))`;
    expect(spawnSync(process.execPath, ['-e', script]).status).toBe(0);
    expect(statSync(socketPath).isSocket()).toBe(true);
    await startProxy(() => grant());
    const answer = await sendHead(socketPath, connectHead(`${API}:${echo.port}`));
    expect(answer.status).toBe(200);
    answer.socket.destroy();

    const notSocket = join(dir, 'notes.txt');
    await writeFile(notSocket, 'keep me');
    const logger = createLogger('runner-egress-test', 'silent');
    await expect(new EgressProxy({ socketPath: notSocket, policy: () => null, logger }).listen()).rejects.toThrow('not a socket');
    expect(readFileSync(notSocket, 'utf8')).toBe('keep me');
  });
});
