import type { Logger } from 'pino';
import type { RunnerCallPayload } from '@domaeka/broker';
import type { DockerEngine } from '../docker/docker-engine.js';
import type { CgroupStats } from './cgroup-stats.js';
import type { LiveFeed } from './live-feed.js';
import { KILL_GRACE_MS, exchange, explainExit, explainKill, failed, stuckAtMemoryLimit, timedOutAtMemoryLimit, fromFrame, mustRemoveAfter, usageBetween, type RunOutcome } from './run-outcome.js';
import type { SandboxPool } from './sandbox-pool.js';
import { isMisuse } from './runtime-channel.js';
import type { Sandbox } from './sandbox-starter.js';

/**
 * One ephemeral run: a pooled container (or a fresh one) gets the code, runs
 * once and is destroyed (DESIGN.md section 5). A wall-clock kill at the
 * deadline backs the runtime's soft timeout; a channel that ends without a
 * response is explained by inspecting the container before it is removed.
 * CPU time and peak memory come from the container's cgroup. How many run
 * at once (per tenant, per runner) is the call consumer's decision (its
 * tenant lanes): a call reaches `run` only when it may start.
 */
export class EphemeralRunner {
  /** Containers being removed after a successful run (stop() waits for them). */
  private readonly removals = new Set<Promise<void>>();
  private running = 0;

  constructor(
    private readonly d: {
      engine: DockerEngine;
      pool: SandboxPool;
      cgroups: CgroupStats;
      live: LiveFeed;
      logger: Logger;
    },
  ) {}

  async run(call: RunnerCallPayload): Promise<RunOutcome> {
    this.running++;
    try {
      return await this.runInSandbox(call);
    } finally {
      this.running--;
    }
  }

  /** Runs holding a container now (the heartbeat's `containers.ephemeral`). */
  active(): number {
    return this.running;
  }

  /** Waits for background removals (stop()). */
  async settle(): Promise<void> {
    await Promise.all([...this.removals]);
  }

  private async runInSandbox(call: RunnerCallPayload): Promise<RunOutcome> {
    let acquired: { sandbox: Sandbox; pooled: boolean };
    try {
      acquired = await this.d.pool.acquire(call.profile);
    } catch (err) {
      // The engine or image is not there: a runner problem, the room hears "no runner".
      return failed('KB_ERR_NO_RUNNER', `sandbox unavailable: ${String((err as Error).message ?? err)}`, null);
    }
    const { sandbox, pooled } = acquired;
    const started = Date.now();
    const timeoutMs = Math.max(1, Math.min(call.timeoutMs, call.profile.timeoutMaxMs, call.deadline - started));
    const killAt = Math.min(started + timeoutMs + KILL_GRACE_MS, call.deadline);
    const before = await this.d.cgroups.begin(sandbox.id);
    const hitsBefore = await this.d.cgroups.limitHits(sandbox.id);
    const watching = this.d.live.watch(call, sandbox.id, before);
    sandbox.egress.assign(call.tenantId, call.egress);
    sandbox.store.open(call);

    // callId: what the runtime puts on the code's store requests (the data socket admits this call's only).
    // lint: an editor test run is refused as a save would refuse its code (the runtime's own lint, first).
    const request = { op: 'call', code: call.code, codeVersion: call.codeVersion, params: call.params, secrets: call.secrets, timeoutMs, callId: call.callId, ...(call.lint ? { lint: true } : {}) };
    const ended = await exchange(sandbox, request, killAt - Date.now(), watching);
    sandbox.store.close(call.callId);
    watching.stop();
    const durationMs = Date.now() - started;
    // Sampled while the container still exists (a stopped container's cgroup is gone).
    const after = ended.kind === 'response' || ended.kind === 'killed' ? await this.d.cgroups.sample(sandbox.id) : null;
    const usage = usageBetween(before, after);

    if (ended.kind === 'response') {
      let answered = fromFrame(ended.frame);
      if (isMisuse(answered.error)) {
        this.d.logger.warn({ containerId: sandbox.id.slice(0, 12), tenantId: call.tenantId, callId: call.callId, reason: answered.error?.message }, 'runtime channel misused: the call fails and the sandbox is removed');
      }
      if (answered.error?.code === 'KB_ERR_TIMEOUT' && (await timedOutAtMemoryLimit(this.d.cgroups, sandbox, hitsBefore))) {
        answered = { ...answered, error: stuckAtMemoryLimit(sandbox.profile.memoryMb) };
      }
      if (mustRemoveAfter(answered.error?.code)) await this.remove(sandbox);
      else this.removeLater(sandbox);
      return { ...answered, durationMs, ...usage, pooled };
    }
    let outcome: RunOutcome;
    if (ended.kind === 'killed') {
      outcome = await explainKill(this.d.engine, this.d.cgroups, sandbox, hitsBefore, timeoutMs, pooled);
    } else {
      if (ended.misuse) this.d.logger.warn({ containerId: sandbox.id.slice(0, 12), tenantId: call.tenantId, callId: call.callId, reason: ended.reason }, 'runtime channel misused: the call fails and the sandbox is removed');
      outcome = await explainExit(this.d.engine, sandbox, ended.reason, pooled, ended.misuse);
    }
    // Failures remove before answering: whoever reads the answer sees the container gone.
    await this.remove(sandbox);
    return { ...outcome, durationMs, ...usage };
  }

  private async remove(sandbox: Sandbox): Promise<void> {
    await sandbox.destroy();
  }

  private removeLater(sandbox: Sandbox): void {
    const p = this.remove(sandbox).finally(() => this.removals.delete(p));
    this.removals.add(p);
  }
}
