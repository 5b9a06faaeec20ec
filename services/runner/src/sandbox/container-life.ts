import type { Logger } from 'pino';
import type { RunnerCallPayload } from '@domaeka/broker';
import type { DockerEngine, StatsSample } from '../docker/docker-engine.js';
import type { CgroupStats } from './cgroup-stats.js';
import type { LiveFeed, Watching } from './live-feed.js';
import {
  KILL_GRACE_MS,
  explainExit,
  explainKill,
  failed,
  fromFrame,
  leftoverOf,
  mustRemoveAfter,
  stuckAtMemoryLimit,
  timedOutAtMemoryLimit,
  usageBetween,
  type RunOutcome,
} from './run-outcome.js';
import { ChannelMisuseError, MISUSE, isMisuse, type Frame } from './runtime-channel.js';
import type { Sandbox } from './sandbox-starter.js';

/** Requests written ahead to one dedicated container (the runtime answers them one by one, in order). */
export const PIPELINE_DEPTH = 16;

/** One call of a tenant, from arrival to its outcome. */
export interface Job {
  call: RunnerCallPayload;
  /** The runtime's module key: the command id. */
  module: string;
  /** Send the code even if this container was sent this version already (it answered KB_ERR_NOT_LOADED). */
  forceCode: boolean;
  settle(o: RunOutcome): void;
}

interface Sent {
  job: Job;
  timeoutMs: number;
  /** Set when the runtime starts on it (the answer before it arrived): accounting and the kill timer start then. */
  started: number | null;
  ready: Promise<void> | null;
  before: StatsSample;
  hitsBefore: number | null;
  watching: Watching | null;
  timer: NodeJS.Timeout | null;
  killed: boolean;
}

export interface LifeDeps {
  engine: DockerEngine;
  cgroups: CgroupStats;
  live: LiveFeed;
  logger: Logger;
}

const NO_SAMPLE: StatsSample = { cpuNs: null, peakMemoryBytes: null };

/**
 * One life of a tenant's dedicated container: calls are written to the
 * runtime ahead of their turn (up to PIPELINE_DEPTH), so the broker and
 * Docker hops of one call overlap the run of the one before; the runtime
 * answers them strictly in order and refuses one whose deadline passed
 * while it waited ("not run"). A call's turn starts when the answer before
 * it arrives: its CPU, peak memory and wall-clock kill are measured from
 * then, exactly as for a call that ran alone. A timeout, crash or OOM ends
 * the life: the container goes before the answer, and calls written behind
 * the broken one (never started: the runtime is sequential) go back to the
 * tenant's queue for the next life.
 */
