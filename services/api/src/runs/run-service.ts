import { randomUUID } from 'node:crypto';
import type { LintFinding, RpcOutcome, RunnerClient, RunnerProfile } from '@domaeka/broker';
import type { RunView } from '@domaeka/broker/contracts';
import { storableJson, storableText, type Logger } from '@domaeka/core';
import { sandboxProfile } from '@domaeka/calls';
import type { Command, Run } from '../db/entities/index.js';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import { checkCode } from '../commands/command-rules.js';
import type { Orm } from '../db/em.js';
import { RunRepository } from './run-repository.js';
import { requestDict } from './test-request.js';
import { RUN_LOST, RunSweeper } from './run-sweeper.js';

/** A lint answer may wait for a container start (empty pool) and the broker hops. */
export const LINT_DEADLINE_MS = 10_000;
/** Beyond the run's own timeout: a container start when the pool is empty, the broker hops (as the dispatcher's CALL_OVERHEAD_MS). */
export const RUN_OVERHEAD_MS = 2000;
/** What the live output of a run keeps for GET /runs/:id and late joiners (the row gets the runner's whole record). */
const STREAMED_MAX_CHARS = 256 * 1024;

/** How a run stopped with ⏹ ends. Korean first. */
export const RUN_STOPPED = {
  code: 'KB_ERR_RUN_STOPPED',
  message: '실행을 멈췄습니다. 결과는 버립니다. / the run was stopped; its result is discarded',
};

export interface RunInput {
  code: string;
  /** The request dict `handle_command(params)` receives; missing seed fields get defaults. */
  input?: Record<string, unknown>;
  commandId?: number;
}

/** Live events of test runs (the socket.io hub implements it). */
export interface RunEvents {
  output(runId: string, seq: number, data: string): void;
  result(run: RunView): void;
}

/**
 * Lint and test runs of tenant code on the sandbox runners, over the same
 * RPC client as the dispatcher (`@domaeka/core` runner-rpc). A run is a
 * `kb_runs` row: inserted `queued` with its `deadline_at` (admitted by the
 * plan's per-minute and at-once limits, run-limits.ts), set `running` when
 * the call is sent, then `succeeded`/`failed` with the runner's answer,
 * its text made storable (a NUL printed by tenant code would fail the
 * write). The RPC is not awaited by the request (202 + `GET /runs/:id`);
 * a run whose API process died, or whose end could not be written, is
 * ended by the sweeper (run-sweeper.ts) after its deadline. Each run also
 * counts against the plan's daily test runs (429 beyond).
 */
export class RunService {
  private readonly inflight = new Set<Promise<void>>();
  /** Output streamed so far by runs of this process still running (GET /runs/:id shows it; the row gets the full record). */
  private readonly streamed = new Map<string, { seq: number; output: string }>();
  /** Where live events go (the socket.io hub); null: nobody watches. */
  events: RunEvents | null = null;
  /** Ends runs nobody will finish; started and stopped with the API. */
  readonly sweeper: RunSweeper;
  private readonly runs: RunRepository;

  constructor(
    orm: Orm,
    private readonly runners: RunnerClient,
    private readonly logger: Logger,
    /** The tenant's secrets opened: a test run sees the same `os.environ` as the room's call. */
    private readonly secretsOf: (tenantId: string) => Promise<Record<string, string>>,
    /** Test runs count against the plan's `test_runs_per_day` (KST day), apart from room calls. */
    private readonly quota: { countTestRun(tenantId: string): Promise<void> },
  ) {
    this.runs = new RunRepository(orm);
    this.sweeper = new RunSweeper(orm, logger, RUN_OVERHEAD_MS, (ids) => this.announce(ids));
  }

  /** The runtime's lint over `code`, in a sandbox container of the tenant's plan. Throws 503 KB_ERR_NO_RUNNER when no runner answers. */
  async lint(caller: Caller, code: string): Promise<LintFinding[]> {
    checkCode(code);
    const { profile } = await this.limitsOf(caller.tenantId);
    const outcome = await this.runners.call({
      op: 'lint',
      tenantId: caller.tenantId,
      commandId: null,
      mode: 'ephemeral',
      profile,
      code,
      codeVersion: 'lint',
      params: {},
      timeoutMs: Math.min(LINT_DEADLINE_MS, profile.timeoutMaxMs),
      deadline: Date.now() + LINT_DEADLINE_MS,
    });
    if (outcome.kind === 'failed') throw apiErrors.noRunner(`${outcome.code}: ${outcome.message}`);
    const r = outcome.result;
    if (!r.ok || !r.findings) throw apiErrors.noRunner(r.error ? `${r.error.code}: ${r.error.message}` : 'the runner gave no findings');
    return r.findings;
  }

