import { randomBytes } from 'node:crypto';
import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names, routingKeys, type EnvelopeOf, type RunnerCallPayload, type RunnerOutputPayload, type RunnerProfile, type RunnerStatsPayload } from '@domaeka/broker';
import { buildRunner, type Runner } from '../src/app.js';
import { parseRunnerConfig } from '../src/config.js';
import { LABELS } from '../src/docker/container-spec.js';
import { DockerEngine } from '../src/docker/docker-engine.js';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { RpcCaller } from '../../../test/support/runner-rpc.js';
import { waitFor } from '../../../test/support/wait.js';

/**
 * Dedicated mode against the real Docker engine: one long-lived container
 * per tenant, module state kept between calls, never shared between
 * tenants; new versions loaded without dropping calls; restarted after it
 * dies; evicted when idle. Also live stats telemetry while a call runs.
 */
const PREMIUM: RunnerProfile = { name: 'premium', memoryMb: 512, cpus: 1, timeoutMaxMs: 30_000, maxConcurrency: 4 };

const COUNTER = `
import os
hits = 0

def handle_command(params):
    global hits
    hits += 1
    seen = os.path.exists("/tmp/mark")
    with open("/tmp/mark", "w") as f:
        f.write("x")
    return f"{params['parameters'][0]} {hits} {'seen' if seen else 'fresh'}"
`;

