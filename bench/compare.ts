import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNNER_SCENARIOS, type BenchConfig } from './config.js';
import { gitCommit } from './machine.js';
import { writeResults } from './report.js';
import { baselineTree, resolveCommit, sandboxImageVersion } from './worktree.js';

/**
 * `--baseline <ref>`: before/after in one invocation, since two runs an
 * hour apart on these machines differ more than most changes do. Runs the
 * chosen scenarios in rounds, each round the baseline side then the working
 * tree's, each side a child bench (this checkout's bench code, so both are
 * measured the same way) whose services, migrations and
 * test/support/platform.ts come from its own tree (`--root`), on its own
 * database and broker prefix. Writes one JSON with every round's figures of
 * both sides and their medians, and prints the before/after table.
 */

type Side = 'baseline' | 'current';

/** The figures compared, per row (a scenario, a step, a phase). */
export interface Figures {
  p50Ms: number | null;
  p99Ms: number | null;
  throughputPerS: number | null;
  lost: number | null;
  /** Per answered message (work-counts.ts): CPU ms of every process on the path, RabbitMQ messages published, database transactions. */
  cpuMs: number | null;
  published: number | null;
  dbTransactions: number | null;
}

const FIGURES: (keyof Figures)[] = ['p50Ms', 'p99Ms', 'throughputPerS', 'lost', 'cpuMs', 'published', 'dbTransactions'];

interface RoundSide {
  round: number;
  side: Side;
  ok: boolean;
  error?: string;
  /** Row name -> figures. */
  rows: Record<string, Figures>;
  /** The side's whole result (machine, checks, every figure), as the child wrote it. */
  result?: Record<string, unknown>;
}

const repo = fileURLToPath(new URL('..', import.meta.url));
/** Flags of this process that the sides must not get (they would start comparisons of their own, or write elsewhere). */
const OWN_FLAGS = new Set(['baseline', 'rounds', 'root', 'out']);
/** Set by SIGINT/SIGTERM: the running side stops and cleans up, no other starts. */
let stopping = false;

/** argv without the comparison's own flags (both `--x v` and `--x=v`). */
export function sideArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') ? a.slice(2).split('=')[0]! : '';
    if (!OWN_FLAGS.has(name)) out.push(a);
    else if (!a.includes('=')) i++;
  }
  return out;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const figures = (x: Record<string, unknown>): Figures => {
  const w = (x.perMessage ?? {}) as { cpuMs?: unknown; dbTransactions?: unknown; broker?: { published?: unknown } | null };
  return {
    p50Ms: num(x.p50Ms),
    p99Ms: num(x.p99Ms),
    throughputPerS: num(x.throughputPerS),
    lost: num(x.lost),
    cpuMs: num(w.cpuMs),
    published: num(w.broker?.published),
    dbTransactions: num(w.dbTransactions),
  };
};

/** The comparable rows of one bench result: every scenario row with a p50, noisy-neighbour's two phases. */
export function rowsOf(result: { scenarios?: Record<string, unknown>[] }): Record<string, Figures> {
  const rows: Record<string, Figures> = {};
  for (const s of result.scenarios ?? []) {
    const name = String(s.name);
    if (name === 'noisy-neighbour') {
      for (const phase of ['quiet', 'flood'] as const) rows[`noisy-neighbour A ${phase} @${String(s.rate)}`] = figures((s[phase] ?? {}) as Record<string, unknown>);
      continue;
    }
    if (!('p50Ms' in s)) continue;
    const detail = s.transport ?? s.what ?? (s.rate === undefined ? null : `@${String(s.rate)}`);
    rows[detail === null ? name : `${name} ${String(detail)}`] = figures(s);
  }
  return rows;
}

function median(xs: (number | null | undefined)[]): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return Math.round((v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2) * 100) / 100;
}

export function medians(rounds: RoundSide[]): Record<string, Record<Side, Figures>> {
  const keys = [...new Set(rounds.flatMap((r) => Object.keys(r.rows)))];
  const out: Record<string, Record<Side, Figures>> = {};
  for (const k of keys) {
    const of = (side: Side, f: keyof Figures) => median(rounds.filter((r) => r.side === side).map((r) => r.rows[k]?.[f]));
    const side = (s: Side) => Object.fromEntries(FIGURES.map((f) => [f, of(s, f)])) as unknown as Figures;
    out[k] = { baseline: side('baseline'), current: side('current') };
  }
  return out;
}

