import { randomUUID } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import { assertRpcQueue } from '../assert-topology.js';
import { messages, routingKeys } from '../catalog.js';
import type { BrokerConnection } from '../connection.js';
import { Consumer } from '../consumer.js';
import { BrokerUnavailableError, UnroutableError, envelope, type Publisher } from '../publisher.js';
import type { EnvelopeOf } from '../schemas/envelope.js';
import type { RunnerCallPayload, RunnerHeartbeatPayload, RunnerResultPayload } from '../schemas/runner.js';
import { names } from '../topology.js';
import type { Logger } from 'pino';
import { RunnerRegistry, type LiveRunner } from './runner-registry.js';

export type RpcOutcome =
  | { kind: 'result'; result: RunnerResultPayload; runnerId: string }
  | { kind: 'failed'; code: 'KB_ERR_NO_RUNNER' | 'KB_ERR_SANDBOX_CRASHED' | 'KB_ERR_TIMEOUT'; message: string; runnerId: string | null };

interface Pending {
  runnerId: string;
  startedAt: number;
  deadline: number;
  settle: (o: RpcOutcome) => void;
}

/** After the deadline the runner's own answer (a kill is reported as KB_ERR_TIMEOUT) may still be on its way. */
export const REPLY_GRACE_MS = 1000;
/**
 * A call waiting for a runner stops waiting when less than this is left
 * before its deadline: sent later, it would mostly be killed at the deadline
 * (KB_ERR_TIMEOUT, blaming the tenant's code for our restart).
 */
export const MIN_RUN_MS = 1000;
/** Pause before publishing again after the publish itself failed (broker reconnecting, channel closed). */
const REPUBLISH_PAUSE_MS = 250;
/** A waiting call looks again at least this often even without a heartbeat. */
const WAIT_SLICE_MS = 1000;
const SWEEP_MS = 250;

/** Calls that had to wait for a runner, for /metrics and the logs. */
export interface RunnerWaitStats {
  /** Calls that waited for a runner at least once. */
  waited: number;
  /** ... of which were sent in the end. */
  delivered: number;
  /** ... and those whose deadline came first (KB_ERR_NO_RUNNER). */
  gaveUp: number;
  /** Calls waiting right now. */
  waiting: number;
  /** When a call last stopped waiting (clock ms; 0: never): the backlog of a spell drains after it. */
  lastWaitEndedAt: number;
}

export interface RunnerClientOptions {
  clock?: () => number;
  /** Registers kb_runner_rpc_waited_total{outcome} and kb_runner_rpc_waiting on this registry. */
  metrics?: Registry;
}

type Attempt = { kind: 'sent'; outcome: Promise<RpcOutcome> } | { kind: 'gone' } | { kind: 'unsent'; reason: string };

/**
 * The caller's side of the runner RPC (DESIGN.md section 6), shared by the
 * dispatcher (room calls) and the API (test runs, lint). Runners
 * are known from their heartbeats; a call is published to the least loaded
 * runner's own queue (a dedicated tenant's: the runner its rendezvous hash
 * names) with `mandatory`, an expiration of what is left until the
 * deadline, replyTo = this instance's exclusive result queue,
 * correlationId = callId.
 *
 * A call WAITS for a runner while its deadline allows (a runner restarting
 * takes a few seconds; it must not cost the calls made meanwhile): when no
 * runner is alive, when every runner's queue turned out gone (the broker
 * returned the `mandatory` call: that runner is forgotten until it beats
 * again), or when the publish itself failed before reaching the broker, it
 * waits for the next heartbeat (or a short pause) and tries again, until
 * less than MIN_RUN_MS is left; only then KB_ERR_NO_RUNNER ("waited N ms").
 * The tenant's code then runs with what is left of the deadline (the
 * runner kills at the deadline): a fast command is answered, a slow one
 * may end in KB_ERR_TIMEOUT.
 *
 * A call is never sent twice once it may have reached a runner: one whose
 * runner stops beating while it is in flight gets KB_ERR_SANDBOX_CRASHED
 * (it may have run), one whose publish lost the connection before the
 * confirm waits for its answer like a sent call, and one with no answer by
 * deadline + grace gets KB_ERR_TIMEOUT.
 */
export class RunnerClient {
  readonly registry: RunnerRegistry;
  private readonly pending = new Map<string, Pending>();
  private readonly replyQueue: string;
  private readonly beats: Consumer<RunnerHeartbeatPayload>;
  private readonly results: Consumer<RunnerResultPayload>;
  private sweeper: NodeJS.Timeout | null = null;
  private readonly clock: () => number;
  private readonly stats: RunnerWaitStats = { waited: 0, delivered: 0, gaveUp: 0, waiting: 0, lastWaitEndedAt: 0 };
  private readonly waitedTotal: Counter<'outcome'> | null = null;
  /** The first wait of a spell without runners is logged once, and the spell's end with its count. */
  private spell: { since: number; calls: number } | null = null;
  /** Set by stop(): calls waiting for a runner end at their next look instead of at their deadline. */
  private stopped = false;

