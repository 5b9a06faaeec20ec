import type { LintFinding, RunnerCallPayload } from '@domaeka/broker';
import type { Logger } from 'pino';
import type { RunOutcome } from '../sandbox/run-outcome.js';
import type { SandboxPool } from '../sandbox/sandbox-pool.js';
import type { Sandbox } from '../sandbox/sandbox-starter.js';

/** Lint is an AST walk (milliseconds); this bounds a stuck runtime when the caller's deadline is further away. */
const LINT_BUDGET_MS = 5000;
const FINDINGS_MAX = 200;
const MESSAGE_MAX = 4000;

/**
 * `op: 'lint'` calls (DESIGN.md section 5: the lint runs in a sandbox
 * container too). The runtime only parses the code (it is never executed),
 * but the container is still one of the tenant's profile's pool and is
 * destroyed afterwards like an ephemeral run's: one rule for every
 * container that saw tenant input, no "clean after lint" bookkeeping.
 * Answers `ok:true, result:null, findings:[...]` (empty when clean).
 */
export class LintRunner {
  private readonly removals = new Set<Promise<void>>();

  constructor(private readonly d: { pool: SandboxPool; logger: Logger }) {}

  async lint(call: RunnerCallPayload): Promise<RunOutcome> {
    let sandbox;
    try {
      sandbox = (await this.d.pool.acquire(call.profile)).sandbox;
    } catch (err) {
      return failed('KB_ERR_NO_RUNNER', `sandbox unavailable: ${String((err as Error).message ?? err)}`, 0);
    }
    const started = Date.now();
    const budget = Math.max(1, Math.min(LINT_BUDGET_MS, call.deadline - started));
    let timer: NodeJS.Timeout | undefined;
    try {
      const frame = await Promise.race([
        sandbox.channel.request({ op: 'lint', code: call.code }),
        new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), budget))),
      ]);
      const durationMs = Date.now() - started;
      if (!frame) return failed('KB_ERR_TIMEOUT', `the lint gave no answer within ${budget} ms`, durationMs);
      if (frame.ok !== true || !Array.isArray(frame.findings)) {
        const e = (frame.error && typeof frame.error === 'object' ? frame.error : {}) as Record<string, unknown>;
        return failed('KB_ERR_SANDBOX_CRASHED', `the lint failed: ${String(e.message ?? 'no findings in the answer')}`.slice(0, MESSAGE_MAX), durationMs);
      }
      return {
        ok: true,
        result: null,
        error: null,
        output: '',
        outputTruncated: false,
        durationMs,
        cpuMs: null,
        peakMemoryBytes: null,
        findings: (frame.findings as unknown[]).slice(0, FINDINGS_MAX).map(toFinding),
        pooled: null,
      };
    } catch (err) {
      return failed('KB_ERR_SANDBOX_CRASHED', `the sandbox ended during the lint: ${(err as Error).message}`, Date.now() - started);
    } finally {
      clearTimeout(timer);
      this.removeLater(sandbox);
    }
  }

  /** Waits for background removals (stop()). */
  async settle(): Promise<void> {
    await Promise.all([...this.removals]);
  }

  private removeLater(sandbox: Sandbox): void {
    const p = sandbox.destroy().finally(() => this.removals.delete(p));
    this.removals.add(p);
  }
}

/** A finding as the runtime wrote it, checked field by field. */
function toFinding(raw: unknown): LintFinding {
  const f = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const pos = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1);
  return {
    code: 'KB_ERR_LINT',
    message: String(f.message ?? 'lint').slice(0, MESSAGE_MAX),
    line: pos(f.line),
    column: pos(f.column),
  };
}

function failed(code: string, message: string, durationMs: number): RunOutcome {
  return {
    ok: false,
    result: null,
    error: { code, message },
    output: '',
    outputTruncated: false,
    durationMs,
    cpuMs: null,
    peakMemoryBytes: null,
    pooled: null,
  };
}
