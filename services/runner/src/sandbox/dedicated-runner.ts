import type { Logger } from 'pino';
import type { RunnerCallPayload } from '@domaeka/broker';
import type { PoolProfile } from '../config.js';
import { profileKey } from '../docker/container-spec.js';
import type { DockerEngine } from '../docker/docker-engine.js';
import type { CgroupStats } from './cgroup-stats.js';
import type { LiveFeed } from './live-feed.js';
import { KILL_GRACE_MS, exchange, explainExit, explainKill, failed, stuckAtMemoryLimit, timedOutAtMemoryLimit, fromFrame, mustRemoveAfter, usageBetween, type Ended, type RunOutcome } from './run-outcome.js';
import type { Sandbox, SandboxStarter } from './sandbox-starter.js';

export interface DedicatedOptions {
  /** A tenant's container is removed after this long without a call. */
  idleMs: number;
  /** Dedicated containers kept at once on this runner; the least recently used idle one makes room. */
  max: number;
}

/** One tenant's container on this runner, and the calls queued for it. */
class Tenancy {
  sandbox: Sandbox | null = null;
  /** module -> code version the runtime holds (as far as we know: a failed call forgets it). */
  readonly loaded = new Map<string, string>();
  /** Calls run one at a time, in arrival order: the runtime answers one request after another. */
  tail: Promise<unknown> = Promise.resolve();
  queued = 0;
  lastUsed = Date.now();
  calls = 0;
  constructor(
    readonly tenantId: string,
    public profile: PoolProfile,
  ) {}
}

export interface DedicatedView {
  tenantId: string;
  containerId: string | null;
  profile: string;
  calls: number;
  queued: number;
  idleMs: number;
}

/**
 * Dedicated mode (DESIGN.md section 5, paid plans): one long-lived
 * container per tenant on this runner, holding all its commands as modules
 * (key = command id) so module state lives from one call to the next; a
 * command's code is sent only when the container does not hold that
 * version yet, so a new version is loaded by the first call that needs it
 * while calls before it finish on the old one (none is dropped). Calls of
 * one tenant run one after another; each checks its deadline just before
 * it is sent, so nothing runs after it. A timeout, a crash or an OOM kill
 * takes the container away (its leftovers could still run) and the next
 * call starts a fresh one: "restarted if it dies". Containers idle longer
 * than `idleMs` are evicted; a container is never shared by two tenants.
 */