  /** For saves: throws 400 KB_ERR_LINT (first finding in the message, all in details) or 503 KB_ERR_NO_RUNNER. */
  async assertClean(caller: Caller, code: string): Promise<void> {
    const findings = await this.lint(caller, code);
    if (findings.length) throw apiErrors.lint(findings);
  }

  async start(caller: Caller, input: RunInput): Promise<{ runId: string }> {
    checkCode(input.code);
    let command: Command | null = null;
    if (input.commandId !== undefined) {
      command = await this.runs.liveCommand(caller.tenantId, input.commandId);
      if (!command) throw apiErrors.notFound('command');
    }
    // The daily quota first, as before: it counts every run asked for, refused ones too.
    await this.quota.countTestRun(caller.tenantId);
    const { profile, egress } = await this.limitsOf(caller.tenantId);
    const secrets = await this.secretsOf(caller.tenantId);
    const timeoutMs = Math.min(command?.timeoutMs ?? profile.timeoutMaxMs, profile.timeoutMaxMs);
    const id = randomUUID();
    const params = storableJson(requestDict(input.input ?? {}, command?.command, id));
    const row = { id, tenantId: caller.tenantId, userId: caller.userId, commandId: command?.id ?? null, code: input.code, input: params };
    // 429 KB_ERR_RATE_LIMITED beyond the plan's per-minute or at-once limit; else the row is in, queued.
    const { createdAt, deadlineAt } = await this.runs.admit({ ...row, deadlineMs: timeoutMs + RUN_OVERHEAD_MS });
    const run: Run = {
      ...row,
      status: 'queued',
      result: null,
      error: null,
      output: '',
      durationMs: null,
      cpuMs: null,
      peakMemoryBytes: null,
      createdAt,
      finishedAt: null,
      deadlineAt,
    };
    const p = this.execute(run, profile, timeoutMs, secrets, egress)
      .catch((err) => this.logger.error({ runId: id, err: String(err) }, 'test run could not be recorded; the sweeper ends it'))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    return { runId: id };
  }

  async get(caller: Caller, id: string): Promise<RunView> {
    let run = await this.runs.get(caller.tenantId, id);
    if (!run) throw apiErrors.notFound('run');
    // Not held here and past its deadline: the sweeper's rule now rather than at its next pass.
    if ((run.status === 'queued' || run.status === 'running') && !this.streamed.has(id) && (await this.sweeper.sweep(id)).length) {
      run = (await this.runs.get(caller.tenantId, id)) ?? run;
    }
    const v = view(run);
    const live = this.streamed.get(id);
    // Handed to a runner (the row may not say so yet): what it printed so far; the row gets the whole output when it ends.
    if (live && (v.status === 'queued' || v.status === 'running')) {
      v.status = 'running';
      v.output = live.output;
    }
    return v;
  }

  /**
   * ⏹ in the editor: the run ends now, `failed` with KB_ERR_RUN_STOPPED
   * (and what it printed so far, when this process holds it), and its
   * watchers hear it. Whatever the runner answers later is not written:
   * ends are written over queued/running only. The call itself is not
   * interrupted (nothing reaches a runner once a call is sent): its code
   * runs out its time limit in the sandbox, as the editor says. A run that
   * already ended answers as it ended.
   */
  async stop(caller: Caller, id: string): Promise<RunView> {
    const printed = this.streamed.get(id)?.output ?? '';
    const { run, stopped } = await this.runs.stop(caller.tenantId, id, { status: 'failed', error: RUN_STOPPED, output: printed, finishedAt: new Date() });
    if (!run) throw apiErrors.notFound('run');
    if (stopped) {
      this.streamed.delete(id);
      this.events?.result(view(run));
    }
    return view(run);
  }

  /** Swept runs: their end to this process's watchers (editors on other processes poll GET /runs/:id). */
  private async announce(ids: string[]): Promise<void> {
    for (const id of ids) this.streamed.delete(id);
    if (!this.events) return;
    const rows = await this.runs.byIds(ids);
    for (const r of rows) this.events.result(view(r));
  }

  /** Waits for runs in hand to be recorded (stop(): after the RPC client settled them, before the database closes). */
  async settle(): Promise<void> {
    await Promise.all([...this.inflight]);
  }

