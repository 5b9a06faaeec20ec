import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import pg from 'pg';
import { AMQP_URL } from '../test/support/env.js';
import { helpText, parseBenchConfig, type BenchConfig } from './config.js';
import { ReplyTracker, runLoad, type LoadStats } from './load.js';
import { QueueProbe, cpuCores, histogramQuantileMs, machineShare, machineTicks, sampleCpu, scrapeHistogram } from './probes.js';
import { setupBench, type BenchEnv } from './setup.js';

/**
 * `npm run bench`: phones over TCP -> gateway -> RabbitMQ -> dispatcher ->
 * local HTTP stub -> reply to the phone, with every service a child process
 * on the real broker (confirms) and database (logging on). Runs the chosen
 * scenarios, writes bench/results/<ISO date>-<scenarios>.json and prints a
 * table. See bench/README.md.
 */

/** DESIGN.md section 7, as numbers a result can be compared with. */
const TARGETS = {
  source: '../shared/DESIGN.md section 7 (machine: 2 cores, every service plus RabbitMQ and PostgreSQL on it)',
  httpTarget: { throughputPerS: 2000, dispatcherOverheadP50Ms: 2 },
  warmSandbox: { p50Ms: 5, p99Ms: 20, atRatePerS: 200, throughputPerS: 1000, lost: 0, measured: false },
  ephemeralRun: { pooledP50Ms: 30, emptyPoolP50Ms: 400, measured: false },
  density: { idleTenantContainerMaxMB: 40, measured: false },
  floors: { twoRabbitHopsP50Ms: 0.96, twoRabbitHopsP99Ms: 4, sandboxHopMs: 0.2 },
};

export interface ScenarioResult extends LoadStats {
  name: string;
  /** Offered rate (msg/s). */
  rate: number;
  durationS: number;
  phones: number;
  /** Answered after the loss count (not in `received`; they were counted lost). */
  answeredLate: number;
  /** From the dispatcher's kb_dispatcher_overhead_seconds histogram over this scenario (bucket-interpolated). */
  dispatcherOverheadP50Ms: number | null;
  dispatcherOverheadP99Ms: number | null;
  /** gateway_analyze_publish_seconds: phone packet in -> broker confirm (bucket-interpolated). */
  gatewayPublishP50Ms: number | null;
  /** Cores busy per process group over the scenario (1.0 = one core). `bench` includes the stub's thread. */
  cpuCores: Record<string, number>;
  /** Share of the whole machine (all cores) over the scenario: busy, user, system, softirq, steal, iowait (0..1). */
  machine: Record<string, number> | null;
  /** Most analyze events seen waiting (ready) in the dispatch queue, and replies in the phones' reply queues (polled every 0.5 s). */
  maxDispatchReady: number;
  maxReplyReady: number;
  /** http-throughput: see isSaturated. */
  saturated?: boolean;
}

const say = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const r2 = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 100) / 100);

async function main(): Promise<number> {
  const parsed = parseBenchConfig();
  if (parsed === 'help') {
    process.stdout.write(helpText);
    return 0;
  }
  const config = parsed;
  const startedAt = new Date();
  const machine = await describeMachine();
  say(
    `machine: ${machine.cpus} cpus, node ${machine.node}, RabbitMQ ${machine.rabbitmq ?? '?'}, PostgreSQL ${machine.postgres ?? '?'}, ` +
      `load ${machine.loadavgAtStart.join(' ')}, busy before start ${Math.round((machine.busyBeforeStart ?? 0) * 100)} %`,
  );
  if ((machine.busyBeforeStart ?? 0) > 0.2) {
    say(`note: the machine was ${Math.round(machine.busyBeforeStart! * 100)} % busy before the bench started: numbers will be worse than on a quiet machine`);
  }

  let env: BenchEnv | null = null;
  let queues: QueueProbe | null = null;
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    say('interrupted: cleaning up');
    void Promise.resolve(queues?.close())
      .then(() => env?.cleanup())
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    env = await setupBench(config, say);
    const tracker = new ReplyTracker(env.phones);
    queues = await QueueProbe.open(AMQP_URL, env.queues.dispatch, env.queues.replies);
    await warmUp(env, tracker, config);

    const results: ScenarioResult[] = [];
    for (const name of config.scenarios) {
      if (name === 'http-latency') {
        results.push(await measure(env, tracker, queues, config, name, config.latencyRate, config.latencyDurationS));
      } else {
        for (const rate of config.steps) {
          const r = await measure(env, tracker, queues, config, name, rate, config.stepDurationS);
          r.saturated = isSaturated(r);
          results.push(r);
        }
      }
    }

    const checks = await sanityChecks(env, tracker, machine.postgresStartedAt);
    const summary = summarize(results);
    const out = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { ...machine, loadavgAtEnd: os.loadavg().map((v) => r2(v)) },
      gitCommit: gitCommit(),
      config: { ...config },
      scenarios: results,
      summary,
      checks,
      targets: TARGETS,
    };
    const file = writeResults(out, config, startedAt);
    process.stdout.write(table(results) + '\n' + summaryText(summary, checks) + `\nwritten: ${file}\n`);
    return 0;
  } finally {
    await queues?.close();
    if (env && !interrupted) {
      say('cleaning up: services, broker names, database');
      await env.cleanup();
    }
  }
}

