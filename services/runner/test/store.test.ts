import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerCallPayload, RunnerProfile, RunnerResultPayload } from '@domaeka/broker';
import { buildRunner, type Runner } from '../src/app.js';
import { parseRunnerConfig } from '../src/config.js';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { FREE_PROFILE, RpcCaller } from '../../../test/support/runner-rpc.js';
import { waitFor } from '../../../test/support/wait.js';
import { containersOf, makeTenants } from './store-support.js';

/**
 * The key-value store from tenant code (`from domaeka import store`, issue
 * 15) against the real runner, Docker and PostgreSQL: the data lives in
 * the database (across calls, containers and modes), per tenant, with
 * TTLs, the plan's quotas and a budget of store calls per run.
 */
const FREE: RunnerProfile = { ...FREE_PROFILE, storeMaxKeys: 1000, storeMaxBytes: 1024 * 1024 };
const PREMIUM: RunnerProfile = { name: 'premium', memoryMb: 512, cpus: 1, timeoutMaxMs: 30_000, maxConcurrency: 4, storeMaxKeys: 100_000, storeMaxBytes: 100 * 1024 * 1024 };
const CALLS_PER_RUN = 40;

const POINTS = `
from domaeka import store

def handle_command(params):
    n = store.incr("포인트:" + params["sender"])
    return f"포인트: {n}"
`;

/** Runs the op named by the first parameter: the test's hands inside a tenant's code. */
const OPS = `
import json
from domaeka import store, StoreError

def handle_command(params):
    op, *args = params["parameters"]
    try:
        if op == "set":
            store.set(args[0], json.loads(args[1]), ttl=float(args[2]) if len(args) > 2 else None)
            return "ok"
        if op == "get":
            return json.dumps(store.get(args[0]), ensure_ascii=False)
        if op == "delete":
            return str(store.delete(args[0]))
        if op == "keys":
            return json.dumps(store.keys(args[0] if args else ""), ensure_ascii=False)
        if op == "fill":
            for i in range(int(args[1])):
                store.set(f"{args[0]}{i}", json.loads(args[2]))
            return "filled"
        if op == "spin":
            done = 0
            try:
                for _ in range(int(args[0])):
                    store.get("x")
                    done += 1
            except StoreError as e:
                return f"{done} {type(e).__name__} {e}"
            return f"{done}"
    except StoreError as e:
        if op == "fill":
            raise
        return f"{type(e).__name__}: {e}"
    return "unknown op"
`;