  private async execute(run: Run, profile: RunnerProfile, timeoutMs: number, secrets: Record<string, string>, egress: string[] | undefined): Promise<void> {
    // Before the status write: output may stream in while it is on its way.
    this.streamed.set(run.id, { seq: 0, output: '' });
    try {
      await this.runs.markRunning(run.id);
    } catch (err) {
      // Nothing sent yet: the run ends here, told as lost (the database refused or is away).
      return this.end(run, { status: 'failed', error: RUN_LOST, finishedAt: new Date() }, err);
    }
    const outcome = await this.runners.call({
      tenantId: run.tenantId,
      commandId: run.commandId === null ? null : String(run.commandId),
      mode: 'ephemeral',
      profile,
      code: run.code,
      codeVersion: `run:${run.id}`,
      // The run id names the call, so the runner's live telemetry (output, stats) finds the run's watchers.
      callId: run.id,
      live: true,
      params: run.input,
      secrets,
      // A test run reaches what the room's call would: the allowlist, on a plan with egress.
      ...(egress ? { egress } : {}),
      // Refused as a save would refuse the code (KB_ERR_LINT, the lint's words), not run: 실행 and 저장 agree.
      lint: true,
      timeoutMs,
      deadline: Date.now() + timeoutMs + RUN_OVERHEAD_MS,
    });
    await this.end(run, endOf(outcome));
  }

  /**
   * Writes the run's end (only over queued/running: a sweeper that ended
   * it first keeps its word) and tells the watchers. A write that fails
   * (the database away, a value it refuses) records the run failed with
   * KB_ERR_RUN_LOST instead; if even that fails the sweeper ends it later.
   * The watchers hear an end either way.
   */
  private async end(run: Run, done: Partial<Run>, earlier?: unknown): Promise<void> {
    let ended: Partial<Run> = done;
    try {
      if (earlier) throw earlier;
      await this.runs.end(run.id, done);
    } catch (err) {
      this.logger.error({ runId: run.id, err: String(err) }, 'test run end could not be written; recording it lost');
      ended = { status: 'failed', error: RUN_LOST, finishedAt: new Date(), output: done.output ?? '' };
      await this.runs
        .end(run.id, { status: 'failed', error: RUN_LOST, finishedAt: ended.finishedAt })
        .catch((e: unknown) => this.logger.error({ runId: run.id, err: String(e) }, 'test run could not be recorded failed either; the sweeper will'));
    } finally {
      this.streamed.delete(run.id);
    }
    if (!this.events) return;
    const row = await this.runs.reread(run.id).catch(() => null);
    this.events.result(view(row && row.status !== 'queued' && row.status !== 'running' ? row : { ...run, ...ended }));
  }

  /** A chunk the run printed (runner telemetry): kept for late joiners and passed on, in order. */
  liveOutput(runId: string, seq: number, data: string): void {
    const s = this.streamed.get(runId);
    if (!s || seq < s.seq) return; // not a run of ours still running, or a duplicate
    s.seq = seq + 1;
    const text = storableText(data);
    s.output = (s.output + text).slice(0, STREAMED_MAX_CHARS);
    this.events?.output(runId, seq, text);
  }

  /** The plan's limits, and the tenant's egress allowlist when the plan allows egress. */
  private async limitsOf(tenantId: string): Promise<{ profile: RunnerProfile; egress: string[] | undefined }> {
    const { plan, egress } = await this.runs.planAndEgress(tenantId);
    return { profile: sandboxProfile(plan), egress };
  }
}

/**
 * The row's end from the runner's answer, every text in it storable:
 * tenant code may print, return or raise NUL (reading `/proc/self/environ`
 * is enough), which PostgreSQL text and jsonb refuse.
 */
function endOf(outcome: RpcOutcome): Partial<Run> {
  const finishedAt = new Date();
  if (outcome.kind === 'failed') return { finishedAt, status: 'failed', error: { code: outcome.code, message: storableText(outcome.message) } };
  const r = outcome.result;
  const error = r.error
    ? {
        code: storableText(r.error.code),
        message: storableText(r.error.message),
        ...(r.error.line != null ? { line: r.error.line } : {}),
        // The runtime's plain-Korean sentence for a common mistake (the editor shows it above the traceback).
        ...(r.error.explanation ? { explanation: { message: storableText(r.error.explanation.message), hint: r.error.explanation.hint === null ? null : storableText(r.error.explanation.hint) } } : {}),
      }
    : null;
  return {
    finishedAt,
    status: r.ok ? 'succeeded' : 'failed',
    result: r.ok ? storableJson(r.result) : null,
    error: r.ok ? null : (error ?? { code: 'KB_ERR_SANDBOX_CRASHED', message: 'the runner answered neither a result nor an error' }),
    output: storableText(r.outputTruncated ? `${r.output}\n[output truncated]` : r.output),
    durationMs: Math.round(r.durationMs),
    cpuMs: r.cpuMs,
    peakMemoryBytes: r.peakMemoryBytes,
  };
}

function view(r: Run): RunView {
  return {
    id: r.id,
    status: r.status,
    result: r.result,
    error: r.error as RunView['error'],
    output: r.output,
    durationMs: r.durationMs,
    cpuMs: r.cpuMs,
    peakMemoryBytes: r.peakMemoryBytes,
    commandId: r.commandId,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
  };
}
