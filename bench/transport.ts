import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { containerSpec, type ContainerSpec } from '../services/runner/src/docker/container-spec.js';
import { DockerEngine } from '../services/runner/src/docker/docker-engine.js';
import { HOME_MOUNT, RUNTIME_SOCKET, SandboxHomes, type SandboxHome } from '../services/runner/src/sandbox/sandbox-home.js';
import { RuntimeSocket } from '../services/runner/src/sandbox/socket-channel.js';
import { RuntimeChannel, type Frame } from '../services/runner/src/sandbox/runtime-channel.js';
import { sampleCpu, type CpuSample } from './probes.js';

/**
 * sandbox-transport (issue 3 item 7: "attached stdio or a mounted unix
 * socket: measure both, pick, write down why"). One container per
 * transport, with the runner's hardened settings (container-spec.ts, free
 * plan limits) and the runner's own framing code (RuntimeChannel):
 *
 * - stdio: attached through the Engine API before start (dockerode's
 *   hijacked socket; Docker's stream headers demultiplexed), as the runner
 *   does for pooled and one-call containers;
 * - unix: the runtime connects to a socket this process listens on in a
 *   home mounted read-only at /run/kb (KB_RUNTIME_SOCKET), with the
 *   runner's own code for it, as dedicated containers get it.
 *
 * For each: start -> ready frame, then N sequential pings, N sequential
 * trivial calls (a loaded module, params in, text out), and N calls
 * pipelined 32 at a time. Runs inside `npm run bench` or alone:
 * `npx tsx bench/transport.ts [calls]`.
 */

export interface TransportRow {
  name: 'sandbox-transport';
  transport: 'stdio' | 'unix';
  /** create (+ attach) + start -> ready frame. */
  startToReadyMs: number;
  calls: number;
  sent: number;
  received: number;
  lost: number;
  doubled: number;
  /** Sequential `call` round trips (the figure the runner pays per warm call). */
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  throughputPerS: number;
  /** Sequential `ping` (the runtime does nothing: framing + transport only). */
  pingP50Ms: number | null;
  pingP99Ms: number | null;
  pingPerS: number;
  /** `call`s with 32 outstanding at once: what one container can carry. */
  pipelinedPerS: number;
  /**
   * CPU time per call (ms) by part, over the sequential calls and over the
   * pipelined ones: `bench` (this process: the runner's side), `docker`
   * (dockerd, containerd, shims: the attach relay), `sandboxes` (the runtime).
   */
  cpuMsPerCall: { sequential: Record<string, number>; pipelined: Record<string, number> };
}

const IMAGE = process.env.SANDBOX_IMAGE ?? 'domaeka-sandbox:latest';
const FREE = { name: 'free', memoryMb: 256, cpus: 0.5 };
const LIMITS = { pidsLimit: 64, nofile: 64, tmpfsMb: 16 };
const CODE = 'def handle_command(params):\n    return "ok " + params["parameters"][0]\n';
const PIPELINE = 32;

const round = (v: number | null, digits = 3) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

function quantile(xs: Float64Array, q: number): number | null {
  if (!xs.length) return null;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** CPU ms per call of each part between two samples (other containers running meanwhile would count too). */
function cpuPerCall(before: CpuSample, after: CpuSample, calls: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['bench', 'docker', 'sandboxes']) {
    let used = 0;
    for (const [pid, v] of Object.entries(after[k] ?? {})) used += v - (before[k]?.[Number(pid)] ?? 0);
    out[k] = Math.round(((used * 1000) / calls) * 1000) / 1000;
  }
  return out;
}

async function expectOk(p: Promise<Frame>, what: string): Promise<Frame> {
  const f = await p;
  if (f.ok !== true) throw new Error(`${what}: ${JSON.stringify(f.error ?? f)}`);
  return f;
}

/** N sequential requests: their round trips (ms). */
async function sequential(ch: RuntimeChannel, n: number, body: (i: number) => Frame, check: (f: Frame, i: number) => boolean): Promise<{ times: Float64Array; ok: number }> {
  const times = new Float64Array(n);
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const f = await ch.request(body(i));
    times[i] = performance.now() - t0;
    if (check(f, i)) ok++;
  }
  return { times, ok };
}

