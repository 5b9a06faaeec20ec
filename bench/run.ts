import os from 'node:os';
import { names } from '@domaeka/broker';
import pg from 'pg';
import { AMQP_URL } from '../test/support/env.js';
import { helpText, parseBenchConfig, type BenchConfig } from './config.js';
import { TARGETS, isSaturated, summarize, summaryText, table, writeResults, type Checks, type ScenarioResult } from './report.js';
import { measureIdleMemory } from './idle-memory.js';
import { describeMachine, gitCommit, postmasterStart } from './machine.js';
import { ReplyTracker, runLoad } from './load.js';
import { brokerCounters, dbTransactions, perMessage, sampleSyscalls } from './work-counts.js';
import { QueueProbe, type Buckets, cpuCores, histogramQuantileMs, machineShare, machineTicks, sampleCpu, scrapeHistogram } from './probes.js';
import { runRunnerCalls } from './runner-calls.js';
import { measureFloors } from './floors.js';
import { planSandbox, type SandboxPlan } from './sandbox-plan.js';
import { sandboxSummary, sandboxSummaryText, sandboxTables, type OtherResult } from './sandbox-report.js';
import { COMMAND, POOL_SIZE, SANDBOX_COMMAND, setupBench, type BenchEnv } from './setup.js';
import { measureTransports } from './transport.js';
import { runStoreCalls, storeSummary, storeTable } from './store-calls.js';
import { dbSummary, dbTable, runDbCalls } from './db-calls.js';
import { noisyTable, runNoisyNeighbour, type NoisyNeighbourResult } from './noisy-neighbour.js';
import { runComparison } from './compare.js';
import { runScheduleLag, scheduleLagTable, type ScheduleLagResult } from './schedule-lag.js';
import { densitySummary, densityTable, runDedicatedDensity, type DensityResult } from './dedicated-density.js';

/**
 * `npm run bench`: phones over TCP -> gateway -> RabbitMQ -> dispatcher ->
 * local HTTP stub (or the runner and a sandbox container) -> reply to the
 * phone, with every service a child process on the real broker (confirms)
 * and database (logging on); plus the runner's ephemeral runs over RPC, a
 * tenant container's idle memory and the sandbox transports. Runs the
 * chosen scenarios, writes bench/results/<ISO date>-<scenarios>.json and
 * prints tables. See bench/README.md.
 */

const say = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const r2 = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 100) / 100);

