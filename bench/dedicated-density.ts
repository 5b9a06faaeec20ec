import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createLogger } from '@domaeka/core';
import { connectBroker, RunnerClient, type RunnerProfile } from '@domaeka/broker';
import { AMQP_URL } from '../test/support/env.js';
import { waitFor } from '../test/support/wait.js';
import { containersOf } from './containers.js';
import { containerProcesses, containersMemory, contextSwitches, engineProcesses, initPids, memDeltaMB, memInfo, processesMemory, type ContainersMemory, type MemInfo, type ProcessesMemory } from './host-memory.js';
import { cpuSecondsOf, machineShare, machineTicks } from './probes.js';
import { quantile } from './runner-calls.js';
import { grid } from './sandbox-report.js';
import { SANDBOX_CODE, SANDBOX_COMMAND } from './setup.js';

/**
 * dedicated-density (issue 18 item 5a; DESIGN.md section 7: >= 1,000 idle
 * dedicated tenants on one 24 GiB machine, a warm call still p50 <= 10 ms).
 * N tenants of their own (ids `density-<tag>-<i>`, no rows: they use
 * no store) are brought up on the bench's ONE runner by their first call,
 * sent straight over the runner RPC (core's RunnerClient, what the
 * dispatcher uses; signing up 1,000 tenants with bots and phones would
 * measure the API, not the runner), `concurrency` first calls in flight.
 * Each first call starts the tenant's dedicated container (premium limits)
 * and loads its code. Then, with all N idle: the machine's MemAvailable
 * against the baseline taken before the first call, the PSS of the N
 * containers and their shims, dockerd's, containerd's and the runner's
 * growth, and what the idle containers cost in CPU; then warm calls over
 * the runner RPC, one at a time: spread over the N tenants, and repeated
 * to one. The phone path (phone -> gateway -> dispatcher -> runner ->
 * phone) is measured by run.ts around this, on the bench tenant (one more
 * dedicated container), before the bring-up and while all N exist. At
 * the end the N containers are removed (docker rm -f, in batches) and the
 * runner is waited for until it let go of them.
 */

const exec = promisify(execFile);

/** The premium plan's row (migrations' seed): dedicated mode's plan. */
const PREMIUM: RunnerProfile = { name: 'premium', memoryMb: 512, cpus: 1, timeoutMaxMs: 30_000, maxConcurrency: 8 };
const TARGET = { tenants: 1000, warmP50Ms: 10 };
/** A first call may wait behind the other starts in flight: its deadline is generous. */
const FIRST_CALL_DEADLINE_MS = 180_000;
const WARM_DEADLINE_MS = 10_000;
const DEDICATED_GAUGE = 'kb_runner_dedicated_containers';

export interface DensitySpec {
  tenants: number;
  /** First calls in flight at once during the bring-up. */
  concurrency: number;
  /** Warm calls, one at a time: this many spread over the N tenants, and this many to one tenant. */
  warmCalls: number;
  /** Seconds all N sit idle before memory and idle CPU are read. */
  idleS: number;
  tag: string;
  brokerPrefix: string;
  runnerId: string;
  metricsUrl: string;
  /** Service pids (the runner's among them) for the idle CPU reading. */
  pids: Record<string, number | undefined>;
  /** Run while all N exist, after the warm RPC calls (run.ts: the phone path's measurement). */
  whileAllUp?: () => Promise<void>;
  say: (msg: string) => void;
}

