import { performance } from 'node:perf_hooks';
import { createLogger } from '@domaeka/core';
import { connectBroker, RunnerClient, type RunnerProfile } from '@domaeka/broker';
import { AMQP_URL } from '../test/support/env.js';
import { waitFor } from '../test/support/wait.js';
import { containersOf } from './containers.js';
import { SANDBOX_CODE, SANDBOX_COMMAND } from './setup.js';

/**
 * sandbox-pooled and sandbox-cold: ephemeral runs measured as the runner
 * RPC round trip, the way the dispatcher calls (core's RunnerClient:
 * mandatory publish to the runner's queue, result on our reply queue), one
 * call at a time against the runner child. Pooled: before each call the
 * pool is full again and the previous container removed (so a call never
 * shares the machine with a container start); cold: the runner has no pool
 * (RUNNER_POOL_SIZE=0), every run starts its container.
 */

/** The free plan's row (migrations' seed): ephemeral mode's plan. */
const FREE_PROFILE: RunnerProfile = { name: 'free', memoryMb: 256, cpus: 0.5, timeoutMaxMs: 5000, maxConcurrency: 2 };
const POOL_GAUGE = 'kb_runner_pool_ready';
const RUN_COUNT = 'kb_runner_run_seconds_count';

export interface RunnerCallsResult {
  name: 'sandbox-pooled' | 'sandbox-cold';
  calls: number;
  sent: number;
  /** Answered with the expected text. */
  received: number;
  /** No answer, or an error answer (KB_ERR_*: the messages are in `errors`). */
  lost: number;
  /** Not observable here: RunnerClient settles a call once and drops a second answer. */
  doubled: null;
  /** Round trip: call() -> its result, in this process (publish with confirm, runner, container, result queue). */
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  meanMs: number | null;
  /** Calls/s one at a time (1000 / mean round trip): not a capacity, the calls wait for the pool between them. */
  throughputPerS: number;
  /** `durationMs` the runner reports: from the container in hand to the answer (so a cold run's container start is not in it). */
  runnerDurationP50Ms: number | null;
  runnerDurationP99Ms: number | null;
  /** From the runner's kb_runner_run_seconds{pooled}: how the runs got their container. */
  pooledRuns: number | null;
  coldRuns: number | null;
  /** Time spent waiting for the pool to refill (pooled) or the last container to go, between calls. */
  settleP50Ms: number | null;
  errors: string[];
}

const round = (v: number | null, digits = 2) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