async function main(): Promise<number> {
  const parsed = parseBenchConfig();
  if (parsed === 'help') {
    process.stdout.write(helpText);
    return 0;
  }
  const config = parsed;
  // Before/after: this process only runs the sides (child benches) and compares them.
  if (config.baseline) return runComparison(config, process.argv.slice(2), say);
  const startedAt = new Date();
  const machine = await describeMachine();
  say(
    `machine: ${machine.cpus} cpus, node ${machine.node}, RabbitMQ ${machine.rabbitmq ?? '?'}, PostgreSQL ${machine.postgres ?? '?'}, ` +
      `load ${machine.loadavgAtStart.join(' ')}, busy before start ${Math.round((machine.busyBeforeStart ?? 0) * 100)} %, wake-up round trip p50 ${machine.wakeup.p50Us} us`,
  );
  if ((machine.busyBeforeStart ?? 0) > 0.2) {
    say(`note: the machine was ${Math.round(machine.busyBeforeStart! * 100)} % busy before the bench started: numbers will be worse than on a quiet machine`);
  }

  let env: BenchEnv | null = null;
  /** The setup's cleanup (env.cleanup), known before setup ends: an interrupt during it cleans up too. */
  let cleanup: (() => Promise<void>) | null = null;
  let queues: QueueProbe | null = null;
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    say('interrupted: cleaning up');
    void Promise.resolve(queues?.close())
      .then(() => cleanup?.())
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    env = await setupBench(config, say, (c) => (cleanup = c));
    const tracker = env.phones.length ? new ReplyTracker(env.phones) : null;
    if (tracker) queues = await QueueProbe.open(AMQP_URL, env.queues.dispatch, env.queues.replies);
    const has = (n: BenchConfig['scenarios'][number]) => config.scenarios.includes(n);

    const results: ScenarioResult[] = [];
    const others: (OtherResult | DensityResult)[] = [];
    const neighbours: NoisyNeighbourResult[] = [];
    const lags: ScheduleLagResult[] = [];
    let plan: SandboxPlan | null = null;
    if (tracker && queues) {
      const http = has('http-latency') || has('http-throughput');
      const sandbox = has('sandbox-latency') || has('sandbox-throughput') || has('noisy-neighbour') || has('dedicated-density');
      if (http) {
        const top = has('http-throughput') ? Math.max(...config.steps) : config.latencyRate;
        await warmUp(env, tracker, config, COMMAND, top);
        if (has('http-latency')) results.push(await measure(env, tracker, queues, config, 'http-latency', config.latencyRate, config.latencyDurationS, COMMAND, config.leadInS));
      }
      const tag = (r: ScenarioResult) => Object.assign(r, { sandboxMode: plan!.mode, note: plan!.note });
      if (sandbox) {
        plan = await planSandbox(env, tracker, config, say);
        // Under load at the latency rate only: a tenant's dedicated calls run one after another, so 1,000 msg/s
        // past its capacity would leave a backlog of calls timing out for the first scenario to wait through.
        const warmRate = has('sandbox-latency') || has('sandbox-throughput') ? plan.latencyRate : has('dedicated-density') ? config.densityRate : config.nnRate;
        if (plan.mode === 'dedicated') await warmUp(env, tracker, config, SANDBOX_COMMAND, warmRate);
        if (has('sandbox-latency')) {
          results.push(tag(await measure(env, tracker, queues, config, 'sandbox-latency', plan.latencyRate, config.latencyDurationS, SANDBOX_COMMAND, config.leadInS)));
        }
        // A latency measurement too (A's quiet against its flood), so before any throughput step.
        if (has('noisy-neighbour')) {
          await drain(env, tracker, queues);
          neighbours.push(await runNoisyNeighbour(env, tracker, config, plan, say));
        }
      }
      // A latency measurement too (its fires are seconds apart: no load), on a drained queue.
      if (has('schedule-lag')) {
        await drain(env, tracker, queues);
        lags.push(await runScheduleLag(env, tracker, env.tenant!, { fires: config.scheduleFires, speed: config.scheduleSpeed, tickMs: config.scheduleTickMs, root: config.root, say }));
      }
      // Throughput steps after every latency scenario: a saturated step leaves the broker and the database busy
      // for a while after its queue drained, which a latency scenario after it would measure (p50 x3 seen).
      if (has('http-throughput')) results.push(...(await steps(env, tracker, queues, config, 'http-throughput', config.steps)));
      if (plan && has('sandbox-throughput')) {
        results.push(...(await steps(env, tracker, queues, config, 'sandbox-throughput', plan.steps, SANDBOX_COMMAND, true)).map(tag));
      }
    }
    if (has('sandbox-idle-memory')) {
      // Its one message queues behind whatever a saturated step left in the dispatch queue.
      if (tracker && queues) await drain(env, tracker, queues);
      others.push(await measureIdleMemory(env, config.idleS, say));
    }
    if (has('dedicated-density') && tracker && queues) {
      // The phone path on the bench tenant (one more dedicated container) with 1 tenant up, then while all N are.
      await drain(env, tracker, queues);
      const phonePath = (label: string) => measure(env!, tracker, queues!, config, `dedicated-density phone (${label})`, config.densityRate, config.latencyDurationS, SANDBOX_COMMAND, config.leadInS);
      results.push(await phonePath('1 tenant'));
      const e = env;
      others.push(
        await runDedicatedDensity({
          tenants: config.tenants,
          concurrency: config.densityConcurrency,
          warmCalls: config.densityCalls,
          idleS: Math.max(10, config.idleS),
          tag: e.tag,
          brokerPrefix: e.brokerPrefix,
          runnerId: e.runnerId(),
          metricsUrl: e.metricsUrl('runner'),
          pids: e.pids(),
          whileAllUp: async () => void results.push(await phonePath(`${config.tenants + 1} tenants`)),
          say,
        }),
      );
    }
    if (has('sandbox-store')) {
      others.push(await runStoreCalls({ calls: config.storeCalls, databaseUrl: env.databaseUrl, brokerPrefix: env.brokerPrefix, runnerId: env.runnerId(), say }));
    }
    if (has('sandbox-db')) {
      others.push(await runDbCalls({ calls: config.storeCalls, databaseUrl: env.databaseUrl, brokerPrefix: env.brokerPrefix, runnerId: env.runnerId(), say }));
    }
    if (has('sandbox-pooled')) {
      others.push(await runRunnerCalls({ name: 'sandbox-pooled', calls: config.pooledCalls, brokerPrefix: env.brokerPrefix, runnerId: env.runnerId(), metricsUrl: env.metricsUrl('runner'), poolSize: POOL_SIZE, say }));
    }
    if (has('sandbox-cold')) {
      say('sandbox-cold: restarting the runner with RUNNER_POOL_SIZE=0');
      await env.restartRunner({ RUNNER_POOL_SIZE: '0' });
      others.push(await runRunnerCalls({ name: 'sandbox-cold', calls: config.coldCalls, brokerPrefix: env.brokerPrefix, runnerId: env.runnerId(), metricsUrl: env.metricsUrl('runner'), poolSize: 0, say }));
    }
    if (has('sandbox-transport')) others.push(...(await measureTransports({ calls: config.transportCalls, say })));
    if (has('floors')) others.push(...(await measureFloors({ calls: Math.min(config.transportCalls, 1000), amqpUrl: AMQP_URL, say })));

    const checks = tracker ? await sanityChecks(env, tracker, machine.postgresStartedAt) : null;
    const summary = { ...summarize(results), ...sandboxSummary(results, others as OtherResult[], plan), ...storeSummary(others), ...dbSummary(others), ...densitySummary(others) };
    const out = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { ...machine, loadavgAtEnd: os.loadavg().map((v) => r2(v)) },
      gitCommit: gitCommit(config.root),
      config: { ...config },
      // Settings the services took from this environment (e.g. DISPATCHER_PREFETCH): a result is comparable only with them.
      // Nothing secret-shaped: results are committed.
      serviceEnv: Object.fromEntries(
        Object.entries(process.env).filter(([k]) => /^(DISPATCHER|RUNNER|GATEWAY|API|EGRESS)_/.test(k) && !/SECRET|KEY|TOKEN|PASS|CERT|CRED/i.test(k)),
      ),
      scenarios: [...results, ...neighbours, ...lags, ...others],
      summary: {
        ...summary,
        ...scheduleSummary(lags),
        ...(neighbours.length ? { noisyNeighbour: neighbours.map((n) => ({ p99Ratio: n.p99Ratio, quiet: pick(n.quiet), flood: pick(n.flood), verdict: n.verdict })) } : {}),
      },
      checks,
      targets: TARGETS,
    };
    const file = writeResults(out, config, startedAt);
    const tables = [results.length ? table(results) : '', neighbours.length ? noisyTable(neighbours) : '', scheduleLagTable(lags), sandboxTables(others as OtherResult[]), storeTable(others), dbTable(others), densityTable(others)].filter(Boolean).join('\n\n');
    const text = [summaryText(summary, checks), sandboxSummaryText(summary)].filter(Boolean).join('\n');
    process.stdout.write(`${tables}\n${text}\nwritten: ${file}\n`);
    return 0;
  } catch (err) {
    // What the services said last is usually the why.
    for (const [name, lines] of env?.platform.logs ?? []) if (lines.length) say(`--- ${name} (last lines)\n${lines.slice(-10).join('\n')}`);
    throw err;
  } finally {
    await queues?.close();
    if (env && !interrupted) {
      say('cleaning up: services, broker names, database');
      await env.cleanup();
    }
  }
}

