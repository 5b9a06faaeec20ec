import { SENDS_MAX, type ErrorExplanation, type OutgoingMessage, type RunnerError, type RunnerResultPayload } from '@domaeka/broker';
import type { DockerEngine, StatsSample } from '../docker/docker-engine.js';
import type { CgroupStats } from './cgroup-stats.js';
import type { Watching } from './live-feed.js';
import { OUTPUT_MAX_BYTES, RESULT_MAX_BYTES, capText } from './call-budget.js';
import { ChannelMisuseError, MISUSE, type Frame } from './runtime-channel.js';
import type { Sandbox } from './sandbox-starter.js';

/**
 * What every run of tenant code ends in, ephemeral or dedicated: one
 * request over the runtime channel raced against the wall-clock kill, the
 * runtime's frame checked field by field, a channel that ended without an
 * answer explained by inspecting the container (OOMKilled -> memory limit,
 * else a crash).
 */

/** The runtime's soft timeout answers first; the runner kills this much later (code stuck in C, BaseException swallowed). */
export const KILL_GRACE_MS = 300;
/** After the channel ended, how long we wait for Docker to report the exit before inspecting anyway. */
const EXIT_WAIT_MS = 3000;
const MESSAGE_MAX = 4000;
/** The runtime's explanation: one sentence and a hint (sandbox-image/runtime/kbrt/explain.py). */
const EXPLANATION_MAX = 1000;

/** `pooled`: the container came from the pool (true), was started for the run (false), or is a tenant's dedicated one (null). */
export type RunOutcome = Omit<RunnerResultPayload, 'callId'> & { pooled: boolean | null };

export type Ended =
  | { kind: 'response'; frame: Frame }
  | { kind: 'killed' }
  | { kind: 'closed'; reason: string; misuse: boolean };

/**
 * Sends one request; `killed` when no answer came within `killInMs` (the
 * caller kills the container). A watched call streams its output to the watcher.
 */
export function exchange(sandbox: Sandbox, request: Frame, killInMs: number, watching?: Watching): Promise<Ended> {
  return new Promise<Ended>((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'killed' }), Math.max(0, killInMs));
    const streaming = watching?.streaming === true;
    sandbox.channel
      .request(streaming ? { ...request, stream: true } : request, streaming ? (e) => watching.output(e.data) : undefined)
      .then(
        (frame) => resolve({ kind: 'response', frame }),
        (err: Error) => resolve({ kind: 'closed', reason: err.message, misuse: err instanceof ChannelMisuseError }),
      )
      .finally(() => clearTimeout(timer));
  });
}

/** After an answer from the runtime about a stuck or broken run, the container must go before the answer does. */
export function mustRemoveAfter(code: string | undefined): boolean {
  // The runtime's soft timeout answered, but the timed-out code may still run (its threads, its
  // forked children): like the hard kill, the container is gone before the answer (issue 3's
  // table: "KB_ERR_TIMEOUT, container gone"; test/security found it removed only after).
  return code === 'KB_ERR_TIMEOUT' || code === 'KB_ERR_SANDBOX_CRASHED';
}

/**
 * A call killed at its wall-clock limit: `KB_ERR_TIMEOUT`, unless it was
 * stuck at its memory limit (the kernel had not OOM-killed it yet, or did
 * so as we killed it): then `KB_ERR_MEMORY_LIMIT`.
 */
export async function explainKill(engine: DockerEngine, cgroups: CgroupStats, sandbox: Sandbox, hitsBefore: number | null, timeoutMs: number, pooled: boolean | null): Promise<RunOutcome> {
  const hits = hitsBefore === null ? null : await cgroups.limitHits(sandbox.id);
  await engine.kill(sandbox.id).catch(() => undefined);
  const oom = (await engine.inspect(sandbox.id).catch(() => null))?.oomKilled === true;
  if (oom || (hits !== null && hitsBefore !== null && hits > hitsBefore)) {
    const e = stuckAtMemoryLimit(sandbox.profile.memoryMb);
    return failed(e.code, e.message, pooled);
  }
  return failed('KB_ERR_TIMEOUT', `${secondsKo(timeoutMs)} 안에 끝나지 않아 실행을 멈췄습니다 / no answer within ${timeoutMs} ms: the sandbox was killed`, pooled);
}

/** 5000 -> '5초', 250 -> '0.25초' (the runtime's own wording: kbrt/explain.py `seconds`). */
export function secondsKo(ms: number): string {
  return `${Number((Math.max(ms, 0) / 1000).toFixed(3))}초`;
}

/** The error of a call that ran out of time while stuck at its memory limit. */
export function stuckAtMemoryLimit(memoryMb: number): RunnerError {
  return { code: 'KB_ERR_MEMORY_LIMIT', message: `memory limit of ${memoryMb} MB reached: the code was stuck at it until its time ran out`, line: null };
}

/** The runtime's own soft timeout answered: the same question as explainKill (was it stuck at its memory limit?). */
export async function timedOutAtMemoryLimit(cgroups: CgroupStats, sandbox: Sandbox, hitsBefore: number | null): Promise<boolean> {
  if (hitsBefore === null) return false;
  const hits = await cgroups.limitHits(sandbox.id);
  return hits !== null && hits > hitsBefore;
}

/**
 * The channel ended without a response: OOM kill, the tenant killing its
 * own process, or a protocol violation. A misused channel (`misuse`: a
 * frame the runtime never sends) is answered at once: the container is
 * killed without waiting for it to exit.
 */
