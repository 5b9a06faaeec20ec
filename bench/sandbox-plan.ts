import type { BenchConfig } from './config.js';
import { containersOf } from './containers.js';
import { runLoad, type ReplyTracker } from './load.js';
import { SANDBOX_COMMAND, type BenchEnv } from './setup.js';

/**
 * How sandbox-latency and sandbox-throughput run, decided after the first
 * sandboxed message: with a dedicated container for the premium tenant
 * (the runner's dedicated mode) they send at the rates asked for; without
 * one every message is an ephemeral run (a container each, a few per
 * second on this machine), so rates of hundreds per second would only
 * measure a queue of container starts until every call times out. Then,
 * unless rates were given explicitly, they send at rates an ephemeral
 * runner can bear, and the results say so.
 */

export interface SandboxPlan {
  mode: 'dedicated' | 'ephemeral';
  latencyRate: number;
  steps: number[];
  /** The first sandboxed message, phone packet -> reply: container start (dedicated) or pooled run, code load. */
  firstCallMs: number;
  note: string | null;
}

const EPHEMERAL_LATENCY_RATE = 2;
const EPHEMERAL_STEPS = [2, 5, 10];

export async function planSandbox(env: BenchEnv, tracker: ReplyTracker, config: BenchConfig, say: (msg: string) => void): Promise<SandboxPlan> {
  say(`sandbox warm-up: one message to the premium tenant's sandbox command`);
  const { stats } = await runLoad(env.phones, tracker, { key: 'sw0', rate: 1, durationS: 1, stragglerS: 30, command: SANDBOX_COMMAND });
  if (stats.lost) {
    const runner = env.platform.logs.get('runner')?.slice(-5).join(' | ');
    throw new Error(`sandbox warm-up: the first sandboxed message was never answered (runner log: ${runner}; dispatcher log: ${env.platform.logs.get('dispatcher')?.slice(-3).join(' | ')})`);
  }
  const dedicated = (await containersOf(env.brokerPrefix)).some((c) => c.role === 'dedicated');
  const mode = dedicated ? 'dedicated' : 'ephemeral';
  const firstCallMs = stats.p50Ms ?? 0;
  say(`  answered in ${firstCallMs} ms; the premium tenant runs ${mode}${dedicated ? '' : ' (no container labelled dedicated)'}`);
  if (dedicated || config.sandboxRatesGiven) {
    return { mode, latencyRate: config.sandboxRate, steps: config.sandboxSteps, firstCallMs, note: dedicated ? null : 'ephemeral mode (no dedicated container), at the rates given' };
  }
  const note = `no dedicated container (the runner runs premium ephemeral): sandbox-latency at ${EPHEMERAL_LATENCY_RATE} msg/s and sandbox-throughput steps ${EPHEMERAL_STEPS.join(',')} instead of ${config.sandboxRate} and ${config.sandboxSteps.join(',')}; rerun once dedicated mode lands`;
  say(`  ${note}`);
  return { mode, latencyRate: EPHEMERAL_LATENCY_RATE, steps: EPHEMERAL_STEPS, firstCallMs, note };
}