interface Latency {
  calls: number;
  answered: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

interface HostReading {
  meminfo: MemInfo;
  dockerd: ProcessesMemory;
  containerd: ProcessesMemory;
  runner: ProcessesMemory;
  dedicatedContainers: number;
  loadavg: number[];
}

export interface DensityResult {
  name: 'dedicated-density';
  tenants: number;
  /** Dedicated containers the runner held once all were up (the N, plus the bench tenant's). */
  dedicatedContainers: number | null;
  sent: number;
  received: number;
  lost: number;
  doubled: null;
  /** The headline: warm call spread over the N, runner RPC round trip. */
  p50Ms: number | null;
  p99Ms: number | null;
  bringUp: Latency & { concurrency: number; totalS: number; tenantsPerS: number; errors: string[] };
  memory: {
    baseline: HostReading;
    allUp: HostReading;
    /** MemAvailable before - after, MB, and that over N. */
    memAvailableDropMB: number;
    perTenantMB: number;
    /** Every /proc/meminfo field's change (kernel slab, page tables, kernel stacks: what no process's PSS shows). */
    meminfoDeltaMB: Record<string, number>;
    containers: ContainersMemory;
    dockerdGrowthMB: number;
    containerdGrowthMB: number;
    runnerGrowthMB: number;
  };
  /** What N idle containers cost in CPU: cores over `idleS` of their processes, their shims, this engine (dockerd + containerd) and the runner; the whole machine's busy share (other work included). */
  idle: { seconds: number; cpuCores: Record<string, number>; wakeupsPerS: Record<string, number>; machine: Record<string, number> | null };
  warm: { spread: Latency; oneTenant: Latency; errors: string[] };
  teardown: { removed: number; removeS: number; runnerLetGoS: number | null };
  targets: typeof TARGET;
  meetsTarget: boolean | null;
}

const r2 = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

function latency(ms: number[], calls: number): Latency {
  return { calls, answered: ms.length, p50Ms: r2(quantile(ms, 0.5)), p90Ms: r2(quantile(ms, 0.9)), p99Ms: r2(quantile(ms, 0.99)), maxMs: r2(quantile(ms, 1)) };
}

async function gauge(url: string, name: string): Promise<number | null> {
  const res = await fetch(url).catch(() => null);
  if (!res || res.status !== 200) return null;
  // `name 3` or `name{service="runner"} 3` (the registry's default labels).
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}

export async function runDedicatedDensity(spec: DensitySpec): Promise<DensityResult> {
  const logger = createLogger('bench-density', 'warn');
  const broker = await connectBroker({ url: AMQP_URL, prefix: spec.brokerPrefix, name: 'bench-density', logger });
  const client = new RunnerClient(broker.conn, broker.publisher, spec.brokerPrefix, logger);
  await client.start();
  const tenants = Array.from({ length: spec.tenants }, (_, i) => `density-${spec.tag}-${i}`);
  const call = async (tenantId: string, id: string, deadlineMs: number): Promise<{ ms: number; error: string | null }> => {
    const t0 = performance.now();
    const outcome = await client.call({
      tenantId,
      commandId: 'density',
      mode: 'dedicated',
      profile: PREMIUM,
      code: SANDBOX_CODE,
      codeVersion: 'density:1',
      params: { command: SANDBOX_COMMAND, parameters: [id], raw_text: `${SANDBOX_COMMAND} ${id}`, sender: '벤치', room: '벤치방', channel_id: '1', metadata: {} },
      timeoutMs: 5000,
      deadline: Date.now() + deadlineMs,
    });
    const ms = performance.now() - t0;
    if (outcome.kind === 'result' && outcome.result.ok && outcome.result.result?.text === `ok ${id}`) return { ms, error: null };
    return { ms, error: outcome.kind === 'failed' ? `${outcome.code}: ${outcome.message}` : JSON.stringify(outcome.result.error ?? outcome.result.result) };
  };
  const reading = async (): Promise<HostReading> => ({
    meminfo: memInfo(),
    dockerd: processesMemory(engineProcesses().dockerd),
    containerd: processesMemory(engineProcesses().containerd),
    runner: processesMemory(spec.pids.runner ? [spec.pids.runner] : []),
    dedicatedContainers: (await gauge(spec.metricsUrl, DEDICATED_GAUGE)) ?? -1,
    loadavg: (await import('node:os')).loadavg().map((v) => r2(v)!),
  });

  try {
    await waitFor(() => client.registry.candidates().some((r) => r.runnerId === spec.runnerId), { timeoutMs: 15_000, what: `runner ${spec.runnerId} heartbeat` });
    const before = new Set((await containersOf(spec.brokerPrefix)).map((c) => c.id));
    const baseline = await reading();
    spec.say(`dedicated-density: baseline MemAvailable ${Math.round(baseline.meminfo.MemAvailable / 1024)} MB, ${baseline.dedicatedContainers} dedicated containers; bringing up ${spec.tenants} tenants, ${spec.concurrency} first calls at a time`);

    // Bring-up: each tenant's first call starts its container and loads its code.
    const first: number[] = [];
    const upTenants: string[] = [];
    const upErrors: string[] = [];
    let next = 0;
    const t0 = performance.now();
    let lastSaid = t0;
    const worker = async () => {
      while (next < tenants.length) {
        const i = next++;
        const r = await call(tenants[i]!, `up${i}`, FIRST_CALL_DEADLINE_MS);
        if (r.error === null) {
          first.push(r.ms);
          upTenants.push(tenants[i]!);
        } else if (upErrors.push(`${tenants[i]}: ${r.error}`) <= 5) spec.say(`  first call of ${tenants[i]} failed: ${r.error}`);
        if (performance.now() - lastSaid > 15_000) {
          lastSaid = performance.now();
          spec.say(`  ${first.length} up, ${upErrors.length} failed, ${Math.round((lastSaid - t0) / 1000)} s`);
        }
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency }, worker));
    const totalS = (performance.now() - t0) / 1000;
    const bringUp = { ...latency(first, spec.tenants), concurrency: spec.concurrency, totalS: r2(totalS)!, tenantsPerS: r2(first.length / totalS)!, errors: upErrors.slice(0, 10) };
    spec.say(`  ${first.length}/${spec.tenants} up in ${bringUp.totalS} s (${bringUp.tenantsPerS}/s); first call p50 ${bringUp.p50Ms} ms, p99 ${bringUp.p99Ms} ms`);

    // All idle: what they cost in CPU while nobody calls (this engine, the N containers and their shims, the runner), then in memory.
    spec.say(`  all idle for ${spec.idleS} s`);
    const mine = (await containersOf(spec.brokerPrefix)).filter((c) => c.role === 'dedicated' && !before.has(c.id)).map((c) => c.id);
    const { inside, shims } = containerProcesses(await initPids(mine));
    const engine = engineProcesses();
    const groups: Record<string, number[]> = { sandboxes: inside, shims, engine: [...engine.dockerd, ...engine.containerd], runner: spec.pids.runner ? [spec.pids.runner] : [] };
    const cpuOf = () => Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, pids.reduce((a, pid) => a + (cpuSecondsOf(pid) ?? 0), 0)]));
    const wakeOf = () => Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, contextSwitches(pids)]));
    const wake0 = wakeOf();
    const cpu0 = cpuOf();
    const ticks0 = machineTicks();
    const i0 = performance.now();
    await new Promise((r) => setTimeout(r, spec.idleS * 1000));
    const cpu1 = cpuOf();
    const idleS = (performance.now() - i0) / 1000;
    const wake1 = wakeOf();
    const idle = {
      seconds: r2(idleS)!,
      cpuCores: Object.fromEntries(Object.keys(groups).map((k) => [k, r2((cpu1[k]! - cpu0[k]!) / idleS)!])),
      wakeupsPerS: Object.fromEntries(Object.keys(groups).map((k) => [k, Math.round((wake1[k]! - wake0[k]!) / idleS)])),
      machine: machineShare(ticks0, machineTicks()),
    };
    const allUp = await reading();
    const containers = await containersMemory(mine);
    const dropMB = (baseline.meminfo.MemAvailable - allUp.meminfo.MemAvailable) / 1024;
    const memory = {
      baseline,
      allUp,
      memAvailableDropMB: r2(dropMB)!,
      perTenantMB: r2(dropMB / Math.max(1, mine.length))!,
      meminfoDeltaMB: memDeltaMB(baseline.meminfo, allUp.meminfo),
      containers,
      dockerdGrowthMB: r2(allUp.dockerd.pssMB - baseline.dockerd.pssMB)!,
      containerdGrowthMB: r2(allUp.containerd.pssMB - baseline.containerd.pssMB)!,
      runnerGrowthMB: r2(allUp.runner.pssMB - baseline.runner.pssMB)!,
    };
    spec.say(
      `  ${mine.length} new dedicated containers: MemAvailable -${Math.round(dropMB)} MB (${memory.perTenantMB} MB each); their PSS incl. shims ${containers.pssMB} MB (${containers.pssPerContainerMB} MB each, shim ${containers.shimPssPerContainerMB}); dockerd +${memory.dockerdGrowthMB} MB, containerd +${memory.containerdGrowthMB} MB, runner +${memory.runnerGrowthMB} MB; idle cores: sandboxes ${idle.cpuCores.sandboxes}, shims ${idle.cpuCores.shims}, engine ${idle.cpuCores.engine}, runner ${idle.cpuCores.runner} (wake-ups/s: shims ${idle.wakeupsPerS.shims}, sandboxes ${idle.wakeupsPerS.sandboxes}, engine ${idle.wakeupsPerS.engine}; machine busy ${idle.machine?.busy})`,
    );

    // Warm calls while all N exist, one at a time.
    const spreadMs: number[] = [];
    const oneMs: number[] = [];
    const warmErrors: string[] = [];
    const up = upTenants.length ? upTenants : tenants;
    // A stride prime to N walks every tenant before any comes again.
    const stride = strideFor(up.length);
    for (let k = 0; k < spec.warmCalls; k++) {
      const r = await call(up[(k * stride) % up.length]!, `s${k}`, WARM_DEADLINE_MS);
      if (r.error === null) spreadMs.push(r.ms);
      else if (warmErrors.length < 10) warmErrors.push(r.error);
    }
    for (let k = 0; k < spec.warmCalls; k++) {
      const r = await call(up[0]!, `o${k}`, WARM_DEADLINE_MS);
      if (r.error === null) oneMs.push(r.ms);
      else if (warmErrors.length < 10) warmErrors.push(r.error);
    }
    const warm = { spread: latency(spreadMs, spec.warmCalls), oneTenant: latency(oneMs, spec.warmCalls), errors: warmErrors };
    spec.say(`  warm (runner RPC, one at a time): spread over ${up.length} p50 ${warm.spread.p50Ms} ms, p99 ${warm.spread.p99Ms} ms; one tenant p50 ${warm.oneTenant.p50Ms} ms, p99 ${warm.oneTenant.p99Ms} ms`);

    await spec.whileAllUp?.();
    const teardown = await tearDown(mine, spec);

    const sent = spec.tenants + 2 * spec.warmCalls;
    const received = first.length + spreadMs.length + oneMs.length;
    return {
      name: 'dedicated-density',
      tenants: spec.tenants,
      dedicatedContainers: allUp.dedicatedContainers,
      sent,
      received,
      lost: sent - received,
      doubled: null,
      p50Ms: warm.spread.p50Ms,
      p99Ms: warm.spread.p99Ms,
      bringUp,
      memory,
      idle,
      warm,
      teardown,
      targets: TARGET,
      meetsTarget: warm.spread.p50Ms === null ? null : first.length >= TARGET.tenants && warm.spread.p50Ms <= TARGET.warmP50Ms,
    };
  } finally {
    await client.stop().catch(() => undefined);
    await broker.conn.close().catch(() => undefined);
  }
}

