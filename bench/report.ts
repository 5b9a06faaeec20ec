import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SCENARIO_NAMES, type BenchConfig } from './config.js';
import type { LoadStats } from './load.js';
import type { PerMessage } from './work-counts.js';

/**
 * What a bench run reports: the targets of DESIGN.md section 7, the
 * result of one phone scenario, the HTTP summary against the targets, the
 * results file and the printed table (the sandbox rows: sandbox-report.ts).
 */

/** DESIGN.md section 7, as numbers a result can be compared with. */
export const TARGETS = {
  source: '../shared/DESIGN.md section 7 (machine: 2 cores, every service plus RabbitMQ and PostgreSQL on it)',
  httpTarget: { throughputPerS: 2000, dispatcherOverheadP50Ms: 2 },
  warmSandbox: { p50Ms: 5, p99Ms: 20, atRatePerS: 200, throughputPerS: 1000, lost: 0, scenarios: 'sandbox-latency, sandbox-throughput' },
  ephemeralRun: { pooledP50Ms: 30, emptyPoolP50Ms: 400, scenarios: 'sandbox-pooled, sandbox-cold (runner RPC round trip)' },
  density: { idleTenantContainerMaxMB: 40, scenarios: 'sandbox-idle-memory (PSS of the container processes + shim)' },
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
  /** kb_dispatcher_stage_seconds p50 per step (claim = outbox row + quota, store = reply + log row, reply = publish + confirm). */
  stageP50Ms: Record<'claim' | 'store' | 'reply', number | null>;
  /** kb_dispatcher_target_duration_seconds p50: the target call as the dispatcher waits for it (HTTP stub, or the runner RPC with the run). */
  targetP50Ms: number | null;
  /** gateway_analyze_publish_seconds: phone packet in -> broker confirm (bucket-interpolated). */
  gatewayPublishP50Ms: number | null;
  /** Sandbox scenarios: the runner's kb_runner_run_seconds over the scenario (bucket-interpolated; buckets from 1 ms). */
  runnerRunP50Ms?: number | null;
  runnerRunP99Ms?: number | null;
  /** Cores busy per process group over the scenario (1.0 = one core). `bench` includes the stub's thread. */
  cpuCores: Record<string, number>;
  /** Share of the whole machine (all cores) over the scenario: busy, user, system, softirq, steal, iowait (0..1). */
  machine: Record<string, number> | null;
  /** What one answered message cost: CPU ms of every process on the path, syscalls, database transactions, RabbitMQ messages (work-counts.ts). */
  perMessage?: PerMessage;
  /** Most analyze events seen waiting (ready) in the dispatch queue, and replies in the phones' reply queues (polled every 0.5 s). */
  maxDispatchReady: number;
  maxReplyReady: number;
  /** When messages were lost: the last replies no message claimed (error texts the room got instead). */
  unmatchedReplies?: string[];
  /** Throughput steps: see isSaturated. */
  saturated?: boolean;
  /** Sandbox scenarios: how the premium tenant's calls ran (dedicated container or ephemeral runs), and why rates differ. */
  sandboxMode?: 'dedicated' | 'ephemeral';
  note?: string | null;
}

/**
 * A step the path did not sustain: replies/s under 95 % of the offered
 * rate, anything lost, or a queue building up during the step (the p50 of
 * the last quarter's messages more than twice the first quarter's and
 * 50 ms above it).
 */
export function isSaturated(r: ScenarioResult): boolean {
  const first = r.p50FirstQuarterMs ?? 0;
  const last = r.p50LastQuarterMs ?? 0;
  return r.throughputPerS < 0.95 * r.rate || r.lost > 0 || (last > 2 * first && last - first > 50);
}