  constructor(
    conn: BrokerConnection,
    private readonly publisher: Publisher,
    prefix: string,
    private readonly logger: Logger,
    opts: RunnerClientOptions = {},
  ) {
    this.clock = opts.clock ?? Date.now;
    const clock = this.clock;
    this.registry = new RunnerRegistry(clock);
    if (opts.metrics) {
      const stats = this.stats;
      this.waitedTotal = new Counter({
        name: 'kb_runner_rpc_waited_total',
        help: 'Runner calls that waited for a runner (none alive, queue gone, publish failed), by how the wait ended',
        labelNames: ['outcome'],
        registers: [opts.metrics],
      });
      new Gauge({
        name: 'kb_runner_rpc_waiting',
        help: 'Runner calls waiting for a runner now',
        registers: [opts.metrics],
        collect() {
          this.set(stats.waiting);
        },
      });
    }
    const n = names(prefix);
    const instanceId = randomUUID();
    this.replyQueue = n.rpcReplyQueue(instanceId);
    const watchQueue = `${prefix}.runners.watch.${instanceId}`;
    this.beats = new Consumer<RunnerHeartbeatPayload>(conn, publisher, {
      queue: async (ch) => {
        await assertRpcQueue(ch, watchQueue);
        await ch.bindQueue(watchQueue, n.telemetry, routingKeys.runnerHeartbeat);
        return watchQueue;
      },
      def: messages.runnerHeartbeat,
      handler: async (env) => this.registry.beat(env.payload),
      prefetch: 1,
      noAck: true,
    });
    this.results = new Consumer<RunnerResultPayload>(conn, publisher, {
      queue: (ch) => assertRpcQueue(ch, this.replyQueue),
      def: messages.runnerResult,
      handler: async (env) => this.settle(env.payload.callId, (p) => ({ kind: 'result', result: env.payload, runnerId: p.runnerId })),
      prefetch: 1,
      noAck: true,
    });
  }

  /** Counts of calls that waited for a runner (a copy). */
  waitStats(): RunnerWaitStats {
    return { ...this.stats };
  }