/**
 * Removes the N containers (docker rm -f, batches of 50, 4 at a time) and
 * waits until the runner let go of them (it sees each channel end and
 * removes what is left of the sandbox: its home, its sockets).
 */
async function tearDown(ids: string[], spec: DensitySpec): Promise<DensityResult['teardown']> {
  spec.say(`  removing the ${ids.length} containers`);
  const held = (await gauge(spec.metricsUrl, DEDICATED_GAUGE)) ?? ids.length;
  const t0 = performance.now();
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += 50) batches.push(ids.slice(i, i + 50));
  let b = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (b < batches.length) await exec('docker', ['rm', '-f', ...batches[b++]!]).catch(() => undefined);
    }),
  );
  const removeS = r2((performance.now() - t0) / 1000)!;
  const t1 = performance.now();
  let runnerLetGoS: number | null = null;
  try {
    await waitFor(async () => ((await gauge(spec.metricsUrl, DEDICATED_GAUGE)) ?? 0) <= held - ids.length, { timeoutMs: 300_000, intervalMs: 500, what: 'the runner to let go of the removed containers' });
    runnerLetGoS = r2((performance.now() - t1) / 1000);
  } catch (err) {
    spec.say(`  ${String(err)}`);
  }
  spec.say(`  removed in ${removeS} s; the runner let go of them ${runnerLetGoS} s later`);
  return { removed: ids.length, removeS, runnerLetGoS };
}

