import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerCallPayload, RunnerProfile } from '@domaeka/broker';
import { buildRunner, type Runner } from '../src/app.js';
import { parseRunnerConfig } from '../src/config.js';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { namesResolver } from '../../../test/support/resolver.js';
import { FREE_PROFILE, RpcCaller } from '../../../test/support/runner-rpc.js';

/**
 * Egress (DESIGN.md section 5) against the real Docker engine: tenant code
 * has no network device; `requests` reaches the tenant's allowlisted names
 * only through the runner's proxy on the container's own socket. Names are
 * resolved by an injected resolver (no DNS here), and EGRESS_ALLOW lets the
 * test server's loopback address through as an operator would.
 */
const PREMIUM: RunnerProfile = { name: 'premium', memoryMb: 512, cpus: 1, timeoutMaxMs: 30_000, maxConcurrency: 4 };
const HOSTS: Record<string, string> = { 'api.shop.example': '127.0.0.1', 'other.example': '127.0.0.1' };

const FETCH = (port: number) => `
import requests
def handle_command(params):
    host = params["parameters"][0]
    r = requests.get(f"http://{host}:${port}/stock/apple", timeout=5)
    return f"{r.status_code} {r.text.strip()}"
`;

describe('runner: egress through the proxy', () => {
  let env: TestEnv;
  let runner: Runner;
  let caller: RpcCaller;
  let server: Server;
  let port = 0;
  const seen: string[] = [];
  const runnerId = `t-egr-${randomBytes(3).toString('hex')}`;

  const call = (over: Partial<RunnerCallPayload> & { host: string }) => {
    const { host, ...rest } = over;
    return caller.call(
      runner.queue,
      caller.callPayload({ code: FETCH(port), codeVersion: 'fetch:1', commandId: 'fetch', params: { parameters: [host] }, ...rest }),
    );
  };
  const text = (r: Awaited<ReturnType<typeof call>>) => (r.result ? String(r.result.text) : `${r.error?.code}: ${r.error?.message}`);

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`);
      res.end('사과 12개');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    env = await createTestEnv('runner-egress');
    runner = buildRunner(
      parseRunnerConfig({
        ...env.env,
        RUNNER_ID: runnerId,
        RUNNER_HTTP_PORT: '0',
        RUNNER_HTTP_HOST: '127.0.0.1',
        RUNNER_POOL_SIZE: '1',
        // What an operator writes to let a private address through; the tenant's allowlist still decides the names.
        EGRESS_ALLOW: `api.shop.example:${port},other.example:${port}`,
      }),
      { resolver: namesResolver(HOSTS) },
    );
    await runner.start();
    caller = await RpcCaller.connect(env.amqpUrl);
  });

  afterAll(async () => {
    await caller?.close();
    await runner?.stop();
    await env?.cleanup();
    server?.close();
  });

  it('lets a dedicated tenant reach a name on its allowlist, and nothing else', async () => {
    const allowed = await call({ host: 'api.shop.example', tenantId: 'tenant-a', mode: 'dedicated', profile: PREMIUM, egress: ['api.shop.example'] });
    expect(text(allowed)).toBe('200 사과 12개');
    expect(seen).toContain(`api.shop.example:${port} /stock/apple`);

    const before = seen.length;
    const other = await call({ host: 'other.example', tenantId: 'tenant-a', mode: 'dedicated', profile: PREMIUM, egress: ['api.shop.example'] });
    expect(text(other)).toMatch(/^403 외부 접속이 허용되지 않은 주소입니다 \/ egress refused: other\.example is not in the domain allowlist/);
    expect(seen).toHaveLength(before);
  });

  it('follows the allowlist of the latest call: a name removed is refused from the next call on', async () => {
    const tenantId = 'tenant-b';
    expect(text(await call({ host: 'api.shop.example', tenantId, mode: 'dedicated', profile: PREMIUM, egress: ['api.shop.example'] }))).toBe('200 사과 12개');
    const after = await call({ host: 'api.shop.example', tenantId, mode: 'dedicated', profile: PREMIUM, egress: [] });
    expect(text(after)).toMatch(/^403 .*not in the domain allowlist/);
  });

  it('refuses everything to a plan without egress (no `egress` in the call), in Korean first', async () => {
    const before = seen.length;
    const r = await call({ host: 'api.shop.example', tenantId: 'tenant-free', mode: 'ephemeral', profile: FREE_PROFILE });
    expect(text(r)).toMatch(/^403 이 실행 환경에는 외부 접속이 허용되지 않습니다 \//);
    expect(seen).toHaveLength(before);
  });

  it('gives a pooled (ephemeral) run of an egress plan the allowlist of its call', async () => {
    const r = await call({ host: 'api.shop.example', tenantId: 'tenant-c', mode: 'ephemeral', profile: PREMIUM, egress: ['*.shop.example'] });
    expect(text(r)).toBe('200 사과 12개');
  });
});