const scheduleSummary = ([l]: ScheduleLagResult[]) =>
  l ? { scheduleLag: { fires: l.received, lost: l.lost, p50Ms: l.p50Ms, p99Ms: l.p99Ms, maxMs: l.maxMs, claimP50Ms: l.claim.p50Ms, claimP99Ms: l.claim.p99Ms, deliveryP50Ms: l.delivery.p50Ms, deliveryP99Ms: l.delivery.p99Ms } } : {};

const pick = (p: NoisyNeighbourResult['quiet']) => ({ p50Ms: p.p50Ms, p99Ms: p.p99Ms, lost: p.lost, doubled: p.doubled });

/** JIT, pools and caches warm, and proof the path answers, before anything is measured. */
async function warmUp(env: BenchEnv, tracker: ReplyTracker, config: BenchConfig, command: string, top: number): Promise<void> {
  const total = config.warmupPerPhone * env.phones.length;
  for (let attempt = 1; ; attempt++) {
    say(`warm-up (${command}): ${total} messages`);
    const { stats } = await runLoad(env.phones, tracker, { key: `w${command}${attempt}`, rate: Math.min(200, total), durationS: total / Math.min(200, total), stragglerS: 15, command });
    await tracker.settle();
    if (stats.lost === 0) break;
    if (attempt === 3) throw new Error(`warm-up: ${stats.lost} of ${stats.sent} messages never answered; is the path working? (dispatcher log: ${env.platform.logs.get('dispatcher')?.slice(-5).join(' | ')})`);
    say(`warm-up: ${stats.lost} unanswered, again`);
  }
  // Then a few seconds under load, so the first measured scenario does not pay for what grows lazily
  // (JIT of the hot paths, the dispatcher's pool connections, HTTP keep-alive sockets).
  const rateUnderLoad = Math.min(1000, top);
  const durationS = config.quick ? 2 : 3;
  say(`warm-up (${command}): ${rateUnderLoad} msg/s for ${durationS} s`);
  await runLoad(env.phones, tracker, { key: `wl${command}`, rate: rateUnderLoad, durationS, stragglerS: 15, command });
  await tracker.settle();
}

