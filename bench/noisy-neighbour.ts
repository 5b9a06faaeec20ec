import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { ReceivedPacket } from '../test/support/phone.js';
import type { BenchConfig } from './config.js';
import { latencyOf, runLoad, type LatencyFigures, type ReplyTracker, type Run } from './load.js';
import { replyKind, setupTenantB, TEST_RUN_SLEEP_S, type RoomCallCounts, type TestRunCounts } from './neighbour-b.js';
import { cpuCores, machineShare, machineTicks, sampleCpu } from './probes.js';
import type { SandboxPlan } from './sandbox-plan.js';
import { SANDBOX_COMMAND, type BenchEnv } from './setup.js';

/**
 * noisy-neighbour (issue 12, build item 5): tenant A, the bench tenant
 * (premium: its dedicated container), sends its warm sandbox command at a
 * steady rate through its phones, one open-loop stream without a pause:
 * after the lead-in, a quiet phase (A alone), then a flood phase of the same
 * length while tenant B (free plan, its own bot and phones) floods test runs
 * and room calls past its plan's limits (neighbour-b.ts). A's messages are
 * split by when they were sent (before or after the flood started), so both
 * phases are measured in the same run on the same warm path. Target: A's
 * p99 in the flood <= 2x its quiet p99, nothing of A's lost, B throttled
 * (test runs refused with KB_ERR_RATE_LIMITED, room calls answered
 * KB_ERR_BUSY), A never.
 */

export const TARGET = { maxP99Ratio: 2, lost: 0 };

export interface PhaseStats extends LatencyFigures {
  /** Cores each part kept busy over the phase (1.0 = one core). */
  cpuCores: Record<string, number>;
  /** The whole machine's split over the phase (busy, user, system, softirq, steal, iowait; 0..1): a busy machine, or a queue? */
  machine: Record<string, number> | null;
}

export interface NoisyNeighbourResult {
  name: 'noisy-neighbour';
  rate: number;
  phaseS: number;
  phones: number;
  sandboxMode: SandboxPlan['mode'];
  note: string | null;
  leadIn: { sent: number; p50Ms: number | null; p99Ms: number | null } | null;
  quiet: PhaseStats;
  flood: PhaseStats;
  /** flood p99 / quiet p99 (target <= 2), and the same for p50. */
  p99Ratio: number | null;
  p50Ratio: number | null;
  /** Tenant A's replies that were not its command's answer, by error code (read from the room text): should be empty. */
  aErrorReplies: Record<string, number>;
  /** kb_api_logs rows of each tenant since the scenario started, by error code (`ok` without one). */
  logs: { a: Record<string, number>; b: Record<string, number> } | null;
  /** kb_throttle counts by kind per tenant (null when the schema has no kb_throttle: code before issue 12). */
  throttled: { a: Record<string, number>; b: Record<string, number> } | null;
  b: {
    plan: 'free';
    testRunSleepS: number;
    testRuns: TestRunCounts;
    roomCalls: RoomCallCounts;
  };
  verdict: {
    p99WithinRatio: boolean | null;
    aLostNone: boolean;
    bTestRunsThrottled: boolean;
    bRoomCallsThrottled: boolean;
    aNeverThrottled: boolean;
    meetsTarget: boolean;
  };
  targets: typeof TARGET;
}

let runNo = 0;
const inc = (m: Record<string, number>, k: string, by = 1) => (m[k] = (m[k] ?? 0) + by);

/** Stats of the run's messages `from..to` (indices), as load.ts computes them for a whole run. */
function phaseStats(run: Run, from: number, to: number, cores: Record<string, number>, machine: Record<string, number> | null): PhaseStats {
  return { ...latencyOf(run, from, to), cpuCores: cores, machine };
}