export class ContainerLife {
  private readonly inflight: Sent[] = [];
  /** module -> the version whose code this container was sent (it loads them in the order sent). */
  private readonly sentVersions = new Map<string, string>();
  private ended = false;
  /** Set when a call left threads or children running: no new calls; removed once the ones in hand are answered. */
  private retiring: string | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly sandbox: Sandbox,
    private readonly d: LifeDeps,
    /** Calls that never started in a life that ended: to be run in the next one. */
    private readonly requeue: (jobs: Job[]) => void,
    /** A call was answered or the life ended: the tenant's queue may move on. */
    private readonly moved: () => void,
    /** The container is gone (removed). */
    private readonly gone: (why: string) => void,
  ) {
    // Died between calls (killed from outside, the engine restarted, a frame forged after an answer):
    // gone at once, not at the next call. In the answer chain, so an answer still being handled is
    // done first (its entry leaves `inflight` only then); a call in flight is ended by broke().
    void sandbox.channel.closedPromise().then(() =>
      this.serially(async () => {
        if (this.ended || this.inflight.length !== 0) return;
        // A frame after its call was answered (a second response) ends the channel between calls.
        const failure = sandbox.channel.failure;
        if (failure instanceof ChannelMisuseError) this.misused(failure.message, null);
        await this.end(failure instanceof ChannelMisuseError ? failure.message : 'died while idle', []);
      }),
    );
  }

  get dead(): boolean {
    return this.ended || this.sandbox.channel.closed;
  }

  get busy(): number {
    return this.inflight.length;
  }

  canTake(): boolean {
    return !this.dead && this.retiring === null && this.inflight.length < PIPELINE_DEPTH;
  }

  send(job: Job): void {
    const { call, module } = job;
    // The tenant's allowlist as of its latest call (a change reaches the next call, not one already running).
    this.sandbox.egress.assign(call.tenantId, call.egress);
    // Its store requests are admitted from now until its answer is in (written ahead, it may start any moment).
    this.sandbox.store.open(call);
    const withCode = job.forceCode || this.sentVersions.get(module) !== call.codeVersion;
    if (withCode) this.sentVersions.set(module, call.codeVersion);
    const timeoutMs = Math.max(1, Math.min(call.timeoutMs, call.profile.timeoutMaxMs, call.deadline - Date.now()));
    const entry: Sent = { job, timeoutMs, started: null, ready: null, before: NO_SAMPLE, hitsBefore: null, watching: null, timer: null, killed: false };
    const request: Frame = {
      op: 'call',
      module,
      codeVersion: call.codeVersion,
      ...(withCode ? { code: call.code } : {}),
      params: call.params,
      timeoutMs,
      deadline: call.deadline,
      secrets: call.secrets,
      callId: call.callId,
      ...(call.live ? { stream: true } : {}),
      ...(call.lint && withCode ? { lint: true } : {}),
    };
    this.inflight.push(entry);
    this.sandbox.channel
      .request(request, call.live ? (e) => entry.watching?.output(e.data) : undefined)
      .then(
        // One answer at a time, in order: the next is handled only after the one before finished its accounting.
        // Its store grant ends with the answer: work it left running is refused from now on.
        (frame) => {
          this.sandbox.store.close(call.callId);
          this.serially(() => this.answered(entry, frame));
        },
        () => this.serially(() => this.broke(entry)),
      );
    if (this.inflight.length === 1) this.begin(entry);
  }

  /**
   * Removes the container (idle eviction, a plan change, the runner
   * stopping). Callers retire an idle life; a call still running is
   * answered KB_ERR_SANDBOX_CRASHED, calls written behind it go back to the queue.
   */
  async retire(why: string): Promise<void> {
    if (this.ended) return;
    const running = this.inflight[0]?.started != null ? this.inflight.shift() : undefined;
    await this.end(why, []);
    running?.job.settle({ ...failed('KB_ERR_SANDBOX_CRASHED', `the dedicated sandbox was removed during the call (${why})`, null) });
  }

  private serially(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((err: unknown) => this.d.logger.error({ err: String(err) }, 'dedicated call handling failed'));
  }

  /** The runtime starts on this call now. */
  private begin(entry: Sent): void {
    entry.started = Date.now();
    const { call } = entry.job;
    entry.ready = (async () => {
      entry.before = await this.d.cgroups.begin(this.sandbox.id);
      entry.hitsBefore = await this.d.cgroups.limitHits(this.sandbox.id);
      entry.watching = this.d.live.watch(call, this.sandbox.id, entry.before);
    })();
    const killAt = Math.min(entry.started + entry.timeoutMs + KILL_GRACE_MS, call.deadline);
    entry.timer = setTimeout(() => {
      entry.killed = true;
      // The channel ends with the container: broke() answers (timeout, or memory if stuck at the limit).
      void this.d.engine.kill(this.sandbox.id).catch(() => undefined);
    }, Math.max(0, killAt - Date.now()));
  }

  private finishTurn(entry: Sent): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.watching?.stop();
  }

  private async answered(entry: Sent, frame: Frame): Promise<void> {
    if (this.inflight[0] !== entry) return; // retired meanwhile: already requeued
    await entry.ready;
    this.finishTurn(entry);
    const durationMs = Date.now() - (entry.started ?? Date.now());
    const after = await this.d.cgroups.sample(this.sandbox.id);
    let answered = fromFrame(frame);
    if (isMisuse(answered.error)) this.misused(answered.error?.message ?? MISUSE, entry.job.call.callId);
    if (answered.error?.code === 'KB_ERR_TIMEOUT' && (await timedOutAtMemoryLimit(this.d.cgroups, this.sandbox, entry.hitsBefore))) {
      answered = { ...answered, error: stuckAtMemoryLimit(this.sandbox.profile.memoryMb) };
    }
    const outcome: RunOutcome = { ...answered, durationMs, ...usageBetween(entry.before, after), pooled: null };
    this.inflight.shift();
    const code = outcome.error?.code;
    if (code === 'KB_ERR_NOT_LOADED' && Date.now() < entry.job.call.deadline) {
      // It holds another version than we sent (one that failed to load replaced ours): again, with the code.
      this.sentVersions.delete(entry.job.module);
      this.requeue([{ ...entry.job, forceCode: true }]);
    } else if (mustRemoveAfter(code)) {
      // Its leftovers could still run: the container goes before the answer.
      await this.end(code ?? 'broken', this.inflight.splice(0).map((s) => s.job));
      entry.job.settle(outcome);
      return;
    } else {
      // Any failure may have been a version that did not load: the next call sends the code again (not reloaded if current).
      if (!outcome.ok) this.sentVersions.delete(entry.job.module);
      entry.job.settle(outcome);
    }
    // Work the tenant's code left running (a thread, a child) would go on using the container's CPU,
    // printing into later calls and acting after its answer: the container is recycled, after the
    // calls already written to it (the runtime may have started the next one: it is not cut short).
    const left = leftoverOf(frame);
    if (left && this.retiring === null) {
      this.retiring = left;
      this.d.logger.info({ containerId: this.sandbox.id.slice(0, 12), tenantId: entry.job.call.tenantId, left }, 'a call left work running: the dedicated sandbox is recycled');
    }
    if (this.retiring !== null && this.inflight.length === 0) {
      await this.end(`work left running after a call (${this.retiring})`, []);
      return;
    }
    const next = this.inflight[0];
    if (next && next.started === null) this.begin(next);
    this.moved();
  }

  /** The channel ended without this call's answer. */
  private async broke(entry: Sent): Promise<void> {
    if (this.inflight[0] !== entry) return; // behind the broken call: requeued by it
    const unstarted = this.inflight.splice(0).slice(1).map((s) => s.job);
    await entry.ready;
    this.finishTurn(entry);
    const durationMs = Date.now() - (entry.started ?? Date.now());
    const failure = this.sandbox.channel.failure;
    const misuse = !entry.killed && failure instanceof ChannelMisuseError;
    if (misuse) this.misused(failure.message, entry.job.call.callId);
    const outcome = entry.killed
      ? await explainKill(this.d.engine, this.d.cgroups, this.sandbox, entry.hitsBefore, entry.timeoutMs, null)
      : await explainExit(this.d.engine, this.sandbox, misuse ? failure.message : 'the sandbox closed its channel', null, misuse);
    await this.end(outcome.error?.code ?? 'broken', unstarted);
    entry.job.settle({ ...outcome, durationMs });
  }

  private misused(reason: string, callId: string | null): void {
    this.d.logger.warn({ containerId: this.sandbox.id.slice(0, 12), callId, reason, stderr: this.sandbox.channel.stderr || undefined }, 'runtime channel misused: the dedicated sandbox is removed');
  }

  private async end(why: string, unstarted: Job[]): Promise<void> {
    if (this.ended) {
      if (unstarted.length) this.requeue(unstarted);
      return;
    }
    this.ended = true;
    for (const s of this.inflight.splice(0)) {
      this.finishTurn(s);
      unstarted.push(s.job);
    }
    await this.sandbox.destroy();
    this.gone(why);
    if (unstarted.length) this.requeue(unstarted);
    this.moved();
  }
}
