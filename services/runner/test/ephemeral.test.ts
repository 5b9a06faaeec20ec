import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRunner, type Runner } from '../src/app.js';
import { parseRunnerConfig } from '../src/config.js';
import { LABELS, containerSpec } from '../src/docker/container-spec.js';
import { DockerEngine } from '../src/docker/docker-engine.js';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { FREE_PROFILE, RpcCaller } from '../../../test/support/runner-rpc.js';
import { waitFor } from '../../../test/support/wait.js';

/**
 * The runner against the real Docker engine, image and broker: ephemeral
 * runs over the RPC contract, the limits that end runs, deadlines, orphan
 * reaping. Each runner has its own id and this file its own broker prefix
 * (also a container label), so parallel files never touch each other's
 * containers.
 */
const WEATHER = `
from datetime import datetime
from zoneinfo import ZoneInfo

def handle_command(params):
    place = params["parameters"][0] if params.get("parameters") else "서울"
    print("looking up", place)
    now = datetime.now(ZoneInfo("Asia/Seoul")).strftime("%H")
    return {"text": f"🌤️ {place} 날씨: 맑음 ({len(now)})", "buttons": [{"label": "자세히", "url": "https://weather.example/"}]}
`;

describe('runner: ephemeral runs over RPC', () => {
  let env: TestEnv;
  let runner: Runner;
  let caller: RpcCaller;
  const engine = new DockerEngine(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
  const runnerId = `t-eph-${randomBytes(3).toString('hex')}`;
  const leftovers: string[] = [];

  const runnerConfig = (over: Record<string, string>) =>
    parseRunnerConfig({ ...env.env, RUNNER_HTTP_PORT: '0', RUNNER_HTTP_HOST: '127.0.0.1', RUNNER_POOL_SIZE: '1', ...over });

  /** Roles of this runner's containers, as Docker lists them. */
  const roles = async (id = runnerId) => (await engine.listByLabels([`${LABELS.runner}=${id}`])).map((c) => c.labels[LABELS.role]);

  beforeAll(async () => {
    env = await createTestEnv('runner-ephemeral');
    runner = buildRunner(runnerConfig({ RUNNER_ID: runnerId }));
    await runner.start();
    caller = await RpcCaller.connect(env.amqpUrl);
    await waitFor(() => runner.poolReady() >= 1, { what: 'a warm pool' });
  });

  afterAll(async () => {
    await caller?.close();
    await runner?.stop();
    for (const id of leftovers) await engine.remove(id).catch(() => undefined);
    await env?.cleanup();
  });

  it('answers a weather-like command with its result; what it printed stays in output', async () => {
    const r = await caller.call(runner.queue, caller.callPayload({ code: WEATHER }));
    expect(r.error).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.result).toMatchObject({ type: 'text', text: '🌤️ 화도읍 날씨: 맑음 (2)', buttons: [{ label: '자세히', url: 'https://weather.example/' }] });
    expect(r.output).toBe('looking up 화도읍\n');
    expect(r.cpuMs).toBeGreaterThan(0);
    expect(r.peakMemoryBytes).toBeGreaterThan(1024 * 1024);
  });

  it('never lets printed text pose as the result', async () => {
    const forged = '{"id": 1, "ok": true, "result": {"type": "text", "text": "forged"}}';
    const code = `
import os
def handle_command(params):
    print(${JSON.stringify(forged)})
    os.write(1, b"\\x00\\x00\\x00\\x10forged-frame....")
    return "real answer"
`;
    const r = await caller.call(runner.queue, caller.callPayload({ code }));
    expect(r.result).toMatchObject({ type: 'text', text: 'real answer' });
    expect(r.output).toContain('forged');
  });

  it('kills a CPU spin that swallows the soft timeout: KB_ERR_TIMEOUT, container gone', async () => {
    const code = `
def handle_command(params):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
`;
    // The deadline ten minutes off: an answer at all means the kill came from the call's own timeout (+ grace), not the deadline.
    const r = await caller.call(runner.queue, caller.callPayload({ code, timeoutMs: 1000, deadline: Date.now() + 600_000 }));
    expect(r.error?.code).toBe('KB_ERR_TIMEOUT');
    // Failures are removed before the answer: only pool containers are left.
    expect((await roles()).every((role) => role === 'pool')).toBe(true);
  });

  it('reports a memory bomb as KB_ERR_MEMORY_LIMIT', async () => {
    const code = `
def handle_command(params):
    blob = "x" * (1024 * 1024 * 1024)
    return str(len(blob))
`;
    const r = await caller.call(runner.queue, caller.callPayload({ code }));
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('KB_ERR_MEMORY_LIMIT');
    expect((await roles()).every((role) => role === 'pool')).toBe(true);
  });

  it('reports a syntax error with its line', async () => {
    const code = 'def handle_command(params):\n    x = 1\n    return (x +\n';
    const r = await caller.call(runner.queue, caller.callPayload({ code }));
    expect(['KB_ERR_LINT', 'KB_ERR_USER_EXCEPTION']).toContain(r.error?.code);
    expect(r.error?.line).toBeGreaterThanOrEqual(3);
  });

  it('reports an exception in tenant code with the tenant line', async () => {
    const code = 'def handle_command(params):\n    items = []\n    return items[3]\n';
    const r = await caller.call(runner.queue, caller.callPayload({ code }));
    expect(r.error).toMatchObject({ code: 'KB_ERR_USER_EXCEPTION', line: 3 });
    expect(r.error?.message).toContain('IndexError');
  });

  it('does not run a call whose deadline has passed', async () => {
    const before = runner.counters.runs;
    const payload = caller.callPayload({ code: 'def handle_command(p):\n    return "ran"\n', deadline: Date.now() - 1 });
    // A long expiration: the broker delivers it, so the runner's own check is what stops it.
    const r = await caller.call(runner.queue, payload, { expirationMs: 60_000 });
    expect(r.error?.code).toBe('KB_ERR_TIMEOUT');
    expect(r.error?.message).toContain('not run');
    expect(runner.counters.runs).toBe(before);
    expect(runner.counters.refusedExpired).toBeGreaterThanOrEqual(1);
  });

  it('answers from a warm pool and from an empty one (round trips logged)', async () => {
    const trivial = 'def handle_command(p):\n    return "ok"\n';
    await waitFor(() => runner.poolReady() >= 1, { what: 'a warm pool' });
    let t = performance.now();
    const warm = await caller.call(runner.queue, caller.callPayload({ code: trivial }));
    const warmMs = performance.now() - t;
    // A profile no pool serves yet: the run starts its own container.
    const cold = { ...FREE_PROFILE, name: 'cold', memoryMb: 200 };
    const coldStartsBefore = runner.counters.coldStarts;
    t = performance.now();
    const coldResult = await caller.call(runner.queue, caller.callPayload({ code: trivial, profile: cold }));
    const coldMs = performance.now() - t;
    expect([warm.error, coldResult.error]).toEqual([null, null]);
    expect(runner.counters.coldStarts).toBe(coldStartsBefore + 1);
    console.log(`[runner] ephemeral round trip: warm pool ${warmMs.toFixed(1)} ms (run ${warm.durationMs} ms), empty pool ${coldMs.toFixed(1)} ms (run ${coldResult.durationMs} ms)`);
  });

  it('returns a call to a runner that is gone (mandatory publish)', async () => {
    await expect(caller.call(`${env.brokerPrefix}.runner.nobody`, caller.callPayload({ code: WEATHER }))).rejects.toThrow(/returned/);
  });

  it('reaps containers of dead runners of its own prefix at start, and nothing else', async () => {
    const spec = (rid: string, prefix: string) =>
      containerSpec({ image: 'domaeka-sandbox:latest', runnerId: rid, instance: 1, prefix, role: 'pool', profile: FREE_PROFILE, limits: { pidsLimit: 64, nofile: 64, tmpfsMb: 16 } });
    const orphan = await engine.create(spec('dead-runner', env.brokerPrefix));
    const foreign = await engine.create(spec('dead-runner', `${env.brokerPrefix}-other`));
    leftovers.push(orphan, foreign);
    const liveBefore = (await roles()).length;

    const second = buildRunner(runnerConfig({ RUNNER_ID: `${runnerId}-2`, RUNNER_POOL_SIZE: '0' }));
    await second.start();
    try {
      expect(second.reaped).toBe(1);
      expect(await engine.inspect(orphan)).toBeNull();
      expect(await engine.inspect(foreign)).not.toBeNull();
      // The first runner is alive (its queue exists): its containers stay.
      expect((await roles()).length).toBeGreaterThanOrEqual(Math.min(liveBefore, 1));
    } finally {
      await second.stop();
    }
  });
});
