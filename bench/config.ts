/**
 * What `npm run bench` runs: scenarios, rates, durations, phones. Each
 * setting comes from a CLI flag (`npm run bench -- --rate 100`), else an
 * environment variable, else the default (the full run of DESIGN.md
 * section 7's HTTP-target numbers).
 */

export const SCENARIO_NAMES = ['http-latency', 'http-throughput'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

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
  /** After the last send, how long to wait for replies still under way before counting what is lost. */
  stragglerS: number;
  /** Messages per phone sent (and answered) before measuring: JIT, caches, pools. */
  warmupPerPhone: number;
  /** Services to run with `node --cpu-prof` (profiles land in bench/results/profiles/). */
  cpuProf: string[];
  /** LOG_LEVEL of the services (logging stays on, as DESIGN.md section 7 asks). */
  logLevel: string;
  /** Quick run (smaller rates and durations), for trying the bench itself. */
  quick: boolean;
}

const HELP = `npm run bench [-- options]

  --scenarios http-latency,http-throughput   BENCH_SCENARIOS  (default: both)
  --phones N                                 BENCH_PHONES     (default 20)
  --rate R          http-latency rate         BENCH_RATE       (default 200 msg/s)
  --duration S      duration of http-latency and of each throughput step
                                             BENCH_DURATION_S (default 20 s latency, 10 s per step)
  --steps a,b,c     http-throughput rates     BENCH_STEPS      (default 500,1000,1500,2000,2500)
  --straggler S     wait for late replies     BENCH_STRAGGLER_S (default 10 s)
  --warmup N        warm-up messages/phone    BENCH_WARMUP     (default 10)
  --cpu-prof a,b    profile services          BENCH_CPU_PROF   (e.g. dispatcher,gateway)
  --log-level L     services' LOG_LEVEL       BENCH_LOG_LEVEL  (default warn)
  --quick           100 msg/s for 5 s, steps 500,1000 for 5 s, 5 phones   BENCH_QUICK=1
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

  const scenarios = (csv(get('scenarios', 'BENCH_SCENARIOS')) ?? [...SCENARIO_NAMES]).map((s) => {
    if (!(SCENARIO_NAMES as readonly string[]).includes(s)) throw new Error(`unknown scenario "${s}" (known: ${SCENARIO_NAMES.join(', ')})`);
    return s as ScenarioName;
  });
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
    stragglerS: num(get('straggler', 'BENCH_STRAGGLER_S'), 'BENCH_STRAGGLER_S', 10, 0, 600),
    warmupPerPhone: num(get('warmup', 'BENCH_WARMUP'), 'BENCH_WARMUP', quick ? 3 : 10, 1, 10_000),
    cpuProf: csv(get('cpu-prof', 'BENCH_CPU_PROF')) ?? [],
    logLevel: get('log-level', 'BENCH_LOG_LEVEL') ?? 'warn',
    quick,
  };
}

export const helpText = HELP;