/** The smallest stride >= N/3 sharing no factor with N (1 for N <= 2). */
function strideFor(n: number): number {
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  for (let s = Math.max(1, Math.floor(n / 3)); s < n; s++) if (gcd(s, n) === 1) return s;
  return 1;
}

export function densityTable(others: { name: string }[]): string {
  const r = others.find((o): o is DensityResult => o.name === 'dedicated-density');
  if (!r) return '';
  const f = (v: number | null) => (v === null ? '-' : String(v));
  const row = (what: string, l: Latency) => [what, `${l.answered}/${l.calls}`, f(l.p50Ms), f(l.p99Ms), f(l.maxMs)];
  const m = r.memory;
  return `${grid(['dedicated-density (runner RPC)', 'answered', 'p50ms', 'p99ms', 'maxms'], [
    row(`bring-up: first call (${r.bringUp.concurrency} at a time)`, r.bringUp),
    row(`warm, spread over ${r.tenants}`, r.warm.spread),
    row('warm, one tenant', r.warm.oneTenant),
  ])}
${r.tenants} tenants up in ${r.bringUp.totalS} s; ${r.dedicatedContainers} dedicated containers on one runner
host memory per tenant: MemAvailable ${m.perTenantMB} MB (-${m.memAvailableDropMB} MB), PSS incl. shim ${m.containers.pssPerContainerMB} MB; dockerd +${m.dockerdGrowthMB} MB, containerd +${m.containerdGrowthMB} MB, runner +${m.runnerGrowthMB} MB
idle, cores: ${Object.entries(r.idle.cpuCores).map(([k, v]) => `${k} ${v}`).join(', ')}; wake-ups/s: ${Object.entries(r.idle.wakeupsPerS).map(([k, v]) => `${k} ${v}`).join(', ')}
>= ${r.targets.tenants} tenants with warm p50 <= ${r.targets.warmP50Ms} ms: ${r.meetsTarget === null ? '?' : r.meetsTarget ? 'met' : 'NOT met'}`;
}

/** `summary.dedicatedDensity`. */
export function densitySummary(others: { name: string }[]): { dedicatedDensity?: object } {
  const r = others.find((o): o is DensityResult => o.name === 'dedicated-density');
  if (!r) return {};
  return {
    dedicatedDensity: {
      tenants: r.tenants,
      up: r.bringUp.answered,
      bringUpS: r.bringUp.totalS,
      firstCallP50Ms: r.bringUp.p50Ms,
      firstCallP99Ms: r.bringUp.p99Ms,
      perTenantMemAvailableMB: r.memory.perTenantMB,
      perTenantPssMB: r.memory.containers.pssPerContainerMB,
      warmSpreadP50Ms: r.warm.spread.p50Ms,
      warmSpreadP99Ms: r.warm.spread.p99Ms,
      warmOneP50Ms: r.warm.oneTenant.p50Ms,
      warmOneP99Ms: r.warm.oneTenant.p99Ms,
      idleCores: r.idle.cpuCores,
      meetsTarget: r.meetsTarget,
    },
  };
}
