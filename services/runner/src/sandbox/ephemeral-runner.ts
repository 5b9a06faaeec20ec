import type { Logger } from 'pino';
import type { RunnerCallPayload, RunnerError, RunnerResultPayload } from '@domaeka/broker';
import type { DockerEngine } from '../docker/docker-engine.js';
import type { CgroupStats } from './cgroup-stats.js';
import type { Frame } from './runtime-channel.js';
import type { SandboxPool } from './sandbox-pool.js';
import type { Sandbox } from './sandbox-starter.js';
import type { TenantGate } from './tenant-gate.js';

/** The runtime's soft timeout answers first; the runner kills this much later (code stuck in C, BaseException swallowed). */
export const KILL_GRACE_MS = 300;
/** After the channel ended, how long we wait for Docker to report the exit before inspecting anyway. */
const EXIT_WAIT_MS = 3000;
const MESSAGE_MAX = 4000;

export type RunOutcome = Omit<RunnerResultPayload, 'callId'> & { pooled: boolean | null };

type Ended =
  | { kind: 'response'; frame: Frame }
  | { kind: 'killed' }
  | { kind: 'closed'; reason: string };

/**
 * One ephemeral run: a pooled container (or a fresh one) gets the code, runs
 * once and is destroyed (DESIGN.md section 5). A wall-clock kill at the
 * deadline backs the runtime's soft timeout; a channel that ends without a
 * response is explained by inspecting the container (OOMKilled -> memory
 * limit, else a crash) before it is removed. CPU time and peak memory come
 * from the container's cgroup.
 */
export class EphemeralRunner {
  /** Containers being removed after a successful run (stop() waits for them). */
  private readonly removals = new Set<Promise<void>>();

  constructor(
    private readonly d: { engine: DockerEngine; pool: SandboxPool; gate: TenantGate; cgroups: CgroupStats; logger: Logger },
  ) {}

  async run(call: RunnerCallPayload): Promise<RunOutcome> {
    const release = await this.d.gate.acquire(call.tenantId, call.profile.maxConcurrency, call.deadline);
    if (!release) return failed('KB_ERR_TIMEOUT', 'the deadline passed while waiting for a free run slot of this tenant', null);
    try {
      return await this.runInSandbox(call);
    } finally {
      release();
    }
  }

  /** Waits for background removals (stop()). */
  async settle(): Promise<void> {
    await Promise.all([...this.removals]);
  }

  private async runInSandbox(call: RunnerCallPayload): Promise<RunOutcome> {
    let acquired: { sandbox: Sandbox; pooled: boolean };
    try {
      acquired = await this.d.pool.acquire(call.profile);
    } catch (err) {
      // The engine or image is not there: a runner problem, the room hears "no runner".
      return failed('KB_ERR_NO_RUNNER', `sandbox unavailable: ${String((err as Error).message ?? err)}`, null);
    }
    const { sandbox, pooled } = acquired;
    const started = Date.now();
    const timeoutMs = Math.max(1, Math.min(call.timeoutMs, call.profile.timeoutMaxMs, call.deadline - started));
    const killAt = Math.min(started + timeoutMs + KILL_GRACE_MS, call.deadline);
    const before = await this.d.cgroups.begin(sandbox.id);

    const ended = await this.exchange(sandbox, call, timeoutMs, killAt - Date.now());
    const durationMs = Date.now() - started;
    // Sampled while the container still exists (a stopped container's cgroup is gone).
    const after = ended.kind === 'response' || ended.kind === 'killed' ? await this.d.cgroups.sample(sandbox.id) : null;
    const usage = {
      cpuMs: after?.cpuNs != null && before.cpuNs != null ? Math.max(0, (after.cpuNs - before.cpuNs) / 1e6) : null,
      peakMemoryBytes: after?.peakMemoryBytes ?? null,
    };

    if (ended.kind === 'response') {
      const answered = fromFrame(ended.frame);
      if (answered.error?.code === 'KB_ERR_TIMEOUT' || answered.error?.code === 'KB_ERR_SANDBOX_CRASHED') {
        // The runtime's soft timeout answered, but the timed-out code may still run (its threads, its
        // forked children): like the hard kill, the container is gone before the answer (issue 3's
        // table: "KB_ERR_TIMEOUT, container gone"; test/security found it removed only after).
        sandbox.channel.close();
        await this.d.engine.remove(sandbox.id).catch((err) => this.d.logger.warn({ err: String(err) }, 'sandbox removal failed'));
      } else {
        this.removeLater(sandbox);
      }
      return { ...answered, durationMs, ...usage, pooled };
    }
    let outcome: RunOutcome;
    if (ended.kind === 'killed') {
      await this.d.engine.kill(sandbox.id).catch(() => undefined);
      outcome = failed('KB_ERR_TIMEOUT', `no answer within ${timeoutMs} ms: the sandbox was killed`, pooled);
    } else {
      outcome = await this.explainExit(sandbox, ended.reason, pooled);
    }
    // Failures remove before answering: whoever reads the answer sees the container gone.
    sandbox.channel.close();
    await this.d.engine.remove(sandbox.id).catch((err) => this.d.logger.warn({ err: String(err) }, 'sandbox removal failed'));
    return { ...outcome, durationMs, ...usage };
  }