export interface Summary {
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

export function summarize(results: ScenarioResult[]): Summary {
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

export interface Checks {
  /** Requests the stub answered, warm-up included. */
  stubRequests: number;
  /** kb_api_logs rows of the HTTP command (one per target call: should equal stubRequests). */
  apiLogRows: number | null;
  /** kb_api_logs rows of sandbox commands, and how many of them carry an error code (timeouts, crashes: should be 0). */
  sandboxLogRows: number | null;
  sandboxErrorRows: number | null;
  /** Replies no run could claim (should be 0). */
  unmatchedReplies: number;
  /** PostgreSQL restarted while the bench ran (another session's chaos test?): the numbers are not comparable. */
  postgresRestarted: boolean | null;
}

/** `kind` marks another shape in the name (`compare-` for a before/after run). */
export function writeResults(out: object, config: BenchConfig, startedAt: Date, kind = ''): string {
  if (config.out) {
    writeFileSync(config.out, JSON.stringify(out, null, 2) + '\n');
    return config.out;
  }
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const sandboxAll = SCENARIO_NAMES.filter((n) => n.startsWith('sandbox-'));
  const named = sandboxAll.every((n) => config.scenarios.includes(n)) ? [...config.scenarios.filter((n) => !n.startsWith('sandbox-')), 'sandbox'] : config.scenarios;
  const set = kind + (config.quick ? 'quick-' : '') + named.join('+');
  const file = `${dir}${stamp}-${set}.json`;
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  return file;
}

export function table(results: ScenarioResult[]): string {
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
    ['claim/store/reply/gw.pub p50', (r) => [r.stageP50Ms?.claim, r.stageP50Ms?.store, r.stageP50Ms?.reply, r.gatewayPublishP50Ms].map((v) => fmt(v ?? null)).join('/')],
    ['target/run p50', (r) => [r.targetP50Ms, r.runnerRunP50Ms].map((v) => fmt(v ?? null)).join('/')],
    ['cores gw/disp/rmq/pg/bench', (r) => ['gateway', 'dispatcher', 'rabbitmq', 'postgres', 'bench'].map((k) => r.cpuCores[k]?.toFixed(2) ?? '-').join('/')],
    ['runner/docker/sbx', (r) => (r.cpuCores.runner === undefined ? '' : ['runner', 'docker', 'sandboxes'].map((k) => r.cpuCores[k]?.toFixed(2) ?? '-').join('/'))],
    ['cpu ms/msg', (r) => fmt(r.perMessage?.cpuMs ?? null)],
    ['syscalls', (r) => fmt(r.perMessage?.syscalls ?? null)],
    ['db tx', (r) => fmt(r.perMessage?.dbTransactions ?? null)],
    ['rmq pub/conf/dlv/ack/drop', (r) => { const b = r.perMessage?.broker; return b ? [b.published, b.confirms, b.delivered, b.acked, b.unroutable].map((v) => fmt(v)).join('/') : '-'; }],
    ['p50 1st/last ¼', (r) => `${fmt(r.p50FirstQuarterMs)}/${fmt(r.p50LastQuarterMs)}`],
    ['queued disp/reply', (r) => `${r.maxDispatchReady}/${r.maxReplyReady}`],
    ['sat', (r) => (r.saturated === undefined ? '' : r.saturated ? 'yes' : 'no')],
  ];
  const rows = [cols.map(([h]) => h), ...results.map((r) => cols.map(([, f]) => f(r)))];
  const widths = cols.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

const fmt = (v: number | null) => (v === null ? '-' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));

export function summaryText(s: Summary, checks: Checks | null): string {
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
  if (!checks) return lines.join('\n');
  lines.push(
    `checks: stub requests ${checks.stubRequests}, kb_api_logs rows ${checks.apiLogRows ?? '?'} (HTTP), ${checks.sandboxLogRows ?? '?'} (sandbox, ${checks.sandboxErrorRows ?? '?'} with an error), unmatched replies ${checks.unmatchedReplies}`,
  );
  if (checks.postgresRestarted) lines.push('WARNING: PostgreSQL restarted during the run (another process?): these numbers are not comparable');
  return lines.join('\n');
}