async function measureOne(engine: DockerEngine, transport: 'stdio' | 'unix', calls: number, prefix: string): Promise<TransportRow> {
  const spec: ContainerSpec = containerSpec({ image: IMAGE, runnerId: 'bench-transport', instance: Date.now(), prefix, role: 'ephemeral', profile: FREE, limits: LIMITS });
  // The runner's own home and socket code (sandbox-home.ts, socket-channel.ts), as a dedicated container gets them.
  const homes = new SandboxHomes(join(tmpdir(), 'domaeka-runner'), prefix, 'bench-transport');
  let home: SandboxHome | null = null;
  let listening: RuntimeSocket | null = null;
  let id: string | null = null;
  let channel: RuntimeChannel | null = null;
  try {
    if (transport === 'unix') {
      home = await homes.create();
      listening = await RuntimeSocket.listen(home);
      spec.Env = [...spec.Env, `KB_RUNTIME_SOCKET=${HOME_MOUNT}/${RUNTIME_SOCKET}`];
      spec.HostConfig.Binds = [home.bind];
    }
    const t0 = performance.now();
    id = await engine.create(spec);
    const attached = await engine.attach(id);
    await engine.start(id);
    channel = new RuntimeChannel(listening ? await listening.channel(attached) : attached);
    const ready = await channel.ready();
    const startToReadyMs = performance.now() - t0;
    if (ready.transport !== transport) throw new Error(`the runtime says transport ${String(ready.transport)}, expected ${transport}`);

    const ch = channel;
    await expectOk(ch.request({ op: 'load', code: CODE, codeVersion: 't1' }), 'load');
    const callBody = (i: number): Frame => ({ op: 'call', params: { parameters: [`c${i}`] }, codeVersion: 't1', timeoutMs: 5000 });
    const callOk = (f: Frame, i: number) => f.ok === true && (f.result as { text?: string } | undefined)?.text === `ok c${i}`;
    // Warm-up: the interpreter's and Node's first requests are slower.
    await sequential(ch, 200, (i) => (i % 2 ? { op: 'ping' } : callBody(i)), () => true);

    const pings = await sequential(ch, calls, () => ({ op: 'ping' }), (f) => f.pong === true);
    const c0 = sampleCpu({}, true);
    const seq = await sequential(ch, calls, callBody, callOk);
    const c1 = sampleCpu({}, true);

    const p0 = performance.now();
    let next = 0;
    let pipelinedOk = 0;
    const lane = async () => {
      while (next < calls) {
        const i = next++;
        if (callOk(await ch.request(callBody(i)), i)) pipelinedOk++;
      }
    };
    await Promise.all(Array.from({ length: PIPELINE }, lane));
    const pipelinedS = (performance.now() - p0) / 1000;
    const c2 = sampleCpu({}, true);

    const sum = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0);
    const received = Math.min(seq.ok, pings.ok, pipelinedOk);
    return {
      name: 'sandbox-transport',
      transport,
      startToReadyMs: round(startToReadyMs, 1)!,
      calls,
      sent: calls,
      received,
      lost: calls - received,
      doubled: 0,
      p50Ms: round(quantile(seq.times, 0.5)),
      p90Ms: round(quantile(seq.times, 0.9)),
      p99Ms: round(quantile(seq.times, 0.99)),
      maxMs: round(quantile(seq.times, 1)),
      throughputPerS: Math.round(calls / (sum(seq.times) / 1000)),
      pingP50Ms: round(quantile(pings.times, 0.5)),
      pingP99Ms: round(quantile(pings.times, 0.99)),
      pingPerS: Math.round(calls / (sum(pings.times) / 1000)),
      pipelinedPerS: Math.round(calls / pipelinedS),
      cpuMsPerCall: { sequential: cpuPerCall(c0, c1, calls), pipelined: cpuPerCall(c1, c2, calls) },
    };
  } finally {
    channel?.close();
    if (id) await engine.remove(id).catch(() => undefined);
    listening?.close();
    await homes.removeRunner();
  }
}

/** Both transports, one after the other (stdio first). */
export async function measureTransports(opts: { calls: number; say: (msg: string) => void }): Promise<TransportRow[]> {
  const engine = new DockerEngine(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
  const prefix = `bench-transport.${randomBytes(4).toString('hex')}`;
  const rows: TransportRow[] = [];
  for (const t of ['stdio', 'unix'] as const) {
    opts.say(`sandbox-transport: ${t}, ${opts.calls} pings, ${opts.calls} calls, ${opts.calls} calls ${PIPELINE} at a time`);
    const r = await measureOne(engine, t, opts.calls, prefix);
    const cpu = Object.entries(r.cpuMsPerCall.sequential).map(([k, v]) => `${k} ${v}`).join(', ');
    opts.say(`  ${t}: ready in ${r.startToReadyMs} ms; call p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.throughputPerS}/s; ping p50 ${r.pingP50Ms} ms; pipelined ${r.pipelinedPerS}/s; CPU ms per call: ${cpu}`);
    rows.push(r);
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const calls = Number(process.argv[2] ?? 2000);
  const rows = await measureTransports({ calls, say: (m) => process.stderr.write(`[transport] ${m}\n`) });
  process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  process.exit(0);
}