/** JIT, pools and caches warm, and proof the path answers, before anything is measured. */
async function warmUp(env: BenchEnv, tracker: ReplyTracker, config: BenchConfig): Promise<void> {
  const total = config.warmupPerPhone * env.phones.length;
  for (let attempt = 1; ; attempt++) {
    say(`warm-up: ${total} messages`);
    const { stats } = await runLoad(env.phones, tracker, { key: `w${attempt}`, rate: Math.min(200, total), durationS: total / Math.min(200, total), stragglerS: 15 });
    await tracker.settle();
    if (stats.lost === 0) break;
    if (attempt === 3) throw new Error(`warm-up: ${stats.lost} of ${stats.sent} messages never answered; is the path working? (dispatcher log: ${env.platform.logs.get('dispatcher')?.slice(-5).join(' | ')})`);
    say(`warm-up: ${stats.lost} unanswered, again`);
  }
  // Then a few seconds under load, so the first measured scenario does not pay for what grows lazily
  // (JIT of the hot paths, the dispatcher's pool connections, HTTP keep-alive sockets).
  const top = config.scenarios.includes('http-throughput') ? Math.max(...config.steps) : config.latencyRate;
  const rateUnderLoad = Math.min(1000, top);
  const durationS = config.quick ? 2 : 3;
  say(`warm-up: ${rateUnderLoad} msg/s for ${durationS} s`);
  await runLoad(env.phones, tracker, { key: 'wl', rate: rateUnderLoad, durationS, stragglerS: 15 });
  await tracker.settle();
}

let runNo = 0;

async function measure(env: BenchEnv, tracker: ReplyTracker, queues: QueueProbe, config: BenchConfig, name: string, rate: number, durationS: number): Promise<ScenarioResult> {
  const key = `r${++runNo}`;
  say(`${name}: ${rate} msg/s for ${durationS} s over ${env.phones.length} phones`);
  const overheadUrl = env.metricsUrl('dispatcher');
  const gatewayUrl = env.metricsUrl('gateway');
  const [ovh0, pub0] = await Promise.all([
    scrapeHistogram(overheadUrl, 'kb_dispatcher_overhead_seconds'),
    scrapeHistogram(gatewayUrl, 'gateway_analyze_publish_seconds'),
  ]);
  const cpu0 = sampleCpu(env.pids());
  const ticks0 = machineTicks();
  const t0 = performance.now();
  queues.start();

  const { stats, run } = await runLoad(env.phones, tracker, { key, rate, durationS, stragglerS: config.stragglerS });
  const backlog = queues.stop();

  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = sampleCpu(env.pids());
  const ticks1 = machineTicks();
  const [ovh1, pub1] = await Promise.all([
    scrapeHistogram(overheadUrl, 'kb_dispatcher_overhead_seconds'),
    scrapeHistogram(gatewayUrl, 'gateway_analyze_publish_seconds'),
  ]);
  // What is still under way drains before the next scenario; late doubles are counted too.
  await tracker.settle();

  const result: ScenarioResult = {
    name,
    rate,
    durationS,
    phones: env.phones.length,
    ...stats,
    doubled: run.doubled(),
    answeredLate: run.late,
    dispatcherOverheadP50Ms: r2(histogramQuantileMs(ovh0, ovh1, 0.5)?.ms),
    dispatcherOverheadP99Ms: r2(histogramQuantileMs(ovh0, ovh1, 0.99)?.ms),
    gatewayPublishP50Ms: r2(histogramQuantileMs(pub0, pub1, 0.5)?.ms),
    cpuCores: cpuCores(cpu0, cpu1, seconds),
    machine: machineShare(ticks0, ticks1),
    ...backlog,
  };
  say(
    `  ${result.received}/${result.sent} answered, lost ${result.lost}, doubled ${result.doubled}, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.throughputPerS} replies/s`,
  );
  return result;
}

/**
 * A step the path did not sustain: replies/s under 95 % of the offered
 * rate, anything lost, or a queue building up during the step (the p50 of
 * the last quarter's messages more than twice the first quarter's and
 * 50 ms above it).
 */
