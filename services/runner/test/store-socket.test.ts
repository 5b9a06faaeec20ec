import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerProfile, RunnerResultPayload } from '@domaeka/broker';
import { buildRunner, type Runner } from '../src/app.js';
import { parseRunnerConfig } from '../src/config.js';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { RpcCaller } from '../../../test/support/runner-rpc.js';
import { waitFor } from '../../../test/support/wait.js';
import { containersOf, dataSocketOf, frame, makeTenants, talk } from './store-support.js';

/**
 * The store's transport (`/run/kb/data.sock`, one per container) against
 * the real runner and Docker: requests are admitted only while a call of
 * the container's tenant runs in it (a pooled container, or a dedicated
 * one between calls, is refused), and garbage on the socket gets a named
 * error and a closed connection, nothing else: the runner, the call and
 * other tenants' calls go on.
 */
const PREMIUM: RunnerProfile = { name: 'premium', memoryMb: 512, cpus: 1, timeoutMaxMs: 30_000, maxConcurrency: 4 };

/** Tenant code writing to the socket itself (the lint is not the boundary): what the runner answers each attempt. */
const HOSTILE = `
import json, socket, struct
from domaeka import store

def attempt(payload):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("/run/kb/data.sock")
    s.sendall(payload)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    n = struct.unpack(">I", data[:4])[0]
    answer = json.loads(data[4:4 + n])
    # One error frame, then the runner closed the connection (the loop above saw its end).
    return answer["error"]["code"] + ("" if len(data) == 4 + n else " +more")

def frame(body):
    return struct.pack(">I", len(body)) + body

def handle_command(params):
    get = json.dumps({"id": 1, "call": None, "op": "get", "key": "k"}).encode()
    out = [
        attempt(struct.pack(">I", 0xFFFFFFF0)),
        attempt(frame(b"not json")),
        attempt(frame(b"[1, 2]")),
        attempt(frame(get) * 40),
    ]
    store.set("after", "still works")
    out.append(store.get("after"))
    return " | ".join(out)
`;

describe('runner: the store socket', () => {
  let env: TestEnv;
  let runner: Runner;
  let caller: RpcCaller;
  let a = '';
  let b = '';
  const runnerId = `t-stsock-${randomBytes(3).toString('hex')}`;
  const text = (r: RunnerResultPayload) => (r.result ? String(r.result.text) : `${r.error?.code}: ${r.error?.message}`);

  beforeAll(async () => {
    env = await createTestEnv('runner-store-socket');
    [a, b] = (await makeTenants(env.databaseUrl, ['상점 A', '상점 B'])) as [string, string];
    runner = buildRunner(parseRunnerConfig({ ...env.env, RUNNER_ID: runnerId, RUNNER_HTTP_PORT: '0', RUNNER_HTTP_HOST: '127.0.0.1', RUNNER_POOL_SIZE: '1' }));
    await runner.start();
    caller = await RpcCaller.connect(env.amqpUrl);
  });

  afterAll(async () => {
    await caller?.close();
    await runner?.stop();
    await env?.cleanup();
  });

  it('refuses a pooled container (no call runs in it): KB_ERR_STORE_NO_CALL, whatever call the request names', async () => {
    const [pooled] = await waitFor(async () => {
      const ids = await containersOf(runnerId, 'pool');
      return ids.length ? ids : undefined;
    }, { what: 'a pooled container' });
    const path = await dataSocketOf(pooled!);
    for (const call of [null, 'made-up', randomBytes(16).toString('hex')]) {
      const [answer] = await talk(path, frame({ id: 7, call, op: 'get', key: '비밀' }), 1);
      expect(answer).toMatchObject({ id: 7, ok: false, error: { code: 'KB_ERR_STORE_NO_CALL', message: '저장소는 명령어가 실행되는 동안에만 쓸 수 있습니다 / the store can be used only while a call runs' } });
    }
  });

  it("refuses a dedicated container between its calls, even naming the call it just ran", async () => {
    const code = 'from domaeka import store\ndef handle_command(p):\n    store.set("방문", 1)\n    return "ok"\n';
    const payload = caller.callPayload({ tenantId: a, code, codeVersion: 'd:1', mode: 'dedicated', profile: PREMIUM });
    expect(text(await caller.call(runner.queue, payload))).toBe('ok');
    const [dedicated] = await containersOf(runnerId, 'dedicated');
    const path = await dataSocketOf(dedicated!);
    const [answer] = await talk(path, frame({ id: 1, call: payload.callId, op: 'set', key: '방문', value: '999' }), 1);
    expect(answer).toMatchObject({ id: 1, ok: false, error: { code: 'KB_ERR_STORE_NO_CALL' } });
    // The refused write did not happen.
    const check = caller.callPayload({ tenantId: a, code: 'from domaeka import store\ndef handle_command(p):\n    return str(store.get("방문"))\n', codeVersion: 'd:2', mode: 'dedicated', profile: PREMIUM });
    expect(text(await caller.call(runner.queue, check))).toBe('1');
  });

  it("answers garbage with KB_ERR_STORE_PROTOCOL and a closed connection; the call, the runner and another tenant's call go on", async () => {
    const hostile = caller.call(runner.queue, caller.callPayload({ tenantId: a, code: HOSTILE, codeVersion: 'h:1', timeoutMs: 4000 }));
    const bystander = caller.call(runner.queue, caller.callPayload({ tenantId: b, code: 'from domaeka import store\ndef handle_command(p):\n    return str(store.incr("n"))\n', codeVersion: 'b:1' }));
    const [h, by] = await Promise.all([hostile, bystander]);
    expect(text(h)).toBe('KB_ERR_STORE_PROTOCOL | KB_ERR_STORE_PROTOCOL | KB_ERR_STORE_PROTOCOL | KB_ERR_STORE_PROTOCOL | still works');
    expect(text(by)).toBe('1');
    const again = await caller.call(runner.queue, caller.callPayload({ tenantId: b, code: 'from domaeka import store\ndef handle_command(p):\n    return str(store.incr("n"))\n', codeVersion: 'b:1' }));
    expect(text(again)).toBe('2');
    const metrics = await (await fetch(`http://127.0.0.1:${runner.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/kb_runner_store_requests_total\{[^}]*op="set"[^}]*result="ok"[^}]*\} [1-9]/);
  });
});
