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
  type RunnerResultPayload,
} from '@domaeka/broker';
import type { Logger } from 'pino';
import type { RunnerMetrics } from '../metrics.js';
import type { LintRunner } from '../lint/lint-runner.js';
import type { DedicatedRunner } from '../sandbox/dedicated-runner.js';
import type { EphemeralRunner } from '../sandbox/ephemeral-runner.js';
import type { RunOutcome } from '../sandbox/run-outcome.js';

export interface CallConsumerDeps {
  conn: BrokerConnection;
  publisher: Publisher;
  prefix: string;
  runnerId: string;
  capacity: number;
  ephemeral: EphemeralRunner;
  dedicated: DedicatedRunner;
  /** `op: 'lint'` calls. */
  linter: LintRunner;
  metrics: RunnerMetrics;
  logger: Logger;
  clock?: () => number;
}

/**
 * The runner's RPC consumer: its own exclusive queue (gone with its
 * connection, so callers' `mandatory` publishes come back at once when it
 * is dead), prefetch = capacity (the broker never hands it more calls than
 * it runs at once). A call whose deadline already passed is refused without
 * running (the message's expiration drops most of them earlier). The result
 * goes to `replyTo` with the call's correlationId, and the call is acked
 * in the same write.
 */
export function createCallConsumer(d: CallConsumerDeps): { consumer: Consumer<RunnerCallPayload>; queue: string; busy: () => number } {
  const queue = names(d.prefix).runnerQueue(d.runnerId);
  const clock = d.clock ?? Date.now;
  let busy = 0;

  const handler = async (env: EnvelopeOf<RunnerCallPayload>, msg: ConsumeMessage): Promise<void> => {
    const call = env.payload;
    const replyTo = msg.properties.replyTo as string | undefined;
    const correlationId = (msg.properties.correlationId as string | undefined) ?? call.callId;
    let outcome: RunOutcome;
    if (clock() >= call.deadline) {
      d.metrics.refusedExpired.inc();
      d.logger.info({ callId: call.callId, lateMs: clock() - call.deadline }, 'call past its deadline: not run');
      outcome = refusedLate(call.deadline, clock());
    } else {
      busy++;
      try {
        if (call.op === 'lint') outcome = await d.linter.lint(call);
        else if (call.mode === 'dedicated') outcome = await d.dedicated.run(call);
        else outcome = await d.ephemeral.run(call);
      } finally {
        busy--;
      }
      if (call.op !== 'lint') d.metrics.observeRun(call.mode, outcome);
    }
    if (!replyTo) return;
    const { pooled: _pooled, ...rest } = outcome;
    const result: RunnerResultPayload = { callId: call.callId, ...rest };
    // Not awaited: the call is acked in the same write as its result. Waiting for the confirm first
    // protected nothing (the queue is exclusive: unacked calls die with this connection anyway) and
    // cost a write and a wake-up per call.
    d.publisher
      .publishRpc(messages.runnerResult, replyTo, envelope(messages.runnerResult, result), {
        correlationId,
        // Nobody reads an answer after the caller's deadline; a caller that died has no queue (not mandatory: nothing to do then).
        mandatory: false,
        expirationMs: Math.max(1000, call.deadline + 5000 - clock()),
      })
      .catch((err: unknown) => d.logger.warn({ callId: call.callId, err: String(err) }, 'result could not be sent; the caller times out'));
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
  return { consumer, queue, busy: () => busy };
}

function refusedLate(deadline: number, now: number): RunOutcome {
  return {
    ok: false,
    result: null,
    error: { code: 'KB_ERR_TIMEOUT', message: `the call reached the runner ${now - deadline} ms after its deadline: not run` },
    output: '',
    outputTruncated: false,
    durationMs: 0,
    cpuMs: null,
    peakMemoryBytes: null,
    pooled: null,
  };
}