  async start(): Promise<void> {
    await this.results.start();
    await this.beats.start();
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const id of [...this.pending.keys()]) {
      this.settle(id, (p) => ({ kind: 'failed', code: 'KB_ERR_NO_RUNNER', message: 'caller stopping', runnerId: p.runnerId }));
    }
    await Promise.all([this.beats.stop(), this.results.stop()]);
  }

  /** Runs a call on some live runner, waiting for one while the deadline allows; every path ends in an outcome, never a throw. */
  /** `callId` may be given (a test run uses its run id, so live telemetry names the run); a new one otherwise. */
  async call(payload: Omit<RunnerCallPayload, 'callId'> & { callId?: string }): Promise<RpcOutcome> {
    const callId = payload.callId ?? randomUUID();
    const env = envelope(messages.runnerCall, { ...payload, callId }, callId);
    // A dedicated tenant goes to the runner holding its container (or the one that will).
    const affinity = payload.mode === 'dedicated' ? payload.tenantId : undefined;
    let waitingSince: number | null = null;
    let tried = new Set<string>();
    try {
      for (;;) {
        const runner = this.registry.candidates(tried, affinity)[0];
        let why: string;
        let pauseMs = WAIT_SLICE_MS;
        if (runner) {
          tried.add(runner.runnerId);
          const remaining = payload.deadline - this.clock();
          if (remaining <= 0) return { kind: 'failed', code: 'KB_ERR_TIMEOUT', message: 'deadline passed before the call was sent', runnerId: null };
          const attempt = await this.send(runner, env, callId, payload.deadline, remaining);
          if (attempt.kind === 'sent') {
            if (waitingSince !== null) this.waitEnded('delivered', waitingSince, callId);
            waitingSince = null;
            return await attempt.outcome;
          }
          if (attempt.kind === 'gone') continue; // the next runner at once
          why = attempt.reason;
          pauseMs = REPUBLISH_PAUSE_MS;
        } else {
          why = tried.size ? `every runner's queue was gone (${tried.size} tried)` : 'no runner is alive';
        }
        const now = this.clock();
        const budget = payload.deadline - MIN_RUN_MS - now;
        if (this.stopped) return { kind: 'failed', code: 'KB_ERR_NO_RUNNER', message: 'caller stopping', runnerId: null };
        if (budget <= 0) {
          const waited = waitingSince === null ? 0 : now - waitingSince;
          if (waitingSince !== null) this.waitEnded('gave_up', waitingSince, callId);
          waitingSince = null;
          return { kind: 'failed', code: 'KB_ERR_NO_RUNNER', message: `${why}; waited ${waited} ms for a runner until the deadline`, runnerId: null };
        }
        if (waitingSince === null) waitingSince = this.waitStarted(why, callId);
        // A heartbeat may bring a runner (this one restarted, or another); a failed publish retries after a pause.
        if (pauseMs === REPUBLISH_PAUSE_MS) await new Promise((r) => setTimeout(r, Math.min(pauseMs, budget)));
        else await this.registry.nextBeat(Math.min(pauseMs, budget));
        tried = new Set();
      }
    } finally {
      if (waitingSince !== null) this.waitEnded('gave_up', waitingSince, callId);
    }
  }

  /** One publish to one runner: sent (await its outcome), its queue gone, or not sent at all (safe to try again). */
  private async send(runner: LiveRunner, env: EnvelopeOf<RunnerCallPayload>, callId: string, deadline: number, remaining: number): Promise<Attempt> {
    // Registered before publishing: a fast answer must find its caller.
    const outcome = new Promise<RpcOutcome>((settle) =>
      this.pending.set(callId, { runnerId: runner.runnerId, startedAt: runner.startedAt, deadline, settle }),
    );
    this.registry.sent(runner.runnerId, 1);
    try {
      await this.publisher.publishRpc(messages.runnerCall, runner.queue, env, {
        mandatory: true,
        expirationMs: remaining,
        replyTo: this.replyQueue,
        correlationId: callId,
        // While the broker reconnects the publish waits for it, as long as waiting could still help.
        waitReadyMs: Math.max(0, Math.min(remaining - MIN_RUN_MS, 2000)),
      });
      return { kind: 'sent', outcome };
    } catch (err) {
      if (err instanceof BrokerUnavailableError && err.maybeSent) {
        // It may have reached the runner: never send it again; its answer, the sweep or the deadline ends it.
        this.logger.warn({ runnerId: runner.runnerId, callId }, 'connection lost before the call was confirmed; waiting for its answer, not resending');
        return { kind: 'sent', outcome };
      }
      this.pending.delete(callId);
      this.registry.sent(runner.runnerId, -1);
      if (err instanceof UnroutableError) {
        this.logger.info({ runnerId: runner.runnerId, callId }, 'runner queue gone; trying another runner');
        this.registry.forget(runner.runnerId);
        return { kind: 'gone' };
      }
      return { kind: 'unsent', reason: `call could not be sent: ${String(err)}` };
    }
  }

  private waitStarted(why: string, callId: string): number {
    this.stats.waited++;
    this.stats.waiting++;
    if (!this.spell) {
      this.spell = { since: this.clock(), calls: 0 };
      this.logger.warn({ callId, reason: why }, 'no runner takes calls; calls wait for one until their deadline');
    }
    this.spell.calls++;
    return this.clock();
  }

  private waitEnded(outcome: 'delivered' | 'gave_up', since: number, callId: string): void {
    this.stats.waiting--;
    this.stats.lastWaitEndedAt = this.clock();
    if (outcome === 'delivered') this.stats.delivered++;
    else this.stats.gaveUp++;
    this.waitedTotal?.inc({ outcome });
    this.logger.debug({ callId, outcome, waitedMs: this.clock() - since }, 'call waited for a runner');
    if (this.spell && this.stats.waiting === 0) {
      this.logger.warn({ calls: this.spell.calls, spellMs: this.clock() - this.spell.since, ...this.stats }, 'calls waited for a runner; none waits now');
      this.spell = null;
    }
  }

  private settle(callId: string, make: (p: Pending) => RpcOutcome): void {
    const p = this.pending.get(callId);
    if (!p) return; // late (already timed out) or not ours
    this.pending.delete(callId);
    this.registry.sent(p.runnerId, -1);
    p.settle(make(p));
  }

  private sweep(): void {
    const now = this.clock();
    for (const [callId, p] of this.pending) {
      if (!this.registry.alive(p.runnerId, p.startedAt)) {
        this.logger.warn({ callId, runnerId: p.runnerId }, 'runner stopped beating during a call');
        this.settle(callId, () => ({ kind: 'failed', code: 'KB_ERR_SANDBOX_CRASHED', message: `runner ${p.runnerId} stopped answering during the call`, runnerId: p.runnerId }));
      } else if (now > p.deadline + REPLY_GRACE_MS) {
        this.settle(callId, () => ({ kind: 'failed', code: 'KB_ERR_TIMEOUT', message: 'no answer from the runner by the deadline', runnerId: p.runnerId }));
      }
    }
  }
}