export async function runNoisyNeighbour(env: BenchEnv, tracker: ReplyTracker, config: BenchConfig, plan: SandboxPlan, say: (msg: string) => void): Promise<NoisyNeighbourResult> {
  const { nnRate: rate, nnPhaseS: phaseS, nnFloodCallsPerS: callsPerS, nnFloodRunsPerS: runsPerS } = config;
  say(
    `noisy-neighbour: tenant A (premium, ${plan.mode}) ${rate} msg/s, ${phaseS} s quiet then ${phaseS} s while tenant B (free) sends ` +
      `${callsPerS} room calls/s of time.sleep(1) and ${runsPerS} test runs/s of time.sleep(${TEST_RUN_SLEEP_S})`,
  );
  const b = await setupTenantB(env, say);
  const aErrorReplies: Record<string, number> = {};
  const onA = (p: ReceivedPacket) => {
    if (p.event !== 'messageResponse') return;
    const kind = replyKind(p.text, /^ok \S+-\d+$/);
    if (kind !== 'answered') inc(aErrorReplies, kind);
  };
  for (const x of env.phones) x.phone.on('packet', onA);
  try {
    const since = new Date(Date.now() - 1000);
    let cpuQuiet = sampleCpu(env.pids(), env.runner);
    let cpuFlood = cpuQuiet;
    let ticksQuiet = machineTicks();
    let ticksFlood = ticksQuiet;
    let quietAt = 0;
    let floodAt = Infinity;
    let flooding: Promise<void> | null = null;
    let floodFailed: unknown = null;
    const { run, lead, stats } = await runLoad(env.phones, tracker, {
      key: `nn${++runNo}`,
      rate,
      durationS: 2 * phaseS,
      leadInS: config.leadInS,
      stragglerS: config.stragglerS,
      command: SANDBOX_COMMAND,
      onMeasureStart: () => {
        quietAt = performance.now();
        cpuQuiet = sampleCpu(env.pids(), env.runner);
        ticksQuiet = machineTicks();
        setTimeout(() => {
          floodAt = performance.now();
          cpuFlood = sampleCpu(env.pids(), env.runner);
          ticksFlood = machineTicks();
          say(`  flood: tenant B starts`);
          flooding = b.flood({ durationS: phaseS, callsPerS, runsPerS }).catch((err: unknown) => void (floodFailed = err));
        }, phaseS * 1000);
      },
    });
    const endAt = performance.now();
    const cpuEnd = sampleCpu(env.pids(), env.runner);
    const ticksEnd = machineTicks();
    // The flood phase: A's messages sent once B had started.
    let split = lead;
    while (split < run.sent && run.sentAt[split]! < floodAt) split++;
    const quietCores = cpuCores(cpuQuiet, cpuFlood, (Math.min(floodAt, endAt) - quietAt) / 1000);
    const floodCores = floodAt < endAt ? cpuCores(cpuFlood, cpuEnd, (endAt - floodAt) / 1000) : {};
    await flooding;
    if (floodFailed) throw floodFailed;
    say(`  tenant B stopped: waiting for its replies and test runs to end`);
    const fromB = await b.finish(60);
    await tracker.settle();
    const quiet = phaseStats(run, lead, split, quietCores, machineShare(ticksQuiet, ticksFlood));
    const flood = phaseStats(run, split, run.sent, floodCores, floodAt < endAt ? machineShare(ticksFlood, ticksEnd) : null);
    // Lost counted when the load ended (its straggler wait), as load.ts does; a late reply counts as answered late, not lost.
    const late = (from: number, to: number) => {
      let n = 0;
      for (let i = from; i < to; i++) if (run.replies[i]! > 0 && run.firstAt[i]! > endAt) n++;
      return n;
    };
    quiet.lost += late(lead, split);
    quiet.received -= late(lead, split);
    flood.lost += late(split, run.sent);
    flood.received -= late(split, run.sent);

    const aTenant = await tenantOfBot(env);
    const { logs, throttled } = await countRows(env.databaseUrl, since, aTenant, b.tenantId, say);
    const ratio = (f: number | null, q: number | null) => (f === null || q === null || q === 0 ? null : Math.round((f / q) * 100) / 100);
    const p99Ratio = ratio(flood.p99Ms, quiet.p99Ms);
    const busyOrLimited = (m: Record<string, number> | undefined) => (m?.KB_ERR_BUSY ?? 0) + (m?.KB_ERR_RATE_LIMITED ?? 0);
    const verdict = {
      p99WithinRatio: p99Ratio === null ? null : p99Ratio <= TARGET.maxP99Ratio,
      aLostNone: quiet.lost + flood.lost === 0,
      bTestRunsThrottled: (fromB.testRuns.byAnswer['429 KB_ERR_RATE_LIMITED'] ?? 0) > 0,
      bRoomCallsThrottled: (fromB.roomCalls.replies.KB_ERR_BUSY ?? 0) > 0,
      aNeverThrottled: busyOrLimited(aErrorReplies) === 0 && busyOrLimited(logs?.a) === 0 && Object.keys(throttled?.a ?? {}).length === 0,
      meetsTarget: false,
    };
    verdict.meetsTarget = verdict.p99WithinRatio === true && verdict.aLostNone && verdict.bTestRunsThrottled && verdict.bRoomCallsThrottled && verdict.aNeverThrottled;
    const result: NoisyNeighbourResult = {
      name: 'noisy-neighbour',
      rate,
      phaseS,
      phones: env.phones.length,
      sandboxMode: plan.mode,
      note: plan.mode === 'dedicated' ? null : 'tenant A had no dedicated container (premium ran ephemeral)',
      leadIn: stats.leadIn ?? null,
      quiet,
      flood,
      p99Ratio,
      p50Ratio: ratio(flood.p50Ms, quiet.p50Ms),
      aErrorReplies,
      logs,
      throttled,
      b: { plan: 'free', testRunSleepS: TEST_RUN_SLEEP_S, ...fromB },
      verdict,
      targets: TARGET,
    };
    say(`  ${noisyLines(result)[1]}`);
    return result;
  } finally {
    for (const x of env.phones) x.phone.off('packet', onA);
    b.close();
  }
}