describe('runner: dedicated tenant containers', () => {
  let env: TestEnv;
  let runner: Runner;
  let caller: RpcCaller;
  let stats: ChannelModel;
  const engine = new DockerEngine(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
  const runnerId = `t-ded-${randomBytes(3).toString('hex')}`;
  const version = `c1:${randomBytes(4).toString('hex')}`;

  const call = (tenantId: string, word: string, over: Partial<RunnerCallPayload> = {}) =>
    caller.call(
      runner.queue,
      caller.callPayload({ code: COUNTER, codeVersion: version, commandId: 'c1', tenantId, mode: 'dedicated', profile: PREMIUM, params: { parameters: [word] }, ...over }),
    );
  const text = async (p: Promise<{ result: Record<string, unknown> | null; error: { code: string; message: string } | null }>) => {
    const r = await p;
    return r.result ? String(r.result.text) : `${r.error?.code}: ${r.error?.message}`;
  };
  const dedicatedOf = async (tenantId: string) =>
    (await engine.listByLabels([`${LABELS.runner}=${runnerId}`, `${LABELS.tenant}=${tenantId}`])).filter((c) => c.labels[LABELS.role] === 'dedicated');

  beforeAll(async () => {
    env = await createTestEnv('runner-dedicated');
    runner = buildRunner(
      parseRunnerConfig({ ...env.env, RUNNER_ID: runnerId, RUNNER_HTTP_PORT: '0', RUNNER_HTTP_HOST: '127.0.0.1', RUNNER_POOL_SIZE: '1', RUNNER_DEDICATED_IDLE_MS: '60000' }),
    );
    await runner.start();
    caller = await RpcCaller.connect(env.amqpUrl);
    stats = await amqp.connect(env.amqpUrl);
  });

  afterAll(async () => {
    await caller?.close();
    await stats?.close();
    await runner?.stop();
    await env?.cleanup();
  });

  it('keeps module state and files between calls of one tenant, in one container labelled with it', async () => {
    expect(await text(call('tenant-a', '하나'))).toBe('하나 1 fresh');
    expect(await text(call('tenant-a', '둘'))).toBe('둘 2 seen');
    expect(await text(call('tenant-a', '셋'))).toBe('셋 3 seen');
    const held = await dedicatedOf('tenant-a');
    expect(held).toHaveLength(1);
    expect(runner.dedicated().find((d) => d.tenantId === 'tenant-a')).toMatchObject({ containerId: held[0]!.id, calls: 3, transport: 'unix' });
  });

  it('talks to a dedicated runtime over a unix socket that no one else can reach: gone once connected, its directory unlisted and read-only', async () => {
    const probe = `
import os
def handle_command(params):
    out = [str(os.path.exists("/run/kb/rt.sock"))]
    try:
        os.listdir("/run/kb")
        out.append("listed")
    except PermissionError:
        out.append("unlisted")
    try:
        open("/run/kb/planted", "w")
        out.append("wrote")
    except OSError as e:
        out.append(type(e).__name__)
    return " ".join(out)
`;
    const r = await text(call('tenant-sock', 'x', { code: probe, codeVersion: 'probe:1', commandId: 'probe' }));
    expect(r).toBe('False unlisted OSError');
  });

  it('never lets state or files cross tenants: another tenant gets a container of its own', async () => {
    expect(await text(call('tenant-b', '하나'))).toBe('하나 1 fresh');
    expect(await text(call('tenant-a', '넷'))).toBe('넷 4 seen');
    const a = await dedicatedOf('tenant-a');
    const b = await dedicatedOf('tenant-b');
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(a[0]!.id).not.toBe(b[0]!.id);
  });

  it('starts every ephemeral run clean, whatever ran before', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await caller.call(runner.queue, caller.callPayload({ code: COUNTER, tenantId: 'tenant-a', params: { parameters: ['임시'] } }));
      expect(r.result?.text).toBe('임시 1 fresh');
    }
  });

  it('loads a new version without dropping calls: calls before it finish on the old one, the next use the new one', async () => {
    const slowV1 = `import time\ndef handle_command(params):\n    time.sleep(0.3)\n    return "v1 " + params["parameters"][0]\n`;
    const v2 = `def handle_command(params):\n    return "v2 " + params["parameters"][0]\n`;
    const v1Id = `c2:${randomBytes(4).toString('hex')}`;
    const v2Id = `c2:${randomBytes(4).toString('hex')}`;
    const c2 = (word: string, code: string, codeVersion: string) => text(call('tenant-c', word, { commandId: 'c2', code, codeVersion }));
    const answers = await Promise.all([c2('1', slowV1, v1Id), c2('2', slowV1, v1Id), c2('3', v2, v2Id), c2('4', slowV1, v1Id), c2('5', v2, v2Id)]);
    expect(answers).toEqual(['v1 1', 'v1 2', 'v2 3', 'v1 4', 'v2 5']);
    expect(await dedicatedOf('tenant-c')).toHaveLength(1);
  });

  it('keeps the old version in service when a new one does not load', async () => {
    const good = `def handle_command(params):\n    return "good"\n`;
    const goodId = `c3:${randomBytes(4).toString('hex')}`;
    expect(await text(call('tenant-c', 'x', { commandId: 'c3', code: good, codeVersion: goodId }))).toBe('good');
    const broken = await call('tenant-c', 'x', { commandId: 'c3', code: 'def handle_command(params):\n    return (\n', codeVersion: `c3:${randomBytes(4).toString('hex')}` });
    expect(broken.error?.code).toMatch(/KB_ERR_(LINT|USER_EXCEPTION)/);
    expect(await text(call('tenant-c', 'x', { commandId: 'c3', code: good, codeVersion: goodId }))).toBe('good');
  });

  it('restarts a container that died between calls (state starts over)', async () => {
    expect(await text(call('tenant-d', '하나'))).toBe('하나 1 fresh');
    const [before] = await dedicatedOf('tenant-d');
    await engine.kill(before!.id);
    await waitFor(async () => (await dedicatedOf('tenant-d')).length === 0, { what: 'the dead container removed' });
    expect(await text(call('tenant-d', '둘'))).toBe('둘 1 fresh');
    const [after] = await dedicatedOf('tenant-d');
    expect(after!.id).not.toBe(before!.id);
  });

  it('recycles a container whose call left a thread running, once the answer is out; one that leaves nothing stays', async () => {
    const tidy = `import threading\nn = 0\ndef handle_command(params):\n    global n\n    n += 1\n    t = threading.Thread(target=lambda: None)\n    t.start(); t.join()\n    return f"tidy {n}"\n`;
    expect(await text(call('tenant-t', 'x', { commandId: 'tidy', code: tidy, codeVersion: 'tidy:1' }))).toBe('tidy 1');
    expect(await text(call('tenant-t', 'x', { commandId: 'tidy', code: tidy, codeVersion: 'tidy:1' }))).toBe('tidy 2');
    const [kept] = await dedicatedOf('tenant-t');

    const lingering = `import threading, time\nn = 0\ndef handle_command(params):\n    global n\n    n += 1\n    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n    return f"lingering {n}"\n`;
    // Its answer arrives as usual; the container it ran in is removed after it.
    expect(await text(call('tenant-t', 'x', { commandId: 'linger', code: lingering, codeVersion: 'linger:1' }))).toBe('lingering 1');
    await waitFor(async () => (await engine.inspect(kept!.id).catch(() => null)) === null, { what: 'the container with a leftover thread removed' });
    // The next call starts over in a new container: module state is gone with the thread.
    expect(await text(call('tenant-t', 'x', { commandId: 'tidy', code: tidy, codeVersion: 'tidy:1' }))).toBe('tidy 1');
    const [fresh] = await dedicatedOf('tenant-t');
    expect(fresh!.id).not.toBe(kept!.id);
  });

  it('answers a timeout with KB_ERR_TIMEOUT, the container gone before the answer; the next call gets a new one', async () => {
    expect(await text(call('tenant-e', '하나'))).toBe('하나 1 fresh');
    const [before] = await dedicatedOf('tenant-e');
    const spin = `def handle_command(params):\n    while True:\n        pass\n`;
    const r = await call('tenant-e', 'x', { commandId: 'spin', code: spin, codeVersion: 'spin:1', timeoutMs: 800 });
    expect(r.error?.code).toBe('KB_ERR_TIMEOUT');
    expect(await engine.inspect(before!.id).catch(() => null)).toBeNull();
    expect(await text(call('tenant-e', '둘'))).toBe('둘 1 fresh');
  });

  it('reports OOM in a dedicated container as KB_ERR_MEMORY_LIMIT and recovers', async () => {
    const bomb = `def handle_command(params):\n    blob = "x" * (1024 * 1024 * 1024)\n    return str(len(blob))\n`;
    // A generous timeout: under load the kernel takes seconds to OOM-kill a 512 MB cgroup, and the kill must win.
    const r = await call('tenant-f', 'x', { commandId: 'bomb', code: bomb, codeVersion: 'bomb:1', timeoutMs: 15_000 });
    expect(r.error?.code).toBe('KB_ERR_MEMORY_LIMIT');
    expect(await text(call('tenant-f', '하나'))).toBe('하나 1 fresh');
  });

  it('never starts a call whose deadline passed while earlier calls of the tenant ran', async () => {
    const slow = `import time\ndef handle_command(params):\n    time.sleep(1.0)\n    return "slow"\n`;
    const first = call('tenant-g', 'x', { commandId: 'slow', code: slow, codeVersion: 'slow:1', timeoutMs: 3000 });
    // This one's deadline is over before the slow call ends.
    const second = call('tenant-g', 'y', { deadline: Date.now() + 400, timeoutMs: 300 });
    expect(await text(first)).toBe('slow');
    const late = await second;
    expect(late.error?.code).toBe('KB_ERR_TIMEOUT');
    expect(late.error?.message).toMatch(/not run/);
    // Not run: its module never counted a hit.
    expect(await text(call('tenant-g', 'z'))).toBe('z 1 fresh');
  });

  it('streams output and publishes CPU and memory several times a second while a call asks (`live`)', async () => {
    const ch = await stats.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, names(env.brokerPrefix).telemetry, routingKeys.runnerStats('tenant-h'));
    await ch.bindQueue(queue, names(env.brokerPrefix).telemetry, routingKeys.runnerOutput('tenant-h'));
    const seen: RunnerStatsPayload[] = [];
    const printed: Array<RunnerOutputPayload & { at: number }> = [];
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const e = JSON.parse(m.content.toString()) as EnvelopeOf<RunnerStatsPayload | RunnerOutputPayload>;
        if (e.type === 'runner.output') printed.push({ ...(e.payload as RunnerOutputPayload), at: Date.now() });
        else seen.push(e.payload as RunnerStatsPayload);
      },
      { noAck: true },
    );
    const busy = `import time\ndef handle_command(params):\n    print("시작")\n    end = time.time() + 1.2\n    junk = []\n    while time.time() < end:\n        junk.append("x" * 1000)\n    print("끝")\n    return "done"\n`;
    const r = await call('tenant-h', 'x', { commandId: 'busy', code: busy, codeVersion: 'busy:1', live: true });
    const answeredAt = Date.now();
    expect(r.result?.text).toBe('done');
    expect(r.output).toBe('시작\n끝\n');
    await waitFor(() => seen.length >= 3 && printed.length >= 2, { what: 'stats and output events' });
    expect(printed.map((p) => [p.seq, p.data])).toEqual([[0, '시작\n'], [1, '끝\n']]);
    // the first line was out long before the answer (the call ran 1.2 s after printing it)
    expect(answeredAt - printed[0]!.at).toBeGreaterThan(800);
    expect(seen.every((s) => s.callId && s.tenantId === 'tenant-h' && s.memoryLimitBytes === 512 * 1024 * 1024)).toBe(true);
    expect(Math.max(...seen.map((s) => s.cpuPercent ?? 0))).toBeGreaterThan(20);
    expect(Math.max(...seen.map((s) => s.memoryBytes ?? 0))).toBeGreaterThan(5 * 1024 * 1024);
    // Room calls do not ask: nothing published for them.
    const count = seen.length + printed.length;
    expect(await text(call('tenant-h', '하나'))).toBe('하나 1 fresh');
    await ch.close();
    expect(seen.length + printed.length).toBe(count);
  });

  it('evicts an idle container after the configured time', async () => {
    const idleRunnerId = `${runnerId}-idle`;
    const idle = buildRunner(
      parseRunnerConfig({ ...env.env, RUNNER_ID: idleRunnerId, RUNNER_HTTP_PORT: '0', RUNNER_HTTP_HOST: '127.0.0.1', RUNNER_POOL_SIZE: '0', RUNNER_DEDICATED_IDLE_MS: '1500' }),
    );
    await idle.start();
    try {
      const r = await caller.call(idle.queue, caller.callPayload({ code: COUNTER, codeVersion: version, commandId: 'c1', tenantId: 'tenant-i', mode: 'dedicated', profile: PREMIUM, params: { parameters: ['하나'] } }));
      expect(r.result?.text).toBe('하나 1 fresh');
      expect(idle.dedicated()).toHaveLength(1);
      await waitFor(async () => (await engine.listByLabels([`${LABELS.runner}=${idleRunnerId}`])).length === 0, { what: 'idle eviction', timeoutMs: 10_000 });
      expect(idle.dedicated()).toHaveLength(0);
    } finally {
      await idle.stop();
    }
  });
});
