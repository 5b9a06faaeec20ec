import type { Logger } from 'pino';
import type { RunnerCallPayload } from '@domaeka/broker';
import type { PoolProfile } from '../config.js';
import { profileKey } from '../docker/container-spec.js';
import type { DockerEngine } from '../docker/docker-engine.js';
import type { CgroupStats } from './cgroup-stats.js';
import { ContainerLife, type Job } from './container-life.js';
import type { LiveFeed } from './live-feed.js';
import { failed, type RunOutcome } from './run-outcome.js';
import type { SandboxStarter } from './sandbox-starter.js';

export interface DedicatedOptions {
  /** A tenant's container is removed after this long without a call. */
  idleMs: number;
  /** Dedicated containers kept at once on this runner; the least recently used idle one makes room. */
  max: number;
}

/** One tenant on this runner: its container's current life and the calls waiting for it. */
class Tenancy {
  life: ContainerLife | null = null;
  starting = false;
  readonly waiting: Job[] = [];
  /** Calls taken and not yet answered. */
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
  /** How the runner talks to its runtime (`unix` or `stdio`), as the runtime's ready frame says. */
  transport: string | null;
  calls: number;
  queued: number;
  idleMs: number;
}

/**
 * Dedicated mode (DESIGN.md section 5, paid plans): one long-lived
 * container per tenant on this runner, holding all its commands as modules
 * (key = command id) so module state lives from one call to the next. A
 * command's code is sent only when the container was not sent that version
 * yet, so a new version is loaded by the first call that needs it while
 * calls before it finish on the old one (none is dropped). Calls of one
 * tenant are answered in arrival order; they are written to the container
 * ahead of their turn (ContainerLife) and none runs after its deadline.
 * A timeout, a crash or an OOM kill ends the container's life (its
 * leftovers could still run) and the next call starts a fresh one:
 * "restarted if it dies". Containers idle longer than `idleMs` are
 * evicted; a container is never shared by two tenants.
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
    tenancy.calls++;
    return new Promise<RunOutcome>((resolve) => {
      tenancy.waiting.push({
        call,
        module: call.commandId ?? 'main',
        forceCode: false,
        settle: (o) => {
          tenancy.queued--;
          tenancy.lastUsed = Date.now();
          resolve(o);
        },
      });
      this.pump(tenancy);
    });
  }

  /** Live dedicated containers (ops, tests). */
  list(): DedicatedView[] {
    const now = Date.now();
    return [...this.tenancies.values()].map((t) => ({
      tenantId: t.tenantId,
      containerId: t.life && !t.life.dead ? t.life.sandbox.id : null,
      profile: t.profile.name,
      transport: t.life && !t.life.dead ? String(t.life.sandbox.ready.transport) : null,
      calls: t.calls,
      queued: t.queued,
      idleMs: t.queued ? 0 : now - t.lastUsed,
    }));
  }

  /**
   * The tenants placed here (a container, or one starting or restarting,
   * for their calls), most recently used first, at most `limit`: what the
   * heartbeat tells callers, so they keep sending each tenant here.
   */
  placed(limit: number): string[] {
    return [...this.tenancies.values()]
      .sort((a, b) => b.lastUsed - a.lastUsed)
      .slice(0, limit)
      .map((t) => t.tenantId);
  }

  /** Containers held now. */
  size(): number {
    let n = 0;
    for (const t of this.tenancies.values()) if (t.life && !t.life.dead) n++;
    return n;
  }

  /** Lets calls in hand finish (bounded by their deadlines), then removes every dedicated container. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    const deadline = Date.now() + 10_000;
    while ([...this.tenancies.values()].some((t) => t.queued > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([...this.tenancies.values()].map((t) => t.life?.retire('runner stopping')));
    for (const t of this.tenancies.values()) for (const job of t.waiting.splice(0)) job.settle(failed('KB_ERR_NO_RUNNER', 'the runner is stopping', null));
    this.tenancies.clear();
  }

  /** Moves the tenant's queue: starts a container when needed, writes calls ahead while the container takes them. */
  private pump(t: Tenancy): void {
    while (t.waiting.length) {
      const job = t.waiting[0]!;
      if (Date.now() >= job.call.deadline) {
        t.waiting.shift();
        job.settle(failed('KB_ERR_TIMEOUT', "the deadline passed while earlier calls of this tenant's container ran: not run", null));
        continue;
      }
      const profile = pick(job.call.profile);
      const life = t.life;
      if (life && !life.dead && profileKey(life.sandbox.profile) !== profileKey(profile)) {
        // The tenant's plan changed: once the calls in hand are answered, the next container gets the new limits.
        if (life.busy > 0) return;
        t.life = null;
        void life.retire('plan limits changed').then(() => this.pump(t));
        return;
      }
      if (!life || life.dead) {
        if (!t.starting) this.start(t, profile);
        return;
      }
      if (!life.canTake()) return;
      t.waiting.shift();
      life.send(job);
    }
  }

  private start(t: Tenancy, profile: PoolProfile): void {
    if (this.stopped) {
      for (const job of t.waiting.splice(0)) job.settle(failed('KB_ERR_NO_RUNNER', 'the runner is stopping', null));
      return;
    }
    t.starting = true;
    t.profile = profile;
    void (async () => {
      try {
        await this.makeRoom(t);
        const sandbox = await this.d.starter.start(profile, 'dedicated', t.tenantId);
        this.d.logger.info({ tenantId: t.tenantId, containerId: sandbox.id.slice(0, 12), startMs: sandbox.startedMs }, 'dedicated sandbox started');
        const life: ContainerLife = new ContainerLife(
          sandbox,
          this.d,
          (jobs) => t.waiting.unshift(...jobs),
          () => this.pump(t),
          (why) => {
            if (t.life === life) t.life = null;
            this.d.logger.info({ tenantId: t.tenantId, containerId: sandbox.id.slice(0, 12), why }, 'dedicated sandbox removed');
          },
        );
        t.life = life;
      } catch (err) {
        const message = `sandbox unavailable: ${String((err as Error).message ?? err)}`;
        for (const job of t.waiting.splice(0)) job.settle(failed('KB_ERR_NO_RUNNER', message, null));
      } finally {
        t.starting = false;
      }
      this.pump(t);
    })();
  }

  /** Over `max`: the least recently used idle tenancy gives its container up. */
  private async makeRoom(except: Tenancy): Promise<void> {
    if (this.size() < this.d.options.max) return;
    const idle = [...this.tenancies.values()]
      .filter((t) => t !== except && t.life && !t.life.dead && t.queued === 0)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    const victim = idle[0];
    if (victim) {
      this.tenancies.delete(victim.tenantId);
      await victim.life?.retire('evicted to make room');
    } else {
      this.d.logger.warn({ max: this.d.options.max }, 'every dedicated sandbox is busy: starting one over the limit');
    }
  }

  private async evictIdle(): Promise<void> {
    const now = Date.now();
    for (const t of [...this.tenancies.values()]) {
      if (t.queued === 0 && !t.starting && now - t.lastUsed >= this.d.options.idleMs) {
        this.tenancies.delete(t.tenantId);
        await t.life?.retire('idle');
      }
    }
  }
}

function pick(p: RunnerCallPayload['profile']): PoolProfile {
  return { name: p.name, memoryMb: p.memoryMb, cpus: p.cpus };
}