/** One side of one round: a child bench, its progress on our stderr (prefixed), its result read back. */
async function runSide(round: number, side: Side, root: string | null, args: string[], say: (msg: string) => void, image?: string): Promise<RoundSide> {
  const out = `/tmp/domaeka-bench-side-${process.pid}-${round}-${side}.json`;
  rmSync(out, { force: true });
  const env = { ...process.env };
  delete env.BENCH_BASELINE;
  delete env.BENCH_ROUNDS;
  if (image) env.SANDBOX_IMAGE = image;
  const argv = ['--import', 'tsx', 'bench/run.ts', ...args, ...(root ? ['--root', root] : []), '--out', out];
  say(`round ${round}, ${side}: ${root ? `services of ${root}` : 'services of the working tree'}`);
  const child = spawn(process.execPath, argv, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${side} r${round}] `;
  const relay = (b: Buffer) => process.stderr.write(b.toString('utf8').split('\n').filter(Boolean).map((l) => prefix + l + '\n').join(''));
  child.stdout.on('data', relay);
  child.stderr.on('data', relay);
  // A Ctrl-C reaches the child too (same process group); a SIGTERM to us is passed on. Either way the child cleans up
  // its own database and broker names, and no further side starts.
  const pass = (sig: NodeJS.Signals) => {
    stopping = true;
    child.kill(sig);
  };
  process.on('SIGINT', pass);
  process.on('SIGTERM', pass);
  const code = await new Promise<number>((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1))));
  process.off('SIGINT', pass);
  process.off('SIGTERM', pass);
  if (code !== 0 || !existsSync(out)) return { round, side, ok: false, error: `the bench exited with ${code}`, rows: {} };
  const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown> & { scenarios?: Record<string, unknown>[] };
  rmSync(out, { force: true });
  return { round, side, ok: true, rows: rowsOf(result), result };
}

export async function runComparison(config: BenchConfig, argv: string[], say: (msg: string) => void): Promise<number> {
  const startedAt = new Date();
  const ref = config.baseline!;
  const commit = resolveCommit(repo, ref);
  const tree = baselineTree(repo, commit, say);
  // Each side's runner on its own image, pinned by version tag (a runner never rebuilds a pinned tag):
  // both built here, the working tree's last so `:latest` stays what this checkout wants.
  const images: Partial<Record<Side, string>> = {};
  if (config.scenarios.some((s) => RUNNER_SCENARIOS.includes(s))) {
    for (const [side, root] of [['baseline', tree], ['current', repo]] as const) {
      const version = sandboxImageVersion(root);
      if (!version) throw new Error(`--baseline: ${root} has no sandbox-image/build.sh that prints its version`);
      say(`sandbox image of the ${side} side: version ${version}`);
      execFileSync('bash', [join(root, 'sandbox-image/build.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
      // Under a name of its own: a build.sh removes the other versions' domaeka-sandbox tags.
      const pinned = side === 'current' ? `domaeka-sandbox:${version}` : `domaeka-bench-baseline:${version}`;
      if (side === 'baseline') execFileSync('docker', ['tag', `domaeka-sandbox:${version}`, pinned]);
      images[side] = pinned;
    }
  }
  const args = sideArgs(argv);
  const rounds: RoundSide[] = [];
  for (let round = 1; round <= config.rounds; round++) {
    for (const side of ['baseline', 'current'] as const) {
      if (stopping) return 130;
      const r = await runSide(round, side, side === 'baseline' ? tree : null, args, say, images[side]);
      if (!r.ok) say(`round ${round}, ${side}: failed (${r.error}); going on`);
      rounds.push(r);
    }
  }
  const med = medians(rounds.filter((r) => r.ok));
  const currentCommit = gitCommit();
  const out = {
    kind: 'before-after',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    baseline: { ref, commit, tree },
    current: { commit: currentCommit, tree: repo },
    config: { ...config, root: null, out: null },
    sideArgs: args,
    medians: med,
    rounds,
  };
  const file = writeResults(out, { ...config, out: null }, startedAt, 'compare-');
  process.stdout.write(`${compareTable(med, rounds, `${ref} (${commit.slice(0, 12)})`, currentCommit?.slice(0, 12) ?? '?', config.rounds)}\nwritten: ${file}\n`);
  const okSides = new Set(rounds.filter((r) => r.ok).map((r) => r.side));
  return okSides.size === 2 ? 0 : 1;
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
const pct = (before: number | null, after: number | null) =>
  before === null || after === null || before === 0 ? '' : `${after >= before ? '+' : ''}${Math.round(((after - before) / before) * 100)}%`;

function grid(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

/** The before/after table (medians), each round's p50/p99 per side, and noisy-neighbour's verdict per side and round. */
export function compareTable(med: Record<string, Record<Side, Figures>>, rounds: RoundSide[], baseName: string, currentName: string, n: number): string {
  const head = `before/after: baseline ${baseName} vs working tree ${currentName}, medians of ${n} round(s) (baseline, then working tree, each round)`;
  const rows = [
    ['row', 'p50 before', 'p50 after', 'Δp50', 'p99 before', 'p99 after', 'Δp99', 'reply/s before', 'reply/s after', 'lost before', 'lost after'],
  ];
  const work = [['row (per message)', 'cpu ms before', 'cpu ms after', 'Δcpu', 'rmq published before', 'after', 'db tx before', 'after']];
  for (const [k, m] of Object.entries(med)) {
    const [b, c] = [m.baseline, m.current];
    rows.push([k, fmt(b.p50Ms), fmt(c.p50Ms), pct(b.p50Ms, c.p50Ms), fmt(b.p99Ms), fmt(c.p99Ms), pct(b.p99Ms, c.p99Ms), fmt(b.throughputPerS), fmt(c.throughputPerS), fmt(b.lost), fmt(c.lost)]);
    if (b.cpuMs !== null || c.cpuMs !== null) work.push([k, fmt(b.cpuMs), fmt(c.cpuMs), pct(b.cpuMs, c.cpuMs), fmt(b.published), fmt(c.published), fmt(b.dbTransactions), fmt(c.dbTransactions)]);
  }
  // Each round's machine busy share before it started: a round on a busy machine is read with that in mind.
  const busy = (r: RoundSide) => (r.result?.machine as { busyBeforeStart?: number } | undefined)?.busyBeforeStart;
  const label = (r: RoundSide) => `${r.side === 'baseline' ? 'before' : 'after'} r${r.round}${busy(r) === undefined ? '' : ` (busy ${Math.round(busy(r)! * 100)} %)`}`;
  const perRound = [['row: p50/p99 per round', ...rounds.map(label)]];
  for (const k of Object.keys(med)) perRound.push([k, ...rounds.map((r) => (r.ok ? `${fmt(r.rows[k]?.p50Ms)}/${fmt(r.rows[k]?.p99Ms)}` : 'failed'))]);
  const verdicts = rounds.flatMap((r) => {
    const nn = (r.result?.scenarios as Record<string, any>[] | undefined)?.find((s) => s.name === 'noisy-neighbour');
    if (!nn) return [];
    const b = nn.b as { testRuns: { byAnswer: Record<string, number> }; roomCalls: { replies: Record<string, number> } };
    return [
      `noisy-neighbour ${r.side === 'baseline' ? 'before' : 'after'} r${r.round}: A p99 flood/quiet ${nn.p99Ratio ?? '?'}, A lost ${nn.quiet.lost + nn.flood.lost}, ` +
        `B test runs ${JSON.stringify(b.testRuns.byAnswer)}, B room replies ${JSON.stringify(b.roomCalls.replies)}: target ${nn.verdict.meetsTarget ? 'met' : 'NOT met'}`,
    ];
  });
  const failed = rounds.filter((r) => !r.ok).map((r) => `round ${r.round} ${r.side}: ${r.error}`);
  return [head, grid(rows), ...(work.length > 1 ? ['', grid(work)] : []), '', grid(perRound), ...(verdicts.length ? ['', ...verdicts] : []), ...(failed.length ? ['', 'FAILED: ' + failed.join('; ')] : [])].join('\n');
}