function isSaturated(r: ScenarioResult): boolean {
  const first = r.p50FirstQuarterMs ?? 0;
  const last = r.p50LastQuarterMs ?? 0;
  return r.throughputPerS < 0.95 * r.rate || r.lost > 0 || (last > 2 * first && last - first > 50);
}

interface Summary {
  latencyAt200?: { rate: number; p50Ms: number | null; p99Ms: number | null; lost: number; referenceWarmSandboxTarget: { p50Ms: number; p99Ms: number } };
  httpThroughput?: {
    maxSustainedPerS: number | null;
    saturatesAtPerS: number | null;
    peakThroughputPerS: number;
    targetPerS: number;
    meetsTarget: boolean;
  };
  dispatcherOverhead?: { p50Ms: number | null; atRatePerS: number; targetP50Ms: number; meetsTarget: boolean | null };
}

function summarize(results: ScenarioResult[]): Summary {
  const s: Summary = {};
  const lat = results.find((r) => r.name === 'http-latency');
  if (lat) {
    s.latencyAt200 = { rate: lat.rate, p50Ms: lat.p50Ms, p99Ms: lat.p99Ms, lost: lat.lost, referenceWarmSandboxTarget: { p50Ms: 5, p99Ms: 20 } };
    s.dispatcherOverhead = {
      p50Ms: lat.dispatcherOverheadP50Ms,
      atRatePerS: lat.rate,
      targetP50Ms: TARGETS.httpTarget.dispatcherOverheadP50Ms,
      meetsTarget: lat.dispatcherOverheadP50Ms === null ? null : lat.dispatcherOverheadP50Ms <= TARGETS.httpTarget.dispatcherOverheadP50Ms,
    };
  }
  const steps = results.filter((r) => r.name === 'http-throughput');
  if (steps.length) {
    const sustained = steps.filter((r) => !r.saturated).map((r) => r.rate);
    const maxSustained = sustained.length ? Math.max(...sustained) : null;
    s.httpThroughput = {
      maxSustainedPerS: maxSustained,
      saturatesAtPerS: steps.find((r) => r.saturated)?.rate ?? null,
      peakThroughputPerS: Math.max(...steps.map((r) => r.throughputPerS)),
      targetPerS: TARGETS.httpTarget.throughputPerS,
      meetsTarget: (maxSustained ?? 0) >= TARGETS.httpTarget.throughputPerS,
    };
    if (!s.dispatcherOverhead) {
      const first = steps[0]!;
      s.dispatcherOverhead = {
        p50Ms: first.dispatcherOverheadP50Ms,
        atRatePerS: first.rate,
        targetP50Ms: TARGETS.httpTarget.dispatcherOverheadP50Ms,
        meetsTarget: first.dispatcherOverheadP50Ms === null ? null : first.dispatcherOverheadP50Ms <= TARGETS.httpTarget.dispatcherOverheadP50Ms,
      };
    }
  }
  return s;
}

interface Checks {
  /** Requests the stub answered, warm-up included. */
  stubRequests: number;
  /** kb_api_logs rows written (one per target call: should equal stubRequests). */
  apiLogRows: number | null;
  /** Replies no run could claim (should be 0). */
  unmatchedReplies: number;
  /** PostgreSQL restarted while the bench ran (another session's chaos test?): the numbers are not comparable. */
  postgresRestarted: boolean | null;
}