export class DedicatedRunner {
  private readonly tenancies = new Map<string, Tenancy>();
  private readonly sweeper: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly d: {
      engine: DockerEngine;
      starter: SandboxStarter;
      cgroups: CgroupStats;
      live: LiveFeed;
      logger: Logger;
      options: DedicatedOptions;
    },
  ) {
    this.sweeper = setInterval(() => void this.evictIdle(), Math.max(50, Math.min(d.options.idleMs / 2, 30_000)));
    this.sweeper.unref();
  }

  run(call: RunnerCallPayload): Promise<RunOutcome> {
    let t = this.tenancies.get(call.tenantId);
    if (!t) {
      t = new Tenancy(call.tenantId, pick(call.profile));
      this.tenancies.set(call.tenantId, t);
    }
    const tenancy = t;
    tenancy.queued++;
    const turn = tenancy.tail.then(() => this.runNow(tenancy, call));
    tenancy.tail = turn.catch(() => undefined);
    return turn.finally(() => {
      tenancy.queued--;
      tenancy.lastUsed = Date.now();
    });
  }

  /** Live dedicated containers (ops, tests). */
  list(): DedicatedView[] {
    const now = Date.now();
    return [...this.tenancies.values()].map((t) => ({
      tenantId: t.tenantId,
      containerId: t.sandbox?.id ?? null,
      profile: t.profile.name,
      calls: t.calls,
      queued: t.queued,
      idleMs: t.queued ? 0 : now - t.lastUsed,
    }));
  }

  /** Containers held now. */
  size(): number {
    let n = 0;
    for (const t of this.tenancies.values()) if (t.sandbox) n++;
    return n;
  }

  /** Waits for queued calls (bounded by their deadlines), then removes every dedicated container. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    await Promise.all([...this.tenancies.values()].map((t) => t.tail));
    await Promise.all([...this.tenancies.values()].map((t) => this.drop(t, 'runner stopping')));
    this.tenancies.clear();
  }

  private async runNow(t: Tenancy, call: RunnerCallPayload): Promise<RunOutcome> {
    if (Date.now() >= call.deadline) {
      return failed('KB_ERR_TIMEOUT', "the deadline passed while earlier calls of this tenant's container ran: not run", null);
    }
    const profile = pick(call.profile);
    if (t.sandbox && (t.sandbox.channel.closed || profileKey(t.sandbox.profile) !== profileKey(profile))) {
      // Died while idle, or the tenant's plan changed: the next container gets the new limits.
      await this.drop(t, t.sandbox.channel.closed ? 'died while idle' : 'plan limits changed');
    }
    t.profile = profile;
    let sandbox = t.sandbox;
    if (!sandbox) {
      try {
        sandbox = await this.startFor(t);
      } catch (err) {
        return failed('KB_ERR_NO_RUNNER', `sandbox unavailable: ${String((err as Error).message ?? err)}`, null);
      }
    }
    t.calls++;
    const module = call.commandId ?? 'main';
    const first = await this.callOnce(sandbox, call, module, t.loaded.get(module) !== call.codeVersion);
    // We thought the version was loaded but the runtime does not hold it (it was replaced by a
    // version that then failed to load): once more with the code, if the deadline allows.
    if (first.kind === 'answered' && first.outcome.error?.code === 'KB_ERR_NOT_LOADED' && Date.now() < call.deadline) {
      t.loaded.delete(module);
      return this.finish(t, sandbox, module, call, await this.callOnce(sandbox, call, module, true));
    }
    return this.finish(t, sandbox, module, call, first);
  }

  private async callOnce(
    sandbox: Sandbox,
    call: RunnerCallPayload,
    module: string,
    withCode: boolean,
  ): Promise<{ kind: 'answered'; outcome: RunOutcome } | { kind: 'broken'; outcome: RunOutcome }> {
    const started = Date.now();
    const timeoutMs = Math.max(1, Math.min(call.timeoutMs, call.profile.timeoutMaxMs, call.deadline - started));
    const killAt = Math.min(started + timeoutMs + KILL_GRACE_MS, call.deadline);
    const before = await this.d.cgroups.begin(sandbox.id);
    const hitsBefore = await this.d.cgroups.limitHits(sandbox.id);
    const watching = this.d.live.watch(call, sandbox.id, before);
    const request = {
      op: 'call',
      module,
      codeVersion: call.codeVersion,
      ...(withCode ? { code: call.code } : {}),
      params: call.params,
      secrets: call.secrets,
      timeoutMs,
    };
    const ended: Ended = await exchange(sandbox, request, killAt - Date.now(), watching);
    watching.stop();
    const durationMs = Date.now() - started;
    const after = ended.kind === 'closed' ? null : await this.d.cgroups.sample(sandbox.id);
    const usage = usageBetween(before, after);
    if (ended.kind === 'response') {
      let answered = fromFrame(ended.frame);
      if (answered.error?.code === 'KB_ERR_TIMEOUT' && (await timedOutAtMemoryLimit(this.d.cgroups, sandbox, hitsBefore))) {
        answered = { ...answered, error: stuckAtMemoryLimit(sandbox.profile.memoryMb) };
      }
      return { kind: 'answered', outcome: { ...answered, durationMs, ...usage, pooled: null } };
    }
    let outcome: RunOutcome;
    if (ended.kind === 'killed') {
      outcome = await explainKill(this.d.engine, this.d.cgroups, sandbox, hitsBefore, timeoutMs, null);
    } else {
      outcome = await explainExit(this.d.engine, sandbox, ended.reason, null);
    }
    return { kind: 'broken', outcome: { ...outcome, durationMs, ...usage } };
  }

  private async finish(
    t: Tenancy,
    sandbox: Sandbox,
    module: string,
    call: RunnerCallPayload,
    r: { kind: 'answered' | 'broken'; outcome: RunOutcome },
  ): Promise<RunOutcome> {
    const code = r.outcome.error?.code;
    if (r.kind === 'broken' || mustRemoveAfter(code)) {
      // Gone before the answer, as for ephemeral runs: whoever reads it sees the container gone.
      if (t.sandbox === sandbox) await this.drop(t, code ?? 'broken');
      return r.outcome;
    }
    // Only a call that ran to an answer proves the version is loaded; any error makes the next call send the code again.
    if (r.outcome.ok) t.loaded.set(module, call.codeVersion);
    else t.loaded.delete(module);
    return r.outcome;
  }

  private async startFor(t: Tenancy): Promise<Sandbox> {
    if (this.stopped) throw new Error('runner stopping');
    await this.makeRoom(t);
    const sandbox = await this.d.starter.start(t.profile, 'dedicated', t.tenantId);
    t.sandbox = sandbox;
    t.loaded.clear();
    this.d.logger.info({ tenantId: t.tenantId, containerId: sandbox.id.slice(0, 12), startMs: sandbox.startedMs }, 'dedicated sandbox started');
    // Died between calls (killed from outside, the engine restarted): gone at once, not at the next call.
    void sandbox.channel.closedPromise().then(async () => {
      if (t.sandbox === sandbox && t.queued === 0) await this.drop(t, 'died while idle');
    });
    return sandbox;
  }

  /** Over `max`: the least recently used idle tenancy gives its container up. */
  private async makeRoom(except: Tenancy): Promise<void> {
    if (this.size() < this.d.options.max) return;
    const idle = [...this.tenancies.values()].filter((t) => t !== except && t.sandbox && t.queued === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    const victim = idle[0];
    if (victim) {
      await this.drop(victim, 'evicted to make room');
      this.tenancies.delete(victim.tenantId);
    } else {
      this.d.logger.warn({ max: this.d.options.max }, 'every dedicated sandbox is busy: starting one over the limit');
    }
  }

  private async evictIdle(): Promise<void> {
    const now = Date.now();
    for (const t of [...this.tenancies.values()]) {
      if (t.queued === 0 && now - t.lastUsed >= this.d.options.idleMs) {
        this.tenancies.delete(t.tenantId);
        await this.drop(t, 'idle');
      }
    }
  }

  private async drop(t: Tenancy, why: string): Promise<void> {
    const sandbox = t.sandbox;
    if (!sandbox) return;
    t.sandbox = null;
    t.loaded.clear();
    sandbox.channel.close();
    await this.d.engine.remove(sandbox.id).catch((err) => this.d.logger.warn({ err: String(err) }, 'dedicated sandbox removal failed'));
    this.d.logger.info({ tenantId: t.tenantId, containerId: sandbox.id.slice(0, 12), why }, 'dedicated sandbox removed');
  }
}

function pick(p: RunnerCallPayload['profile']): PoolProfile {
  return { name: p.name, memoryMb: p.memoryMb, cpus: p.cpus };
}