describe('runner: the store from tenant code', () => {
  let env: TestEnv;
  let runner: Runner;
  let caller: RpcCaller;
  let db: pg.Client;
  let a = '';
  let b = '';
  let c = '';
  const runnerId = `t-store-${randomBytes(3).toString('hex')}`;

  const call = (tenantId: string, code: string, parameters: string[], over: Partial<RunnerCallPayload> = {}) =>
    caller.call(runner.queue, caller.callPayload({ tenantId, code, codeVersion: `v:${code.length}`, commandId: 'c1', params: { sender: '홍길동', parameters }, profile: FREE, ...over }));
  const text = (r: RunnerResultPayload) => (r.result ? String(r.result.text) : `${r.error?.code}: ${r.error?.message}`);
  const op = async (tenantId: string, ...parameters: string[]) => text(await call(tenantId, OPS, parameters));
  const row = async (tenantId: string, key: string) =>
    (await db.query<{ value: unknown; bytes: number; ttl_ms: number | null }>(
      `select value, bytes, (extract(epoch from expires_at - updated_at) * 1000)::int as ttl_ms from kb_store where tenant_id = $1 and key = $2`,
      [tenantId, key],
    )).rows[0];
  const usage = async (tenantId: string) => (await db.query<{ keys: number; bytes: string }>('select keys, bytes from kb_store_usage where tenant_id = $1', [tenantId])).rows[0];

  beforeAll(async () => {
    env = await createTestEnv('runner-store');
    [a, b, c] = (await makeTenants(env.databaseUrl, ['상점 A', '상점 B', '상점 C'])) as [string, string, string];
    runner = buildRunner(
      parseRunnerConfig({
        ...env.env,
        RUNNER_ID: runnerId,
        RUNNER_HTTP_PORT: '0',
        RUNNER_HTTP_HOST: '127.0.0.1',
        RUNNER_POOL_SIZE: '1',
        RUNNER_STORE_CALLS_MAX: String(CALLS_PER_RUN),
        RUNNER_STORE_SWEEP_MS: '200',
      }),
    );
    await runner.start();
    caller = await RpcCaller.connect(env.amqpUrl);
    db = new pg.Client({ connectionString: env.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await caller?.close();
    await runner?.stop();
    await env?.cleanup();
  });

  it('counts per sender with store.incr across ephemeral calls: 1, 2, 3 (each call a fresh container)', async () => {
    for (const n of [1, 2, 3]) expect(text(await call(a, POINTS, []))).toBe(`포인트: ${n}`);
    expect(text(await call(a, POINTS, [], { params: { sender: '김철수', parameters: [] } }))).toBe('포인트: 1');
    expect(await row(a, '포인트:홍길동')).toMatchObject({ value: 3, bytes: 1, ttl_ms: null });
    expect(await usage(a)).toEqual({ keys: 2, bytes: '2' });
  });

  it("counts across a dedicated container's calls too, in one container, and both modes see the tenant's one store", async () => {
    const dedicated = { mode: 'dedicated' as const, profile: PREMIUM, params: { sender: '이영희', parameters: [] } };
    for (const n of [1, 2, 3]) expect(text(await call(b, POINTS, [], dedicated))).toBe(`포인트: ${n}`);
    expect(runner.dedicated().find((d) => d.tenantId === b)).toMatchObject({ calls: 3 });
    expect(await containersOf(runnerId, 'dedicated')).toHaveLength(1);
    // The same tenant's ephemeral run (another container, another plan profile) counts on from the same row.
    expect(text(await call(b, POINTS, [], { params: { sender: '이영희', parameters: [] } }))).toBe('포인트: 4');
  });

  it('reads an expired key as missing, then deletes it (lazily and by the sweep)', async () => {
    expect(await op(c, 'set', '영구', '"남음"')).toBe('ok');
    expect(await op(c, 'set', '한시간', '1', '3600')).toBe('ok');
    expect((await row(c, '한시간'))?.ttl_ms).toBe(3_600_000);
    expect(await op(c, 'set', '인증번호', '"1234"', '0.3')).toBe('ok');
    // Read until it has expired (the database's clock decides): then missing, and not listed.
    await waitFor(async () => (await op(c, 'get', '인증번호')) === 'null', { what: 'the key to expire' });
    expect(await op(c, 'keys')).toBe('["영구", "한시간"]');
    // Gone from the table too, and from the tenant's usage.
    await waitFor(async () => (await row(c, '인증번호')) === undefined, { what: 'the expired row deleted' });
    expect(await usage(c)).toEqual({ keys: 2, bytes: '9' });
    // A key the sweep alone deletes (nobody reads it again).
    expect(await op(c, 'set', '임시', '[1,2]', '0.2')).toBe('ok');
    await waitFor(async () => (await row(c, '임시')) === undefined, { what: 'the sweep to delete the expired row' });
    expect(await usage(c)).toEqual({ keys: 2, bytes: '9' });
  });

  it("keeps tenants apart: the same key holds each tenant's own value, and one's delete leaves the other's", async () => {
    expect(await op(a, 'set', '비밀', '"A의 값"')).toBe('ok');
    expect(await op(b, 'set', '비밀', '"B의 값"')).toBe('ok');
    expect(await op(a, 'get', '비밀')).toBe('"A의 값"');
    expect(await op(b, 'get', '비밀')).toBe('"B의 값"');
    expect(await op(b, 'keys')).toBe('["비밀", "포인트:이영희"]');
    expect(await op(a, 'delete', '비밀')).toBe('True');
    expect(await op(a, 'delete', '비밀')).toBe('False');
    expect(await op(b, 'get', '비밀')).toBe('"B의 값"');
    expect(await op(a, 'get', '포인트:이영희')).toBe('null');
  });

  it('refuses a write over the plan\'s keys or bytes with KB_ERR_STORAGE_QUOTA in Korean; nothing stored before is lost', async () => {
    const [d, e] = await makeTenants(env.databaseUrl, ['상점 D', '상점 E']);
    const small = { profile: { ...FREE, storeMaxKeys: 3, storeMaxBytes: 100 } };
    const full = await call(d!, OPS, ['fill', 'k', '5', '"값"'], small);
    // The message (Korean first), then the tenant's traceback to the line (the editor shows both; the room the platform's text).
    expect(full.error).toMatchObject({ code: 'KB_ERR_STORAGE_QUOTA', line: 19 });
    expect(full.error?.message).toMatch(/^저장 공간이 가득 찼습니다: 키는 3개까지 저장할 수 있습니다 \/ storage quota reached: at most 3 keys\nTraceback/);
    for (const i of [0, 1, 2]) expect(text(await call(d!, OPS, ['get', `k${i}`], small))).toBe('"값"');
    expect(text(await call(d!, OPS, ['get', 'k3'], small))).toBe('null');
    // At its keys quota a tenant still replaces and deletes what it has.
    expect(text(await call(d!, OPS, ['set', 'k0', '"바뀜"'], small))).toBe('ok');
    expect(text(await call(d!, OPS, ['get', 'k0'], small))).toBe('"바뀜"');
    expect(await usage(d!)).toEqual({ keys: 3, bytes: '18' });

    const bytes = await call(e!, OPS, ['fill', 'b', '3', JSON.stringify('x'.repeat(40))], small);
    expect(bytes.error).toMatchObject({ code: 'KB_ERR_STORAGE_QUOTA', message: expect.stringMatching(/^저장 공간이 가득 찼습니다: 값은 모두 합쳐 100 B까지/) });
    expect(text(await call(e!, OPS, ['get', 'b1'], small))).toBe(JSON.stringify('x'.repeat(40)));
    expect(text(await call(e!, OPS, ['get', 'b2'], small))).toBe('null');
    expect(await usage(e!)).toEqual({ keys: 2, bytes: '84' });
  });

  it('allows a run a budget of store calls, then refuses with a named error; the next run has its own', async () => {
    expect(await op(a, 'spin', String(CALLS_PER_RUN + 10))).toBe(`${CALLS_PER_RUN} TooManyCalls 한 번 실행에 저장소를 ${CALLS_PER_RUN}번까지 쓸 수 있습니다 / at most ${CALLS_PER_RUN} store calls per run`);
    expect(await op(a, 'spin', '5')).toBe('5');
  });

  it('names what it cannot store: a non-number for incr, a value over 64 KiB, a NUL', async () => {
    expect(await op(a, 'set', '문자', '"abc"')).toBe('ok');
    const nan = await call(a, `from domaeka import store\ndef handle_command(p):\n    return str(store.incr("문자"))\n`, []);
    expect(nan.error).toMatchObject({ code: 'KB_ERR_USER_EXCEPTION', message: expect.stringContaining("domaeka.NotANumber: '문자'의 값이 숫자가 아니라서") });
    expect(await op(a, 'set', '큼', JSON.stringify('가'.repeat(30_000)))).toMatch(/^ValueTooLarge: 값이 너무 큽니다/);
    expect(await op(a, 'set', '널', '"a\\u0000b"')).toMatch(/^InvalidArgument: 값에 저장할 수 없는 문자/);
    expect(await op(a, 'get', '널')).toBe('null');
  });

  it('says it is ready only with its database', async () => {
    const r = await fetch(`http://127.0.0.1:${runner.httpPort}/readyz`);
    expect(await r.json()).toMatchObject({ status: 'ready', checks: { database: true } });
  });
});