async function sanityChecks(env: BenchEnv, tracker: ReplyTracker, postgresStartedAt: string | null): Promise<Checks> {
  const client = new pg.Client({ connectionString: env.databaseUrl });
  let apiLogRows: number | null = null;
  try {
    await client.connect();
    apiLogRows = (await client.query<{ n: number }>('select count(*)::int as n from kb_api_logs')).rows[0]!.n;
  } catch (err) {
    say(`could not count kb_api_logs: ${String(err)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const pgNow = await postmasterStart();
  return {
    stubRequests: await env.stub.requests(),
    apiLogRows,
    unmatchedReplies: tracker.unmatched,
    postgresRestarted: pgNow === null || postgresStartedAt === null ? null : pgNow !== postgresStartedAt,
  };
}

async function describeMachine() {
  const cpus = os.cpus();
  // What else runs: the whole machine's busy share over 2 s, before we start anything.
  const ticks0 = machineTicks();
  await new Promise((r) => setTimeout(r, 2000));
  const busyBeforeStart = machineShare(ticks0, machineTicks())?.busy ?? null;
  let rabbitmq: string | null = null;
  let postgres: string | null = null;
  let postgresStartedAt: string | null = null;
  try {
    const c = await amqp.connect(AMQP_URL);
    rabbitmq = c.connection.serverProperties.version ?? null;
    await c.close();
  } catch {
    /* reported as null */
  }
  const client = new pg.Client({ connectionString: `${process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432'}/postgres` });
  try {
    await client.connect();
    postgres = (await client.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v;
    postgresStartedAt = await postmasterStart();
  } catch {
    /* reported as null */
  } finally {
    await client.end().catch(() => undefined);
  }
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    rabbitmq,
    postgres,
    postgresStartedAt,
    loadavgAtStart: os.loadavg().map((v) => r2(v)!),
    /** Share of all cores busy during the 2 s before the bench started (others' work). */
    busyBeforeStart,
  };
}

/** When PostgreSQL last started: a restart during the run (someone's chaos test) makes its numbers meaningless. */
async function postmasterStart(): Promise<string | null> {
  const client = new pg.Client({ connectionString: `${process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432'}/postgres` });
  try {
    await client.connect();
    return (await client.query<{ t: Date }>('select pg_postmaster_start_time() as t')).rows[0]!.t.toISOString();
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function gitCommit(): string | null {
  try {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

function writeResults(out: object, config: BenchConfig, startedAt: Date): string {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const set = (config.quick ? 'quick-' : '') + config.scenarios.join('+');
  const file = `${dir}${stamp}-${set}.json`;
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  return file;
}

function table(results: ScenarioResult[]): string {
  const cols: [string, (r: ScenarioResult) => string][] = [
    ['scenario', (r) => r.name],
    ['rate', (r) => String(r.rate)],
    ['s', (r) => String(r.durationS)],
    ['sent', (r) => String(r.sent)],
    ['recv', (r) => String(r.received)],
    ['lost', (r) => String(r.lost)],
    ['dbl', (r) => String(r.doubled)],
    ['p50ms', (r) => fmt(r.p50Ms)],
    ['p90ms', (r) => fmt(r.p90Ms)],
    ['p99ms', (r) => fmt(r.p99Ms)],
    ['maxms', (r) => fmt(r.maxMs)],
    ['reply/s', (r) => String(r.throughputPerS)],
    ['disp.ovh p50', (r) => fmt(r.dispatcherOverheadP50Ms)],
    ['cores gw/disp/rmq/pg/bench', (r) => ['gateway', 'dispatcher', 'rabbitmq', 'postgres', 'bench'].map((k) => r.cpuCores[k]?.toFixed(2) ?? '-').join('/')],
    ['p50 1st/last ¼', (r) => `${fmt(r.p50FirstQuarterMs)}/${fmt(r.p50LastQuarterMs)}`],
    ['queued disp/reply', (r) => `${r.maxDispatchReady}/${r.maxReplyReady}`],
    ['sat', (r) => (r.saturated === undefined ? '' : r.saturated ? 'yes' : 'no')],
  ];
  const rows = [cols.map(([h]) => h), ...results.map((r) => cols.map(([, f]) => f(r)))];
  const widths = cols.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

const fmt = (v: number | null) => (v === null ? '-' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));

function summaryText(s: Summary, checks: Checks): string {
  const lines: string[] = [];
  if (s.latencyAt200) lines.push(`phone in -> reply out at ${s.latencyAt200.rate} msg/s: p50 ${s.latencyAt200.p50Ms} ms, p99 ${s.latencyAt200.p99Ms} ms (warm-sandbox target for reference: 5 / 20 ms)`);
  if (s.httpThroughput) {
    const t = s.httpThroughput;
    lines.push(
      `HTTP-target throughput: sustained up to ${t.maxSustainedPerS ?? 'none'} msg/s, saturates at ${t.saturatesAtPerS ?? 'no step'}, peak ${t.peakThroughputPerS} replies/s (target >= ${t.targetPerS}: ${t.meetsTarget ? 'met' : 'NOT met'})`,
    );
  }
  if (s.dispatcherOverhead) {
    const d = s.dispatcherOverhead;
    lines.push(`dispatcher overhead p50 at ${d.atRatePerS} msg/s: ${d.p50Ms ?? '?'} ms (target <= ${d.targetP50Ms}: ${d.meetsTarget === null ? '?' : d.meetsTarget ? 'met' : 'NOT met'})`);
  }
  lines.push(`checks: stub requests ${checks.stubRequests}, kb_api_logs rows ${checks.apiLogRows ?? '?'}, unmatched replies ${checks.unmatchedReplies}`);
  if (checks.postgresRestarted) lines.push('WARNING: PostgreSQL restarted during the run (another process?): these numbers are not comparable');
  return lines.join('\n');
}

process.exitCode = await main().catch((err: unknown) => {
  say(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return 1;
});
// Phones, timers and the stub's worker would keep the loop alive.
process.exit(process.exitCode);
