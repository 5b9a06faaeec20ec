/**
 * What `npm run bench` runs: scenarios, rates, durations, phones. Each
 * setting comes from a CLI flag (`npm run bench -- --rate 100`), else an
 * environment variable, else the default (the full run of DESIGN.md
 * section 7's HTTP-target numbers).
 */

/** In the order they run (whatever order they are named in): the runner restarts for `sandbox-cold`, so it comes last of those needing one. */
export const SCENARIO_NAMES = [
  'http-latency',
  'http-throughput',
  'sandbox-latency',
  'noisy-neighbour',
  'schedule-lag',
  'sandbox-throughput',
  'sandbox-idle-memory',
  'dedicated-density',
  'sandbox-store',
  'sandbox-db',
  'sandbox-pooled',
  'sandbox-cold',
  'sandbox-transport',
  'floors',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Names for several scenarios at once (`--scenarios sandbox`). */
const GROUPS: Record<string, ScenarioName[]> = {
  http: ['http-latency', 'http-throughput'],
  sandbox: SCENARIO_NAMES.filter((n) => n.startsWith('sandbox-')),
  all: [...SCENARIO_NAMES],
};
/** `npm run bench` without --scenarios. The sandbox ones are asked for by name (`--scenarios sandbox`, about 3 minutes more). */
const DEFAULT_SCENARIOS = GROUPS.http!;

/** Scenarios whose messages go through phones, gateway and dispatcher (the others talk to the runner or Docker directly). */
export const PHONE_SCENARIOS: readonly ScenarioName[] = ['http-latency', 'http-throughput', 'sandbox-latency', 'noisy-neighbour', 'schedule-lag', 'sandbox-throughput', 'sandbox-idle-memory', 'dedicated-density'];

/** Scenarios that need the runner child (every sandbox-* but the Docker-only transport one, and noisy-neighbour). */
export const RUNNER_SCENARIOS: readonly ScenarioName[] = SCENARIO_NAMES.filter((n) => (n.startsWith('sandbox-') && n !== 'sandbox-transport') || n === 'noisy-neighbour' || n === 'dedicated-density');

export interface BenchConfig {
  scenarios: ScenarioName[];
  /** Phones connected over TCP; messages are spread over them round-robin. */
  phones: number;
  /** http-latency: offered rate (msg/s) and duration (s). */
  latencyRate: number;
  latencyDurationS: number;
  /** http-throughput: offered rate of each step (msg/s) and duration of each step (s). */
  steps: number[];
  stepDurationS: number;
  /** sandbox-latency: offered rate (msg/s); its duration is latencyDurationS. */
  sandboxRate: number;
  /** sandbox-throughput: offered rate of each step (msg/s), each stepDurationS long. */
  sandboxSteps: number[];
  /** Whether --sandbox-rate / --sandbox-steps were given (else an ephemeral-only runner gets rates it can bear). */
  sandboxRatesGiven: boolean;
  /** sandbox-pooled and sandbox-cold: sequential runner RPC calls. */
  pooledCalls: number;
  coldCalls: number;
  /** sandbox-transport: sequential requests per transport and kind (ping, call). */
  transportCalls: number;
  /** sandbox-store: store.set and store.get calls timed in tenant code, each. */
  storeCalls: number;
  /** sandbox-idle-memory: how long the container sits idle before it is measured (s). */
  idleS: number;
  /** dedicated-density: tenants brought up on the one runner, their first calls in flight at once, warm calls of each kind. */
  tenants: number;
  densityConcurrency: number;
  densityCalls: number;
  /** dedicated-density: the phone path's rate (msg/s) on the bench tenant, before the bring-up and while all N exist. */
  densityRate: number;
  /** After the last send, how long to wait for replies still under way before counting what is lost. */
  stragglerS: number;
  /** Latency scenarios: seconds sent at their rate before the measured part, counted in no figure (steady state). */
  leadInS: number;
  /** Messages per phone sent (and answered) before measuring: JIT, caches, pools. */
  warmupPerPhone: number;
  /** Services to run with `node --cpu-prof` (profiles land in bench/results/profiles/). */
  cpuProf: string[];
  /** LOG_LEVEL of the services (logging stays on, as DESIGN.md section 7 asks). */
  logLevel: string;
  /** Quick run (smaller rates and durations), for trying the bench itself. */
  quick: boolean;
  /** noisy-neighbour: tenant A's rate (msg/s), each phase's length (quiet, then flood; s), tenant B's room calls/s and test runs/s. */
  nnRate: number;
  nnPhaseS: number;
  nnFloodCallsPerS: number;
  nnFloodRunsPerS: number;
  /** schedule-lag: fires measured, the scheduler's virtual clock speed, its tick (ms; production: 1000). */
  scheduleFires: number;
  scheduleSpeed: number;
  scheduleTickMs: number;
  /** Before/after: the git ref whose services run as the baseline side, and how many rounds of (baseline, working tree). */
  baseline: string | null;
  rounds: number;
  /** The tree whose services, migrations and test/support/platform.ts run (a baseline worktree); null: this checkout. */
  root: string | null;
  /** Where to write the result (a side of a before/after run); null: bench/results/<stamp>-<scenarios>.json. */
  out: string | null;
}

const HELP = `npm run bench [-- options]

  --scenarios a,b                            BENCH_SCENARIOS  (default: http-latency,http-throughput)
        ${SCENARIO_NAMES.join(', ')}
        or a group: http, sandbox (every sandbox-*), all
  --phones N                                 BENCH_PHONES     (default 20)
  --rate R          http-latency rate         BENCH_RATE       (default 200 msg/s)
  --duration S      duration of http-latency and of each throughput step
                                             BENCH_DURATION_S (default 20 s latency, 10 s per step)
  --steps a,b,c     http-throughput rates     BENCH_STEPS      (default 500,1000,1500,2000,2500)
  --sandbox-rate R  sandbox-latency rate      BENCH_SANDBOX_RATE  (default 200 msg/s)
  --sandbox-steps a,b  sandbox-throughput     BENCH_SANDBOX_STEPS (default 500,1000,1500)
  --calls N         sandbox-pooled / -cold calls  BENCH_CALLS  (default 100 pooled, 30 cold)
  --transport-calls N  sandbox-transport      BENCH_TRANSPORT_CALLS (default 2000 per transport and kind)
  --store-calls N   sandbox-store: store.set and store.get calls each  BENCH_STORE_CALLS (default 2000;
                    also sandbox-db's db.execute and db.query calls)
  --idle S          sandbox-idle-memory idle time  BENCH_IDLE_S (default 5 s)

  dedicated-density (N dedicated tenants on one runner, brought up over the runner RPC):
  --tenants N       tenants                    BENCH_TENANTS    (default 1000)
  --density-concurrency C  first calls in flight at once  BENCH_DENSITY_CONCURRENCY (default 16)
  --density-calls K warm calls spread over the N, and K to one tenant  BENCH_DENSITY_CALLS (default 2000)
  --density-rate R  the phone path's rate on the bench tenant, before and while all N exist
                                              BENCH_DENSITY_RATE (default 20 msg/s, for --duration)
  --straggler S     wait for late replies     BENCH_STRAGGLER_S (default 10 s)
  --lead-in S       latency scenarios: send S s at their rate before measuring, not counted
                                              BENCH_LEAD_IN_S (default 2 s; 0: measure from the first message)
  --warmup N        warm-up messages/phone    BENCH_WARMUP     (default 10)
  --cpu-prof a,b    profile services          BENCH_CPU_PROF   (e.g. dispatcher,gateway)
  --log-level L     services' LOG_LEVEL       BENCH_LOG_LEVEL  (default warn)
  --quick           100 msg/s for 5 s, steps 500,1000 for 5 s, 5 phones; 20 pooled, 10 cold,
                    500 transport calls, 400 store calls; noisy-neighbour phases of 8 s   BENCH_QUICK=1

  noisy-neighbour (tenant A premium, warm sandbox command; tenant B free, flooding):
  --nn-rate R       tenant A's rate            BENCH_NN_RATE    (default 50 msg/s)
  --nn-phase S      quiet phase, then flood phase, each S s
                                              BENCH_NN_PHASE_S (default 20 s)
  --nn-calls R      tenant B's room calls/s of a time.sleep(1) command
                                              BENCH_NN_CALLS   (default 20)
  --nn-runs R       tenant B's test runs/s (POST /runs of time.sleep(4))
                                              BENCH_NN_RUNS    (default 4)

  schedule-lag (a schedule of every minute on the scheduler's virtual clock; the fire -> scheduleMessage at a phone):
  --schedule-fires N  fires measured                   BENCH_SCHEDULE_FIRES  (default 60; --quick: 20)
  --schedule-speed X  virtual clock speed              BENCH_SCHEDULE_SPEED  (default 37: a minute every 1.62 s)
  --schedule-tick MS  the scheduler's SCHEDULER_TICK_MS BENCH_SCHEDULE_TICK_MS (default 1000, as in production)

  before/after in one invocation:
  --baseline REF    run the scenarios alternately on REF's services (a git worktree under /tmp)
                    and on this working tree's                BENCH_BASELINE
  --rounds N        rounds of (baseline, working tree)        BENCH_ROUNDS  (default 2)
  --root DIR        run the services of the tree DIR (used by --baseline for its side)
  --out FILE        write the result JSON there (used by --baseline for each side)
`;

type Env = Record<string, string | undefined>;

function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"\n\n${HELP}`);
    const eq = a.indexOf('=');
    if (eq !== -1) out.set(a.slice(2, eq), a.slice(eq + 1));
    else if (a === '--quick' || a === '--help') out.set(a.slice(2), '1');
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value\n\n${HELP}`);
      out.set(a.slice(2), v);
      i++;
    }
  }
  return out;
}

function num(raw: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number in [${min}, ${max}], got "${raw}"`);
  return n;
}