export async function explainExit(engine: DockerEngine, sandbox: Sandbox, reason: string, pooled: boolean | null, misuse = false): Promise<RunOutcome> {
  if (misuse) {
    await engine.kill(sandbox.id).catch(() => undefined);
    return failed('KB_ERR_SANDBOX_CRASHED', `${reason}; the sandbox was removed`, pooled);
  }
  const exited = await Promise.race([
    engine.wait(sandbox.id).then(() => true, () => false),
    new Promise<false>((r) => setTimeout(() => r(false), EXIT_WAIT_MS).unref()),
  ]);
  if (!exited) {
    // Still running after its channel broke (a forged frame): kill it, then look.
    await engine.kill(sandbox.id).catch(() => undefined);
  }
  const state = await engine.inspect(sandbox.id).catch(() => null);
  if (state?.oomKilled) return failed('KB_ERR_MEMORY_LIMIT', `memory limit of ${sandbox.profile.memoryMb} MB exceeded (OOM kill)`, pooled);
  const exit = state?.exitCode ?? null;
  return failed('KB_ERR_SANDBOX_CRASHED', `the sandbox ended without an answer (${reason}; exit ${exit ?? '?'})`, pooled);
}

/** CPU time between two cgroup samples, and the peak of the second. */
export function usageBetween(before: StatsSample, after: StatsSample | null): { cpuMs: number | null; peakMemoryBytes: number | null } {
  return {
    cpuMs: after?.cpuNs != null && before.cpuNs != null ? Math.max(0, (after.cpuNs - before.cpuNs) / 1e6) : null,
    peakMemoryBytes: after?.peakMemoryBytes ?? null,
  };
}

export function failed(code: string, message: string, pooled: boolean | null): RunOutcome {
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

/**
 * What tenant code left running after its answer, as the runtime reports
 * it (`leftover: {threads?, children?}`), in words; null when nothing. A
 * forged frame can only lie about its own container.
 */
export function leftoverOf(f: Frame): string | null {
  const l = f.leftover;
  if (!l || typeof l !== 'object') return null;
  const { threads, children } = l as Record<string, unknown>;
  const parts = [
    typeof threads === 'number' && threads > 0 ? `${Math.floor(threads)} thread(s)` : null,
    children === true ? 'child process(es)' : null,
  ].filter(Boolean);
  return parts.length ? parts.join(' and ') : null;
}

/**
 * The runtime's response frame, checked field by field (never trusted: a
 * broken or subverted runtime could have written it). The output is cut to
 * the output cap here whatever the frame says (call-budget.ts).
 */
export function fromFrame(f: Frame): Omit<RunnerResultPayload, 'callId' | 'durationMs' | 'cpuMs' | 'peakMemoryBytes'> {
  const kept = capText(typeof f.output === 'string' ? f.output : '', OUTPUT_MAX_BYTES);
  const output = kept.text;
  const outputTruncated = f.outputTruncated === true || kept.cut;
  if (f.ok === true && f.result && typeof f.result === 'object' && !Array.isArray(f.result)) {
    const problem = notNormalForm(f.result as Record<string, unknown>) ?? notSends(f.sends);
    if (problem === null) {
      const sends = f.sends as OutgoingMessage[] | undefined;
      return { ok: true, result: f.result as Record<string, unknown>, error: null, output, outputTruncated, ...(sends?.length ? { sends } : {}) };
    }
    // Tenant code can write a whole frame onto the channel fd before the runtime answers
    // (test/security "forged frame"): a result the runtime's normalising would never produce is
    // not the runtime's, so it is refused like any other protocol violation.
    return { ok: false, result: null, error: { code: 'KB_ERR_SANDBOX_CRASHED', message: `${MISUSE}: a result the runtime does not produce (${problem})`, line: null }, output, outputTruncated };
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
  const explanation = explanationOf(e.explanation);
  if (explanation) error.explanation = explanation;
  return { ok: false, result: null, error, output, outputTruncated };
}

/** The runtime's explanation, checked like the rest of the frame (strings, capped); null when there is none. */
function explanationOf(raw: unknown): ErrorExplanation | null {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const { message, hint } = raw as Record<string, unknown>;
  if (typeof message !== 'string' || !message) return null;
  return { message: message.slice(0, EXPLANATION_MAX), hint: typeof hint === 'string' && hint ? hint.slice(0, EXPLANATION_MAX) : null };
}

/** The runtime's limits on a normalised result (sandbox-image/runtime/kbrt/result.py). */
const TEXT_MAX_BYTES = 64 * 1024;
const MAX_BUTTONS = 20;
const RESULT_KEYS = new Set(['type', 'text', 'buttons', 'url', 'image_base64', 'format']);

/** Null when `r` is in the runtime's normal form (sandbox-image/README.md, "Results"), else what is wrong. */
/** What the runtime's outbox produces (domaeka/_outbox.py): absent, or up to SENDS_MAX {room, text} of bounded strings. */
export function notSends(v: unknown): string | null {
  if (v === undefined) return null;
  if (!Array.isArray(v) || v.length > SENDS_MAX) return 'sends';
  const bad = v.find(
    (m) =>
      !m ||
      typeof m !== 'object' ||
      Object.keys(m as object).some((k) => k !== 'room' && k !== 'text') ||
      !boundedText((m as OutgoingMessage).room, 100) ||
      !boundedText((m as OutgoingMessage).text, 4000),
  );
  return bad === undefined ? null : 'a sent message';
}

function boundedText(v: unknown, max: number): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= max;
}

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
