import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { roomMessageFor } from '@domaeka/core';
import { waitFor } from '../support/wait.js';
import { report, startRig, type Rig } from './support.js';

const execFileP = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Starts the engine if it does not answer (idempotent): the rest of the machine depends on it. */
const ensureDocker = () => execFileP('bash', ['scripts/ensure-docker.sh'], { cwd: root, timeout: 120_000 });

async function dockerdPid(): Promise<number> {
  const { stdout } = await execFileP('pidof', ['dockerd']);
  const pids = stdout.trim().split(/\s+/).map(Number);
  if (pids.length !== 1 || !pids[0]) throw new Error(`expected one dockerd, found "${stdout.trim()}"`);
  return pids[0];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const QUICK = `
def handle_command(params):
    return "응답 " + params["parameters"][0]
`;

/**
 * The Docker engine restarted under a running runner (issue 3): the runner
 * process lives on (same pid), reports not-ready while the engine is away,
 * is ready again once it is back, refills its warm pool and the sandbox
 * command answers again. A message sent while the engine is down gets the
 * Korean "no runner" text (or its answer, should the engine be back first):
 * never lost. This stops the machine's engine for everyone: the file
 * restarts it in `finally` and in afterAll whatever happens.
 */
describe('chaos: Docker engine restarted under the runner', () => {
  let rig: Rig;
  const runnerId = `chaos-d-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    await ensureDocker();
    rig = await startRig('docker-restart', {
      phones: 1,
      sandbox: { runnerEnv: { RUNNER_ID: runnerId, RUNNER_POOL_SIZE: '2', RUNNER_POOL_PROFILES: 'free:256:0.5' }, command: '파이썬', pattern: '^파이썬\\s+(\\S+)$', code: QUICK },
    });
  });
  afterAll(async () => {
    await ensureDocker();
    await rig?.close();
  });

  it('keeps the runner process, recovers readiness and the pool, and answers again', async () => {
    onTestFailed(() => rig.dumpLogs());
    const started = Date.now();
    const { platform, rooms } = rig;
    const say = (id: string) => rig.sendInRoom(id, `파이썬 ${id}`);
    const okFor = (id: string) => rooms.of(id)[0]?.text === `응답 ${id}`;
    const runnerReady = async () => (await fetch(`http://127.0.0.1:${platform.healthPort('runner')}/readyz`).catch(() => null))?.status === 200;
    const runningPool = async () => (await rig.containers()).filter((c) => c.role === 'pool' && c.state === 'running');

    say('e1');
    await waitFor(() => okFor('e1'), { timeoutMs: 20_000, what: 'e1 answered' });
    const runnerPid = platform.pid('runner');
    const poolBefore = await waitFor(async () => {
      const pool = await runningPool();
      return pool.length >= 2 && pool;
    }, { timeoutMs: 30_000, what: 'warm pool' });

    const dockerd = await dockerdPid();
    let stoppedAt = 0;
    let restartedAt = 0;
    let sawNotReady = false;
    let downAnswer: string | null = null;
    try {
      process.kill(dockerd, 'SIGTERM');
      // The runner notices as soon as the engine's socket stops answering (dockerd first stops the containers).
      sawNotReady = await waitFor(async () => !(await runnerReady()), { timeoutMs: 60_000, intervalMs: 100, what: 'runner not ready' }).catch(() => false);
      await waitFor(() => !alive(dockerd), { timeoutMs: 60_000, intervalMs: 100, what: 'dockerd gone' });
      stoppedAt = Date.now();

      // A message while the engine is away: answered at once with the Korean "no runner" text.
      say('x1');
      await waitFor(() => rooms.of('x1').length > 0, { timeoutMs: 15_000, what: 'x1 answered while the engine is down' }).catch(() => undefined);
      downAnswer = rooms.of('x1')[0]?.text ?? null;
      expect(await runnerReady()).toBe(false);
    } finally {
      await ensureDocker();
      restartedAt = Date.now();
    }

    // Back: ready again, the same process, its pool warm, the command answering.
    await waitFor(() => runnerReady(), { timeoutMs: 60_000, intervalMs: 200, what: 'runner ready again' });
    const readyAfterMs = Date.now() - restartedAt;
    const poolAfter = await waitFor(async () => {
      const pool = await runningPool();
      return pool.length >= 2 && pool;
    }, { timeoutMs: 60_000, intervalMs: 250, what: 'warm pool refilled' });
    await waitFor(async () => (await rig.metric('runner', /^kb_runner_pool_ready\{/)) >= 2, { timeoutMs: 10_000, what: 'pool gauge' });
    const poolAfterMs = Date.now() - restartedAt;
    say('e2');
    await waitFor(() => okFor('e2'), { timeoutMs: 20_000, what: 'e2 answered' });
    await waitFor(() => rooms.of('x1').length > 0, { timeoutMs: 20_000, what: 'x1 answered' });
    await rig.quiet();

    // Containers of the engine's earlier life: removed by the runner once the engine is back.
    const before = new Set(poolBefore.map((c) => c.id));
    const leftovers = await waitFor(async () => {
      const stale = (await rig.containers()).filter((c) => before.has(c.id));
      return stale.length === 0 ? stale : undefined;
    }, { timeoutMs: 20_000, what: 'pre-restart containers removed' }).catch(async () => (await rig.containers()).filter((c) => before.has(c.id)));

    report('docker-restart', {
      sawNotReady,
      x1WhileDown: downAnswer,
      x1: rooms.of('x1').map((r) => r.text),
      engineDownMs: restartedAt - stoppedAt,
      readyAfterMs,
      poolAfterMs,
      poolAfter: poolAfter.length,
      leftovers: leftovers.map((c) => `${c.role}/${c.state}`),
      runnerCouldNotStart: rig.logged('runner', /could not start/),
      // What the runner said meanwhile (warn level): pooled containers lost with the engine, refills retried with backoff.
      idleDeaths: rig.logged('runner', /died while idle/),
      refillFailures: rig.logged('runner', /pool refill failed/),
      removalFailures: rig.logged('runner', /removal failed/),
      durationMs: Date.now() - started,
    });

    // The same runner process throughout: it recovered without a restart of its own.
    expect(platform.pid('runner')).toBe(runnerPid);
    expect(alive(runnerPid!)).toBe(true);
    expect(sawNotReady).toBe(true);
    // Every message answered once; the one sent while the engine was away in Korean (or, late, with its answer).
    for (const id of ['e1', 'x1', 'e2']) expect({ id, replies: rooms.of(id).length }).toEqual({ id, replies: 1 });
    expect([roomMessageFor('KB_ERR_NO_RUNNER'), roomMessageFor('KB_ERR_SANDBOX_CRASHED'), '응답 x1']).toContain(rooms.of('x1')[0]!.text);
    expect(okFor('e2')).toBe(true);
    expect(poolAfter.every((c) => !before.has(c.id))).toBe(true);
    expect(leftovers).toEqual([]);
  });
});