async function tenantOfBot(env: BenchEnv): Promise<string | null> {
  if (!env.bot) return null;
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    return (await client.query<{ t: string }>(`select tenant_id as t from bots where id = $1`, [env.bot.id])).rows[0]?.t ?? null;
  } finally {
    await client.end();
  }
}

/** kb_api_logs by tenant and error code since `since`; kb_throttle by tenant and kind (absent before issue 12's migration). */
async function countRows(databaseUrl: string, since: Date, a: string | null, b: string, say: (msg: string) => void): Promise<Pick<NoisyNeighbourResult, 'logs' | 'throttled'>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const split = (rows: { t: string; k: string; n: number }[]) => {
    const out = { a: {} as Record<string, number>, b: {} as Record<string, number> };
    for (const r of rows) inc(r.t === b ? out.b : out.a, r.k, r.n);
    return out;
  };
  const tenants = [a, b].filter((t): t is string => t !== null);
  try {
    let logs: NoisyNeighbourResult['logs'] = null;
    let throttled: NoisyNeighbourResult['throttled'] = null;
    try {
      const r = await client.query<{ t: string; k: string; n: number }>(
        `select tenant_id as t, coalesce(error_code, 'ok') as k, count(*)::int as n from kb_api_logs
          where created_at >= $1 and tenant_id = any($2::uuid[]) group by 1, 2`,
        [since, tenants],
      );
      logs = split(r.rows);
    } catch (err) {
      say(`  could not count kb_api_logs: ${String(err)}`);
    }
    try {
      const r = await client.query<{ t: string; k: string; n: number }>(
        `select tenant_id as t, kind as k, sum(count)::int as n from kb_throttle where tenant_id = any($1::uuid[]) group by 1, 2`,
        [tenants],
      );
      throttled = split(r.rows);
    } catch {
      // No kb_throttle: code from before issue 12 (a baseline side).
    }
    return { logs, throttled };
  } finally {
    await client.end();
  }
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
const counts = (m: Record<string, number> | null | undefined) => {
  const e = Object.entries(m ?? {}).sort((x, y) => y[1] - x[1]);
  return e.length ? e.map(([k, n]) => `${k} ${n}`).join(', ') : 'none';
};
const met = (v: boolean | null) => (v === null ? '?' : v ? 'met' : 'NOT met');