/**
 * Waits (up to 10 min) until the dispatch queue and the runner's call queue
 * are empty and replies stopped: a saturated sandbox step leaves a backlog,
 * mostly in the runner's queue (its prefetch is its capacity).
 */
async function drain(env: BenchEnv, tracker: ReplyTracker, queues: QueueProbe): Promise<void> {
  const t0 = performance.now();
  let said = false;
  for (;;) {
    const depths = await Promise.all([queues.depth(), env.runner ? queues.depth(names(env.brokerPrefix).runnerQueue(env.runnerId())) : 0]);
    const depth = depths.reduce<number>((a, d) => a + (d ?? 0), 0);
    if (depth === 0 || performance.now() - t0 > 600_000) break;
    if (!said) say(`waiting for ${depth} queued messages to drain`);
    said = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await tracker.settle();
  if (said) say(`  drained in ${Math.round((performance.now() - t0) / 1000)} s`);
}

let runNo = 0;

/**
 * Throughput steps of rising rate, each marked saturated or not. With
 * `stopBelowHalf`, the steps after one that answered under half its rate
 * are skipped (said on stderr): they would only queue more behind it, and
 * draining that costs minutes.
 */
async function steps(env: BenchEnv, tracker: ReplyTracker, queues: QueueProbe, config: BenchConfig, name: string, rates: number[], command = COMMAND, stopBelowHalf = false): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const rate of rates) {
    const r = await measure(env, tracker, queues, config, name, rate, config.stepDurationS, command);
    r.saturated = isSaturated(r);
    out.push(r);
    if (stopBelowHalf && r.throughputPerS < rate / 2 && rate !== rates[rates.length - 1]) {
      say(`  ${name}: ${r.throughputPerS} replies/s at ${rate} msg/s, under half: higher steps skipped`);
      break;
    }
  }
  return out;
}