/** The q-quantile of xs (nearest rank); null when empty. */
export function quantile(xs: number[], q: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** kb_runner_run_seconds' label for where a run's container came from (`pooled` before dedicated mode, `start` since). */
const POOLED = ['pooled="true"', 'start="pool"'];
const COLD = ['pooled="false"', 'start="cold"'];

/** Sum of a gauge or counter's samples on a /metrics page whose labels contain one of `match` (null when absent). */
async function scrapeSum(url: string, name: string, match: string[] = []): Promise<number | null> {
  const res = await fetch(url).catch(() => null);
  if (!res || res.status !== 200) return null;
  let sum: number | null = null;
  for (const line of (await res.text()).split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (match.length && !match.some((m) => line.includes(m))) continue;
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface RunnerCallsSpec {
  name: 'sandbox-pooled' | 'sandbox-cold';
  calls: number;
  brokerPrefix: string;
  runnerId: string;
  metricsUrl: string;
  /** Ready containers the runner keeps per profile (0: cold). */
  poolSize: number;
  say: (msg: string) => void;
}

export async function runRunnerCalls(spec: RunnerCallsSpec): Promise<RunnerCallsResult> {
  const logger = createLogger('bench-rpc', 'warn');
  const broker = await connectBroker({ url: AMQP_URL, prefix: spec.brokerPrefix, name: 'bench-rpc', logger });
  const client = new RunnerClient(broker.conn, broker.publisher, spec.brokerPrefix, logger);
  await client.start();
  const round_: number[] = [];
  const durations: number[] = [];
  const settles: number[] = [];
  const errors: string[] = [];
  let received = 0;
  try {
    await waitFor(() => client.registry.candidates().some((r) => r.runnerId === spec.runnerId), { timeoutMs: 15_000, what: `runner ${spec.runnerId} heartbeat` });
    const pooled0 = await scrapeSum(spec.metricsUrl, RUN_COUNT, POOLED);
    const cold0 = await scrapeSum(spec.metricsUrl, RUN_COUNT, COLD);
    spec.say(`${spec.name}: ${spec.calls} sequential calls (pool size ${spec.poolSize})`);
    for (let i = 0; i < spec.calls; i++) {
      const s0 = performance.now();
      await settle(spec);
      settles.push(performance.now() - s0);
      const id = `rpc${i}`;
      const t0 = performance.now();
      const outcome = await client.call({
        tenantId: `bench-rpc-${spec.name}`,
        commandId: '1',
        mode: 'ephemeral',
        profile: FREE_PROFILE,
        code: SANDBOX_CODE,
        codeVersion: '1:bench',
        params: { command: SANDBOX_COMMAND, parameters: [id], raw_text: `${SANDBOX_COMMAND} ${id}`, sender: '벤치', room: '벤치방', channel_id: '1', metadata: {} },
        timeoutMs: 5000,
        deadline: Date.now() + 5000 + 2000,
      });
      const ms = performance.now() - t0;
      if (outcome.kind === 'result' && outcome.result.ok && outcome.result.result?.text === `ok ${id}`) {
        received++;
        round_.push(ms);
        durations.push(outcome.result.durationMs);
      } else if (errors.length < 5) {
        errors.push(outcome.kind === 'failed' ? `${outcome.code}: ${outcome.message}` : JSON.stringify(outcome.result.error ?? outcome.result.result));
      }
    }
    const pooled1 = await scrapeSum(spec.metricsUrl, RUN_COUNT, POOLED);
    const cold1 = await scrapeSum(spec.metricsUrl, RUN_COUNT, COLD);
    const mean = round_.length ? round_.reduce((a, b) => a + b, 0) / round_.length : null;
    const result: RunnerCallsResult = {
      name: spec.name,
      calls: spec.calls,
      sent: spec.calls,
      received,
      lost: spec.calls - received,
      doubled: null,
      p50Ms: round(quantile(round_, 0.5)),
      p90Ms: round(quantile(round_, 0.9)),
      p99Ms: round(quantile(round_, 0.99)),
      maxMs: round(quantile(round_, 1)),
      meanMs: round(mean),
      throughputPerS: mean ? round(1000 / mean, 1)! : 0,
      runnerDurationP50Ms: round(quantile(durations, 0.5)),
      runnerDurationP99Ms: round(quantile(durations, 0.99)),
      // A label value never observed has no line: 0 once the other one shows up.
      pooledRuns: pooled1 === null && cold1 === null ? null : (pooled1 ?? 0) - (pooled0 ?? 0),
      coldRuns: pooled1 === null && cold1 === null ? null : (cold1 ?? 0) - (cold0 ?? 0),
      settleP50Ms: round(quantile(settles, 0.5)),
      errors,
    };
    spec.say(
      `  ${received}/${spec.calls} answered, round trip p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms; runner durationMs p50 ${result.runnerDurationP50Ms} ms; pooled ${result.pooledRuns}, cold ${result.coldRuns}`,
    );
    return result;
  } finally {
    await client.stop().catch(() => undefined);
    await broker.conn.close().catch(() => undefined);
  }
}

/**
 * Quiet before the next call: every pool-labelled container of the prefix
 * is a ready one (the last run's container is removed, the refill done),
 * and the pool is full (the runner's gauge, refreshed with each heartbeat).
 * Cold: no ephemeral or pool container left at all.
 */
async function settle(spec: RunnerCallsSpec): Promise<void> {
  await waitFor(
    async () => {
      const mine = (await containersOf(spec.brokerPrefix)).filter((c) => c.role === 'pool' || c.role === 'ephemeral');
      if (spec.poolSize === 0) return mine.length === 0;
      const free = await scrapeSum(spec.metricsUrl, POOL_GAUGE, ['profile="free']);
      const ready = await scrapeSum(spec.metricsUrl, POOL_GAUGE);
      return free !== null && free >= spec.poolSize && ready !== null && mine.length <= ready;
    },
    { timeoutMs: 30_000, intervalMs: 20, what: spec.poolSize ? 'the pool to refill' : 'the last container to go' },
  );
}
