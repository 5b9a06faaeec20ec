import type { ConsumeMessage } from 'amqplib';
import {
  Consumer,
  assertRpcQueue,
  envelope,
  messages,
  names,
  type BrokerConnection,
  type EnvelopeOf,
  type Publisher,
  type RunnerCallPayload,
  type RunnerLane,
  type RunnerResultPayload,
} from '@domaeka/broker';
import type { Logger } from 'pino';
import type { RunnerMetrics } from '../metrics.js';
import type { LintRunner } from '../lint/lint-runner.js';
import type { DedicatedRunner } from '../sandbox/dedicated-runner.js';
import type { EphemeralRunner } from '../sandbox/ephemeral-runner.js';
import { failed, type RunOutcome } from '../sandbox/run-outcome.js';
import { TenantLanes, type Moves } from './tenant-lanes.js';

export interface CallConsumerDeps {
  conn: BrokerConnection;
  publisher: Publisher;
  prefix: string;
  runnerId: string;
  /** Calls running at once (and the queue's prefetch). */
  capacity: number;
  /** Of those, ephemeral runs (each holds a container). */
  ephemeralMax: number;
  /** Calls one tenant may have waiting in its line; beyond, KB_ERR_BUSY. */
  tenantQueueMax: number;
  ephemeral: EphemeralRunner;
  dedicated: DedicatedRunner;
  /** `op: 'lint'` calls. */
  linter: LintRunner;
  metrics: RunnerMetrics;
  logger: Logger;
  clock?: () => number;
}

export interface CallIntake {
  consumer: Consumer<RunnerCallPayload>;
  queue: string;
  /** Calls running now (the heartbeat's `busy`; waiting ones are not). */
  busy(): number;
  /** Calls waiting in tenants' lines now. */
  waiting(): number;
  /** The heartbeat's `lanes` (resets the refused counts). */
  lanes(): RunnerLane[];
  /** The runner stops: every call still waiting is answered KB_ERR_NO_RUNNER. */
  abandon(): void;
}

/** A call taken from the queue, with where its answer goes. */
interface Taken {
  call: RunnerCallPayload;
  replyTo: string | undefined;
  correlationId: string;
  /** Holds an ephemeral container while it runs (dedicated calls go to their tenant's container). */
  container: boolean;
}

/**
 * The runner's RPC consumer: its own exclusive queue (gone with its
 * connection, so callers' `mandatory` publishes come back at once when it
 * is dead), prefetch = capacity. A call whose deadline already passed is
 * refused without running (the message's expiration drops most of them
 * earlier). Then the tenant lanes decide (tenant-lanes.ts, README "Fair
 * share"): a call that may run starts now and is acked in the same write as
 * its result; a call of a tenant over its cap waits in its tenant's line and
 * is acked at once, so its prefetch slot goes to the next call of anyone;
 * a full line is answered KB_ERR_BUSY. Acking a waiting call early gives up
 * nothing: the queue is exclusive, so unacked calls die with this
 * connection anyway, and callers learn of a dead runner from heartbeats.
 */
