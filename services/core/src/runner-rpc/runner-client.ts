import { randomUUID } from 'node:crypto';
import {
  Consumer,
  UnroutableError,
  assertRpcQueue,
  envelope,
  messages,
  names,
  routingKeys,
  type BrokerConnection,
  type Publisher,
  type RunnerCallPayload,
  type RunnerHeartbeatPayload,
  type RunnerResultPayload,
} from '@domaeka/broker';
import type { Logger } from 'pino';
import { RunnerRegistry } from './runner-registry.js';

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
/** Right after start no heartbeat has arrived yet: a call waits this long for one before saying "no runner". */
const WARMUP_MS = 1500;
const SWEEP_MS = 250;

/**
 * The caller's side of the runner RPC (DESIGN.md section 6), shared by the
 * dispatcher (room calls) and the API (test runs, lint). Runners
 * are known from their heartbeats; a call is published to the least loaded
 * runner's own queue with `mandatory` (a dead runner's queue is gone: the
 * broker returns the call at once and the next runner is tried; none left
 * -> KB_ERR_NO_RUNNER), an expiration of what is left until the deadline,
 * replyTo = this instance's exclusive result queue, correlationId = callId.
 * A call whose runner stops beating gets KB_ERR_SANDBOX_CRASHED; one with
 * no answer by deadline + grace gets KB_ERR_TIMEOUT.
 */
export class RunnerClient {
  readonly registry: RunnerRegistry;
  private readonly pending = new Map<string, Pending>();
  private readonly replyQueue: string;
  private readonly beats: Consumer<RunnerHeartbeatPayload>;
  private readonly results: Consumer<RunnerResultPayload>;
  private sweeper: NodeJS.Timeout | null = null;
  private startedAt = 0;

  constructor(
    conn: BrokerConnection,
    private readonly publisher: Publisher,
    prefix: string,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.registry = new RunnerRegistry(clock);
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

  async start(): Promise<void> {
    this.startedAt = this.clock();
    await this.results.start();
    await this.beats.start();
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const id of [...this.pending.keys()]) {
      this.settle(id, (p) => ({ kind: 'failed', code: 'KB_ERR_NO_RUNNER', message: 'caller stopping', runnerId: p.runnerId }));
    }
    await Promise.all([this.beats.stop(), this.results.stop()]);
  }

  /** Runs a call on some live runner; every path ends in an outcome, never a throw. */
  /** `callId` may be given (a test run uses its run id, so live telemetry names the run); a new one otherwise. */
  async call(payload: Omit<RunnerCallPayload, 'callId'> & { callId?: string }): Promise<RpcOutcome> {
    const callId = payload.callId ?? randomUUID();
    const env = envelope(messages.runnerCall, { ...payload, callId }, callId);
    const sinceStart = this.clock() - this.startedAt;
    if (this.registry.size === 0 && sinceStart < WARMUP_MS) {
      await this.registry.nextBeat(Math.min(WARMUP_MS - sinceStart, payload.deadline - this.clock()));
    }
    const tried = new Set<string>();
    for (;;) {
      // A dedicated tenant goes to the runner holding its container (or the one that will).
      const runner = this.registry.candidates(tried, payload.mode === 'dedicated' ? payload.tenantId : undefined)[0];
      if (!runner) {
        const message = tried.size ? `every runner's queue was gone (${tried.size} tried)` : 'no runner is alive';
        return { kind: 'failed', code: 'KB_ERR_NO_RUNNER', message, runnerId: null };
      }
      tried.add(runner.runnerId);
      const remaining = payload.deadline - this.clock();
      if (remaining <= 0) return { kind: 'failed', code: 'KB_ERR_TIMEOUT', message: 'deadline passed before the call was sent', runnerId: null };
      // Registered before publishing: a fast answer must find its caller.
      const outcome = new Promise<RpcOutcome>((settle) =>
        this.pending.set(callId, { runnerId: runner.runnerId, startedAt: runner.startedAt, deadline: payload.deadline, settle }),
      );
      this.registry.sent(runner.runnerId, 1);
      try {
        await this.publisher.publishRpc(messages.runnerCall, runner.queue, env, {
          mandatory: true,
          expirationMs: remaining,
          replyTo: this.replyQueue,
          correlationId: callId,
          waitReadyMs: Math.min(remaining, 2000),
        });
      } catch (err) {
        this.pending.delete(callId);
        this.registry.sent(runner.runnerId, -1);
        if (err instanceof UnroutableError) {
          this.logger.info({ runnerId: runner.runnerId, callId }, 'runner queue gone; trying another runner');
          this.registry.forget(runner.runnerId);
          continue;
        }
        return { kind: 'failed', code: 'KB_ERR_NO_RUNNER', message: `call could not be sent: ${String(err)}`, runnerId: null };
      }
      return outcome;
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