const STAGES = ['claim', 'store', 'reply'] as const;

async function measure(env: BenchEnv, tracker: ReplyTracker, queues: QueueProbe, config: BenchConfig, name: string, rate: number, durationS: number, command = COMMAND, leadInS = 0): Promise<ScenarioResult> {
  // A sandbox step past capacity leaves more queued than settle() waits for: the next one starts on an empty queue.
  if (command !== COMMAND) await drain(env, tracker, queues);
  const key = `r${++runNo}`;
  say(`${name}: ${rate} msg/s for ${durationS} s over ${env.phones.length} phones${leadInS ? ` (after ${leadInS} s at that rate, not counted)` : ''}`);
  const overheadUrl = env.metricsUrl('dispatcher');
  const gatewayUrl = env.metricsUrl('gateway');
  const runnerUrl = env.runner ? env.metricsUrl('runner') : null;
  const stages = () => Promise.all(STAGES.map((st) => scrapeHistogram(overheadUrl, 'kb_dispatcher_stage_seconds', `stage="${st}"`)));
  // Snapshots at the first measured message (after the lead-in, if any).
  let before: Promise<[Buckets | null, Buckets | null, Buckets | null, (Buckets | null)[], Buckets | null]> | null = null;
  // Counted outside the CPU window (work-counts.ts): these cover the lead-in too.
  const [broker0, db0] = await Promise.all([brokerCounters(), dbTransactions(env.databaseUrl)]);
  let cpu0 = sampleCpu(env.pids(), env.runner);
  let sys0 = sampleSyscalls(cpu0);
  let ticks0 = machineTicks();
  let t0 = performance.now();
  const onMeasureStart = () => {
    before = Promise.all([
      scrapeHistogram(overheadUrl, 'kb_dispatcher_overhead_seconds'),
      scrapeHistogram(gatewayUrl, 'gateway_analyze_publish_seconds'),
      runnerUrl ? scrapeHistogram(runnerUrl, 'kb_runner_run_seconds') : null,
      stages(),
      scrapeHistogram(overheadUrl, 'kb_dispatcher_target_duration_seconds'),
    ]);
    cpu0 = sampleCpu(env.pids(), env.runner);
    sys0 = sampleSyscalls(cpu0);
    ticks0 = machineTicks();
    t0 = performance.now();
    queues.start();
  };

  const { stats, run, lead } = await runLoad(env.phones, tracker, { key, rate, durationS, stragglerS: config.stragglerS, command, leadInS, onMeasureStart });
  const backlog = queues.stop();
  const [ovh0, pub0, run0, stages0, tgt0] = await before!;

  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = sampleCpu(env.pids(), env.runner);
  const sys1 = sampleSyscalls(cpu1);
  const ticks1 = machineTicks();
  const [ovh1, pub1, run1, stages1, tgt1] = await Promise.all([
    scrapeHistogram(overheadUrl, 'kb_dispatcher_overhead_seconds'),
    scrapeHistogram(gatewayUrl, 'gateway_analyze_publish_seconds'),
    runnerUrl ? scrapeHistogram(runnerUrl, 'kb_runner_run_seconds') : null,
    stages(),
    scrapeHistogram(overheadUrl, 'kb_dispatcher_target_duration_seconds'),
  ]);
  // What is still under way drains before the next scenario; late doubles are counted too.
  await tracker.settle();
  // Backends flush their statistics at most once a second while idle.
  await new Promise((r) => setTimeout(r, 1500));
  const [broker1, db1] = await Promise.all([brokerCounters(), dbTransactions(env.databaseUrl)]);
  const work = perMessage({ cpu0, cpu1, sys0, sys1, answered: stats.received, db0, db1, broker0, broker1, answeredWide: stats.received + (stats.leadIn?.sent ?? 0) });

  const result: ScenarioResult = {
    name,
    rate,
    durationS,
    phones: env.phones.length,
    ...stats,
    doubled: run.doubled(lead),
    answeredLate: run.late,
    dispatcherOverheadP50Ms: r2(histogramQuantileMs(ovh0, ovh1, 0.5)?.ms),
    dispatcherOverheadP99Ms: r2(histogramQuantileMs(ovh0, ovh1, 0.99)?.ms),
    stageP50Ms: {
      claim: r2(histogramQuantileMs(stages0[0]!, stages1[0]!, 0.5)?.ms),
      store: r2(histogramQuantileMs(stages0[1]!, stages1[1]!, 0.5)?.ms),
      reply: r2(histogramQuantileMs(stages0[2]!, stages1[2]!, 0.5)?.ms),
    },
    gatewayPublishP50Ms: r2(histogramQuantileMs(pub0, pub1, 0.5)?.ms),
    targetP50Ms: r2(histogramQuantileMs(tgt0, tgt1, 0.5)?.ms),
    ...(command === COMMAND ? {} : { runnerRunP50Ms: r2(histogramQuantileMs(run0, run1, 0.5)?.ms), runnerRunP99Ms: r2(histogramQuantileMs(run0, run1, 0.99)?.ms) }),
    cpuCores: cpuCores(cpu0, cpu1, seconds),
    machine: machineShare(ticks0, ticks1),
    perMessage: work,
    ...backlog,
  };
  say(
    `  ${result.received}/${result.sent} answered, lost ${result.lost}, doubled ${result.doubled}, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.throughputPerS} replies/s` +
      (stats.leadIn ? ` (lead-in, not counted: ${stats.leadIn.sent} messages, p50 ${stats.leadIn.p50Ms} ms, p99 ${stats.leadIn.p99Ms} ms)` : ''),
  );
  if (result.lost) {
    result.unmatchedReplies = tracker.unmatchedTexts.splice(0);
    if (result.unmatchedReplies.length) say(`  replies matching no message (last ${result.unmatchedReplies.length}): ${result.unmatchedReplies.join(' | ')}`);
  }
  return result;
}