/** The printed table (A's two phases) and lines (the ratio, what B was told, the verdict). */
export function noisyLines(r: NoisyNeighbourResult): string[] {
  const v = r.verdict;
  const tr = r.b.testRuns;
  const rc = r.b.roomCalls;
  return [
    `noisy-neighbour: tenant A ${r.rate} msg/s (premium, ${r.sandboxMode}), phases of ${r.phaseS} s; tenant B (free) ${rc.rate} room calls/s of time.sleep(1), test runs of time.sleep(${r.b.testRunSleepS})`,
    `A p99 flood/quiet ${r.p99Ratio ?? '?'} (target <= ${r.targets.maxP99Ratio}: ${met(v.p99WithinRatio)}), p50 ${r.p50Ratio ?? '?'}; A lost ${r.quiet.lost}/${r.flood.lost} (quiet/flood), doubled ${r.quiet.doubled}/${r.flood.doubled}`,
    `A's error replies: ${counts(r.aErrorReplies)} (A never throttled: ${v.aNeverThrottled ? 'yes' : 'NO'})`,
    `B test runs: ${tr.sent} sent: ${counts(tr.byAnswer)}${tr.maxRetryAfterSec === null ? '' : ` (retryAfterSec up to ${tr.maxRetryAfterSec})`}; the accepted ended ${counts(tr.outcomes)} (throttled: ${v.bTestRunsThrottled ? 'yes' : 'NO'})`,
    `B room calls: ${rc.sent} sent: ${counts(rc.replies)}, no reply ${rc.unanswered} (answered KB_ERR_BUSY: ${v.bRoomCallsThrottled ? 'yes' : 'NO'})`,
    `kb_api_logs since the start: A ${counts(r.logs?.a)}; B ${counts(r.logs?.b)}`,
    `kb_throttle: ${r.throttled === null ? 'no such table (code before issue 12)' : `A ${counts(r.throttled.a)}; B ${counts(r.throttled.b)}`}`,
    `noisy-neighbour target (flood p99 <= 2x quiet, 0 lost, B throttled, never A): ${v.meetsTarget ? 'met' : 'NOT met'}`,
  ];
}

export function noisyTable(results: NoisyNeighbourResult[]): string {
  const header = ['noisy-neighbour A', 'rate', 's', 'sent', 'recv', 'lost', 'dbl', 'p50ms', 'p90ms', 'p99ms', 'maxms', 'reply/s', 'cores disp/runner/docker/sbx/api', 'machine busy'];
  const rows = results.flatMap((r) =>
    (['quiet', 'flood'] as const).map((phase) => {
      const p = r[phase];
      return [
        phase,
        String(r.rate),
        String(r.phaseS),
        String(p.sent),
        String(p.received),
        String(p.lost),
        String(p.doubled),
        fmt(p.p50Ms),
        fmt(p.p90Ms),
        fmt(p.p99Ms),
        fmt(p.maxMs),
        String(p.throughputPerS),
        ['dispatcher', 'runner', 'docker', 'sandboxes', 'api'].map((k) => p.cpuCores[k]?.toFixed(2) ?? '-').join('/'),
        p.machine?.busy === undefined ? '-' : `${Math.round(p.machine.busy * 100)} %`,
      ];
    }),
  );
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const grid = all.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
  return [grid, ...results.flatMap((r) => noisyLines(r))].join('\n');
}