export function createCallConsumer(d: CallConsumerDeps): CallIntake {
  const queue = names(d.prefix).runnerQueue(d.runnerId);
  const clock = d.clock ?? Date.now;
  const lanes = new TenantLanes<Taken>({ capacity: d.capacity, containers: d.ephemeralMax, lineMax: d.tenantQueueMax });
  let lints = 0;
  let expiry: NodeJS.Timeout | null = null;
  let expiryAt = Infinity;

  const answer = (t: Taken, outcome: RunOutcome): void => {
    if (!t.replyTo) return;
    const { pooled: _pooled, ...rest } = outcome;
    const result: RunnerResultPayload = { callId: t.call.callId, ...rest };
    // Not awaited: a call that ran at once is acked in the same write as its result. Waiting for the confirm first
    // protected nothing (the queue is exclusive: unacked calls die with this connection anyway) and
    // cost a write and a wake-up per call.
    d.publisher
      .publishRpc(messages.runnerResult, t.replyTo, envelope(messages.runnerResult, result), {
        correlationId: t.correlationId,
        // Nobody reads an answer after the caller's deadline; a caller that died has no queue (not mandatory: nothing to do then).
        mandatory: false,
        expirationMs: Math.max(1000, t.call.deadline + 5000 - clock()),
      })
      .catch((err: unknown) => d.logger.warn({ callId: t.call.callId, err: String(err) }, 'result could not be sent; the caller times out'));
  };

  /** Runs a call whose slots are taken; its slots go to the next waiting calls when it ends. */
  const run = async (t: Taken): Promise<RunOutcome> => {
    try {
      const outcome = t.container ? await d.ephemeral.run(t.call) : await d.dedicated.run(t.call);
      d.metrics.observeRun(t.call.mode, outcome);
      return outcome;
    } finally {
      move(lanes.finish(t.call.tenantId, t.container, clock()));
    }
  };

  /** Calls leaving the lines: started (answered, without an ack: theirs went when they parked), or answered late. */
  const move = (moves: Moves<Taken>): void => {
    for (const t of moves.late) {
      d.metrics.refusedExpired.inc();
      answer(t, failed('KB_ERR_TIMEOUT', "the deadline passed while the call waited in its tenant's line at the runner: not run", null));
    }
    for (const t of moves.run) {
      run(t).then(
        (outcome) => answer(t, outcome),
        (err: unknown) => d.logger.error({ callId: t.call.callId, err: String(err) }, 'a waiting call failed in the runner; the caller times out'),
      );
    }
  };

  /** One timer, at the earliest deadline in the lines: a waiting call is answered when its deadline passes, not when its turn comes. */
  const expireAt = (at: number): void => {
    if (at >= expiryAt) return;
    if (expiry) clearTimeout(expiry);
    expiryAt = at;
    expiry = setTimeout(() => {
      expiry = null;
      expiryAt = Infinity;
      move(lanes.expire(clock()));
      const next = lanes.nextDeadline();
      if (next !== null) expireAt(next);
    }, Math.max(0, at - clock()));
    expiry.unref();
  };

  const handler = async (env: EnvelopeOf<RunnerCallPayload>, msg: ConsumeMessage): Promise<void> => {
    const call = env.payload;
    const t: Taken = {
      call,
      replyTo: msg.properties.replyTo as string | undefined,
      correlationId: (msg.properties.correlationId as string | undefined) ?? call.callId,
      container: call.mode !== 'dedicated',
    };
    if (clock() >= call.deadline) {
      d.metrics.refusedExpired.inc();
      d.logger.info({ callId: call.callId, lateMs: clock() - call.deadline }, 'call past its deadline: not run');
      return answer(t, refusedLate(call.deadline, clock()));
    }
    if (call.op === 'lint') {
      // Outside the lanes: a lint only parses (milliseconds) and the editor waits for it on save.
      lints++;
      try {
        return answer(t, await d.linter.lint(call));
      } finally {
        lints--;
      }
    }
    switch (lanes.admit(call.tenantId, call.profile.maxConcurrency, t.container, call.deadline, t)) {
      case 'run':
        return answer(t, await run(t));
      case 'parked':
        // Returning acks the message now: the prefetch slot goes to the next call, of any tenant.
        d.metrics.parked.inc();
        expireAt(call.deadline);
        return;
      case 'full':
        d.metrics.refusedBusy.inc();
        d.logger.debug({ callId: call.callId, tenantId: call.tenantId }, "tenant's line is full: answered busy");
        return answer(t, failed('KB_ERR_BUSY', `this tenant already has ${d.tenantQueueMax} calls waiting at the runner: not run`, null));
    }
  };

  const consumer = new Consumer<RunnerCallPayload>(d.conn, d.publisher, {
    queue: (ch) => assertRpcQueue(ch, queue),
    def: messages.runnerCall,
    handler,
    prefetch: d.capacity,
    exclusive: true,
    // Handlers never throw for a tenant's reasons; anything else is ours: log, drop (the caller times out).
    classify: () => 'refuse',
    // Not into kb.dead: a call past its deadline can never be replayed, and it may carry the tenant's secrets.
    deadLetter: false,
  });
  return {
    consumer,
    queue,
    busy: () => lanes.running + lints,
    waiting: () => lanes.waiting,
    lanes: () => lanes.report(),
    abandon: () => {
      if (expiry) clearTimeout(expiry);
      for (const t of lanes.drain()) answer(t, failed('KB_ERR_NO_RUNNER', 'the runner is stopping', null));
    },
  };
}

function refusedLate(deadline: number, now: number): RunOutcome {
  return failed('KB_ERR_TIMEOUT', `the call reached the runner ${now - deadline} ms after its deadline: not run`, null);
}