async function sanityChecks(env: BenchEnv, tracker: ReplyTracker, postgresStartedAt: string | null): Promise<Checks> {
  const client = new pg.Client({ connectionString: env.databaseUrl });
  let apiLogRows: number | null = null;
  let sandboxLogRows: number | null = null;
  let sandboxErrorRows: number | null = null;
  try {
    await client.connect();
    const rows = await client.query<{ t: string; n: number; e: number }>(
      `select c.target_type as t, count(*)::int as n, count(l.error_code)::int as e
         from kb_api_logs l join kb_commands c on c.id = l.command_id group by c.target_type`,
    );
    apiLogRows = rows.rows.find((r) => r.t === 'http')?.n ?? 0;
    sandboxLogRows = rows.rows.find((r) => r.t === 'sandbox')?.n ?? 0;
    sandboxErrorRows = rows.rows.find((r) => r.t === 'sandbox')?.e ?? 0;
  } catch (err) {
    say(`could not count kb_api_logs: ${String(err)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const pgNow = await postmasterStart();
  return {
    stubRequests: await env.stub.requests(),
    apiLogRows,
    sandboxLogRows,
    sandboxErrorRows,
    unmatchedReplies: tracker.unmatched,
    postgresRestarted: pgNow === null || postgresStartedAt === null ? null : pgNow !== postgresStartedAt,
  };
}

process.exitCode = await main().catch((err: unknown) => {
  say(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return 1;
});
// Phones, timers and the stub's worker would keep the loop alive.
process.exit(process.exitCode);