const csv = (raw: string | undefined): string[] | undefined =>
  raw === undefined || raw === ''
    ? undefined
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

export function parseBenchConfig(argv: string[] = process.argv.slice(2), env: Env = process.env): BenchConfig | 'help' {
  const args = parseArgs(argv);
  if (args.has('help')) return 'help';
  const get = (flag: string, envName: string) => args.get(flag) ?? env[envName];
  const quick = get('quick', 'BENCH_QUICK') === '1' || get('quick', 'BENCH_QUICK') === 'true';

  const named = (csv(get('scenarios', 'BENCH_SCENARIOS')) ?? DEFAULT_SCENARIOS).flatMap((s) => {
    if (GROUPS[s]) return GROUPS[s];
    if (!(SCENARIO_NAMES as readonly string[]).includes(s)) throw new Error(`unknown scenario "${s}" (known: ${SCENARIO_NAMES.join(', ')}; groups: ${Object.keys(GROUPS).join(', ')})`);
    return [s as ScenarioName];
  });
  const scenarios = SCENARIO_NAMES.filter((n) => named.includes(n));
  const calls = get('calls', 'BENCH_CALLS');
  const sandboxRate = get('sandbox-rate', 'BENCH_SANDBOX_RATE');
  const sandboxSteps = csv(get('sandbox-steps', 'BENCH_SANDBOX_STEPS'));
  const duration = get('duration', 'BENCH_DURATION_S');
  const steps = (csv(get('steps', 'BENCH_STEPS')) ?? (quick ? ['500', '1000'] : ['500', '1000', '1500', '2000', '2500'])).map((s) =>
    num(s, 'a throughput step', 0, 1, 100_000),
  );
  return {
    scenarios,
    phones: num(get('phones', 'BENCH_PHONES'), 'BENCH_PHONES', quick ? 5 : 20, 1, 1000),
    latencyRate: num(get('rate', 'BENCH_RATE'), 'BENCH_RATE', quick ? 100 : 200, 1, 100_000),
    latencyDurationS: num(duration, 'BENCH_DURATION_S', quick ? 5 : 20, 1, 3600),
    steps,
    stepDurationS: num(duration, 'BENCH_DURATION_S', quick ? 5 : 10, 1, 3600),
    sandboxRate: num(sandboxRate, 'BENCH_SANDBOX_RATE', quick ? 100 : 200, 1, 100_000),
    sandboxSteps: (sandboxSteps ?? (quick ? ['500', '1000'] : ['500', '1000', '1500'])).map((s) => num(s, 'a sandbox throughput step', 0, 1, 100_000)),
    sandboxRatesGiven: sandboxRate !== undefined || sandboxSteps !== undefined,
    pooledCalls: num(calls, 'BENCH_CALLS', quick ? 20 : 100, 1, 100_000),
    coldCalls: num(calls, 'BENCH_CALLS', quick ? 10 : 30, 1, 100_000),
    transportCalls: num(get('transport-calls', 'BENCH_TRANSPORT_CALLS'), 'BENCH_TRANSPORT_CALLS', quick ? 500 : 2000, 1, 1_000_000),
    storeCalls: num(get('store-calls', 'BENCH_STORE_CALLS'), 'BENCH_STORE_CALLS', quick ? 400 : 2000, 1, 1_000_000),
    idleS: num(get('idle', 'BENCH_IDLE_S'), 'BENCH_IDLE_S', 5, 0, 3600),
    tenants: num(get('tenants', 'BENCH_TENANTS'), 'BENCH_TENANTS', 1000, 1, 10_000),
    densityConcurrency: num(get('density-concurrency', 'BENCH_DENSITY_CONCURRENCY'), 'BENCH_DENSITY_CONCURRENCY', 16, 1, 1000),
    densityRate: num(get('density-rate', 'BENCH_DENSITY_RATE'), 'BENCH_DENSITY_RATE', 20, 1, 10_000),
    densityCalls: num(get('density-calls', 'BENCH_DENSITY_CALLS'), 'BENCH_DENSITY_CALLS', quick ? 300 : 2000, 1, 100_000),
    stragglerS: num(get('straggler', 'BENCH_STRAGGLER_S'), 'BENCH_STRAGGLER_S', 10, 0, 600),
    leadInS: num(get('lead-in', 'BENCH_LEAD_IN_S'), 'BENCH_LEAD_IN_S', quick ? 1 : 2, 0, 600),
    warmupPerPhone: num(get('warmup', 'BENCH_WARMUP'), 'BENCH_WARMUP', quick ? 3 : 10, 1, 10_000),
    cpuProf: csv(get('cpu-prof', 'BENCH_CPU_PROF')) ?? [],
    logLevel: get('log-level', 'BENCH_LOG_LEVEL') ?? 'warn',
    quick,
    nnRate: num(get('nn-rate', 'BENCH_NN_RATE'), 'BENCH_NN_RATE', 50, 1, 10_000),
    nnPhaseS: num(get('nn-phase', 'BENCH_NN_PHASE_S'), 'BENCH_NN_PHASE_S', quick ? 8 : 20, 1, 3600),
    nnFloodCallsPerS: num(get('nn-calls', 'BENCH_NN_CALLS'), 'BENCH_NN_CALLS', 20, 0, 10_000),
    nnFloodRunsPerS: num(get('nn-runs', 'BENCH_NN_RUNS'), 'BENCH_NN_RUNS', 4, 0, 1000),
    scheduleFires: num(get('schedule-fires', 'BENCH_SCHEDULE_FIRES'), 'BENCH_SCHEDULE_FIRES', quick ? 20 : 60, 1, 10_000),
    scheduleSpeed: num(get('schedule-speed', 'BENCH_SCHEDULE_SPEED'), 'BENCH_SCHEDULE_SPEED', 37, 1, 600),
    scheduleTickMs: num(get('schedule-tick', 'BENCH_SCHEDULE_TICK_MS'), 'BENCH_SCHEDULE_TICK_MS', 1000, 10, 60_000),
    baseline: get('baseline', 'BENCH_BASELINE') || null,
    rounds: num(get('rounds', 'BENCH_ROUNDS'), 'BENCH_ROUNDS', 2, 1, 100),
    root: args.get('root') ?? null,
    out: args.get('out') ?? null,
  };
}

export const helpText = HELP;