  private exchange(sandbox: Sandbox, call: RunnerCallPayload, timeoutMs: number, killInMs: number): Promise<Ended> {
    return new Promise<Ended>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'killed' }), Math.max(0, killInMs));
      sandbox.channel
        .request({ op: 'call', code: call.code, codeVersion: call.codeVersion, params: call.params, timeoutMs })
        .then(
          (frame) => resolve({ kind: 'response', frame }),
          (err: Error) => resolve({ kind: 'closed', reason: err.message }),
        )
        .finally(() => clearTimeout(timer));
    });
  }

  /** The channel ended without a response: OOM kill, the tenant killing its own process, or a protocol violation. */
  private async explainExit(sandbox: Sandbox, reason: string, pooled: boolean): Promise<RunOutcome> {
    const exited = await Promise.race([
      this.d.engine.wait(sandbox.id).then(() => true, () => false),
      new Promise<false>((r) => setTimeout(() => r(false), EXIT_WAIT_MS).unref()),
    ]);
    if (!exited) {
      // Still running after its channel broke (a forged frame): kill it, then look.
      await this.d.engine.kill(sandbox.id).catch(() => undefined);
    }
    const state = await this.d.engine.inspect(sandbox.id).catch(() => null);
    if (state?.oomKilled) return failed('KB_ERR_MEMORY_LIMIT', `memory limit of ${sandbox.profile.memoryMb} MB exceeded (OOM kill)`, pooled);
    const exit = state?.exitCode ?? null;
    return failed('KB_ERR_SANDBOX_CRASHED', `the sandbox ended without an answer (${reason}; exit ${exit ?? '?'})`, pooled);
  }

  private removeLater(sandbox: Sandbox): void {
    sandbox.channel.close();
    const p = this.d.engine
      .remove(sandbox.id)
      .catch((err) => this.d.logger.warn({ containerId: sandbox.id.slice(0, 12), err: String(err) }, 'sandbox removal failed'))
      .finally(() => this.removals.delete(p));
    this.removals.add(p);
  }
}

function failed(code: string, message: string, pooled: boolean | null): RunOutcome {
  return {
    ok: false,
    result: null,
    error: { code, message },
    output: '',
    outputTruncated: false,
    durationMs: 0,
    cpuMs: null,
    peakMemoryBytes: null,
    pooled,
  };
}

/** The runtime's response frame, checked field by field (tenant code could have written it). */
function fromFrame(f: Frame): Omit<RunnerResultPayload, 'callId' | 'durationMs' | 'cpuMs' | 'peakMemoryBytes'> {
  const output = typeof f.output === 'string' ? f.output : '';
  const outputTruncated = f.outputTruncated === true;
  if (f.ok === true && f.result && typeof f.result === 'object' && !Array.isArray(f.result)) {
    const problem = notNormalForm(f.result as Record<string, unknown>);
    if (problem === null) return { ok: true, result: f.result as Record<string, unknown>, error: null, output, outputTruncated };
    // Tenant code can write a whole frame onto the channel fd before the runtime answers
    // (test/security "forged frame"): a result the runtime's normalising would never produce is
    // not the runtime's, so it is refused like any other protocol violation.
    return { ok: false, result: null, error: { code: 'KB_ERR_SANDBOX_CRASHED', message: `the sandbox answered a result the runtime does not produce (${problem})`, line: null }, output, outputTruncated };
  }
  const e = (f.error && typeof f.error === 'object' ? f.error : {}) as Record<string, unknown>;
  const code = typeof e.code === 'string' && /^KB_ERR_[A-Z_]+$/.test(e.code) ? e.code : 'KB_ERR_SANDBOX_CRASHED';
  const traceback = typeof e.traceback === 'string' && e.traceback ? `\n${e.traceback}` : '';
  const error: RunnerError = {
    code,
    message: (String(e.message ?? 'sandbox error') + traceback).slice(0, MESSAGE_MAX),
    line: typeof e.line === 'number' && Number.isInteger(e.line) ? e.line : null,
  };
  if (typeof e.text === 'string') error.text = e.text;
  return { ok: false, result: null, error, output, outputTruncated };
}

/** The runtime's limits on a normalised result (sandbox-image/runtime/kbrt/result.py). */
const TEXT_MAX_BYTES = 64 * 1024;
const RESULT_MAX_BYTES = 1024 * 1024;
const MAX_BUTTONS = 20;
const RESULT_KEYS = new Set(['type', 'text', 'buttons', 'url', 'image_base64', 'format']);

/** Null when `r` is in the runtime's normal form (sandbox-image/README.md, "Results"), else what is wrong. */
export function notNormalForm(r: Record<string, unknown>): string | null {
  if (Buffer.byteLength(JSON.stringify(r)) > RESULT_MAX_BYTES) return 'over 1 MiB';
  const unknown = Object.keys(r).find((k) => !RESULT_KEYS.has(k));
  if (unknown !== undefined) return `unknown key ${unknown.slice(0, 40)}`;
  if (r.type !== 'text' && r.type !== 'image') return 'type';
  if (typeof r.text !== 'string' || Buffer.byteLength(r.text) > TEXT_MAX_BYTES) return 'text';
  for (const k of ['url', 'image_base64', 'format'] as const) if (r[k] !== undefined && typeof r[k] !== 'string') return k;
  if (r.buttons !== undefined) {
    const ok =
      Array.isArray(r.buttons) &&
      r.buttons.length >= 1 &&
      r.buttons.length <= MAX_BUTTONS &&
      r.buttons.every((b: unknown) => {
        if (!b || typeof b !== 'object' || Array.isArray(b)) return false;
        const o = b as Record<string, unknown>;
        return Object.keys(o).length === 2 && typeof o.label === 'string' && typeof o.url === 'string' && o.url !== '';
      });
    if (!ok) return 'buttons';
  }
  return null;
}
