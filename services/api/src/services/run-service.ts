import { randomUUID } from 'node:crypto';
import type { LintFinding, RunnerProfile } from '@domaeka/broker';
import { Command, EgressDomain, Plan, Run, Tenant, type Logger, type RunnerClient } from '@domaeka/core';
import { apiErrors } from '../errors.js';
import type { Caller } from './caller.js';
import { checkCode } from './command-rules.js';
import type { Em, Orm } from './orm.js';

/** A lint answer may wait for a container start (empty pool) and the broker hops. */
export const LINT_DEADLINE_MS = 10_000;
/** Beyond the run's own timeout: a container start when the pool is empty, the broker hops (as the dispatcher's CALL_OVERHEAD_MS). */
export const RUN_OVERHEAD_MS = 2000;
/** After the longest deadline a run can have: a run still queued or running then was left by an API process that died. */
const ABANDONED_GRACE_MS = 30_000;

export interface RunInput {
  code: string;
  /** The request dict `handle_command(params)` receives; missing seed fields get defaults. */
  input?: Record<string, unknown>;
  commandId?: number;
}

export interface RunView {
  id: string;
  status: Run['status'];
  result: Record<string, unknown> | null;
  error: { code: string; message: string; line?: number } | null;
  output: string;
  durationMs: number | null;
  cpuMs: number | null;
  peakMemoryBytes: number | null;
  commandId: number | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** Live events of test runs (the socket.io hub implements it). */
export interface RunEvents {
  output(runId: string, seq: number, data: string): void;
  result(run: RunView): void;
}

/**
 * Lint and test runs of tenant code on the sandbox runners, over the same
 * RPC client as the dispatcher (`@domaeka/core` runner-rpc). A run is a
 * `kb_runs` row: inserted `queued`, set `running` when the call is sent,
 * then `succeeded`/`failed` with the runner's answer. The RPC is not
 * awaited by the request (202 + `GET /runs/:id`); an API process that dies
 * in between leaves its row `running`: once no runner can still be on it
 * (the plan's longest timeout, the overhead and a grace have passed), the
 * next `GET /runs/:id` records it failed (`abandoned()`). Each run counts
 * against the plan's daily test runs (429 beyond).
 */
export class RunService {
  private readonly inflight = new Set<Promise<void>>();
  /** Output streamed so far by runs of this process still running (GET /runs/:id shows it; the row gets the full record). */
  private readonly streamed = new Map<string, { seq: number; output: string }>();
  /** Where live events go (the socket.io hub); null: nobody watches. */
  events: RunEvents | null = null;

  constructor(
    private readonly orm: Orm,
    private readonly runners: RunnerClient,
    private readonly logger: Logger,
    /** The tenant's secrets opened: a test run sees the same `os.environ` as the room's call. */
    private readonly secretsOf: (tenantId: string) => Promise<Record<string, string>>,
    /** Test runs count against the plan's `test_runs_per_day` (KST day), apart from room calls. */
    private readonly quota: { countTestRun(tenantId: string): Promise<void> },
  ) {}

  /** The runtime's lint over `code`, in a sandbox container of the tenant's plan. Throws 503 KB_ERR_NO_RUNNER when no runner answers. */
  async lint(caller: Caller, code: string): Promise<LintFinding[]> {
    checkCode(code);
    const { profile } = await this.limitsOf(this.orm.em.fork(), caller.tenantId);
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
    const em = this.orm.em.fork();
    let command: Command | null = null;
    if (input.commandId !== undefined) {
      command = await em.findOne(Command, { id: input.commandId, tenantId: caller.tenantId, deletedAt: null });
      if (!command) throw apiErrors.notFound('command');
    }
    await this.quota.countTestRun(caller.tenantId);
    const { profile, egress } = await this.limitsOf(em, caller.tenantId);
    const secrets = await this.secretsOf(caller.tenantId);
    const id = randomUUID();
    const params = requestDict(input.input ?? {}, command, id);
    const run = em.create(Run, {
      id,
      tenantId: caller.tenantId,
      userId: caller.userId,
      commandId: command?.id ?? null,
      status: 'queued',
      code: input.code,
      input: params,
      result: null,
      error: null,
      output: '',
      durationMs: null,
      cpuMs: null,
      peakMemoryBytes: null,
      createdAt: new Date(),
      finishedAt: null,
      deadlineAt: null,
    });
    await em.flush();
    const timeoutMs = Math.min(command?.timeoutMs ?? profile.timeoutMaxMs, profile.timeoutMaxMs);
    const p = this.execute(run, profile, timeoutMs, secrets, egress)
      .catch((err) => this.logger.error({ runId: id, err: String(err) }, 'test run could not be recorded'))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    return { runId: id };
  }

  async get(caller: Caller, id: string): Promise<RunView> {
    const run = await this.orm.em.fork().findOne(Run, { id, tenantId: caller.tenantId });
    if (!run) throw apiErrors.notFound('run');
    const v = view((run.status === 'queued' || run.status === 'running') && !this.streamed.has(id) ? await this.abandoned(run) : run);
    const live = this.streamed.get(id);
    // Handed to a runner (the row may not say so yet): what it printed so far; the row gets the whole output when it ends.
    if (live && (v.status === 'queued' || v.status === 'running')) {
      v.status = 'running';
      v.output = live.output;
    }
    return v;
  }

  /**
   * A run of no process of ours that no runner can still be on (its API
   * process died before the answer came): recorded failed, so the editor
   * stops waiting. Only a row still queued/running changes (another
   * process may record the real answer first).
   */
  private async abandoned(run: Run): Promise<Run> {
    const em = this.orm.em.fork();
    const tenant = await em.findOneOrFail(Tenant, { id: run.tenantId });
    const plan = await em.findOneOrFail(Plan, { id: tenant.planId });
    const deadline = run.createdAt.getTime() + plan.timeoutMaxMs + RUN_OVERHEAD_MS + ABANDONED_GRACE_MS;
    if (Date.now() < deadline) return run;
    const error = { code: 'KB_ERR_INTERNAL', message: '실행 결과를 받지 못했습니다 (실행 중 서버가 다시 시작됨). 다시 실행해 주세요. / the result never arrived (the API restarted during the run); run it again' };
    const finishedAt = new Date();
    const changed = await em.nativeUpdate(Run, { id: run.id, status: { $in: ['queued', 'running'] } }, { status: 'failed', error, finishedAt });
    if (changed) this.logger.warn({ runId: run.id, tenantId: run.tenantId }, 'test run abandoned by a stopped API process: recorded failed');
    return (await em.findOne(Run, { id: run.id })) ?? run;
  }

  /** Waits for runs in hand to be recorded (stop(): after the RPC client settled them, before the database closes). */
  async settle(): Promise<void> {
    await Promise.all([...this.inflight]);
  }

  private async execute(run: Run, profile: RunnerProfile, timeoutMs: number, secrets: Record<string, string>, egress: string[] | undefined): Promise<void> {
    const em = this.orm.em.fork();
    // Before the status write: output may stream in while it is on its way.
    this.streamed.set(run.id, { seq: 0, output: '' });
    await em.nativeUpdate(Run, { id: run.id }, { status: 'running' });
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
      timeoutMs,
      deadline: Date.now() + timeoutMs + RUN_OVERHEAD_MS,
    });
    const done: Partial<Run> = { finishedAt: new Date() };
    if (outcome.kind === 'failed') {
      Object.assign(done, { status: 'failed', error: { code: outcome.code, message: outcome.message } });
    } else {
      const r = outcome.result;
      const error = r.error ? { code: r.error.code, message: r.error.message, ...(r.error.line != null ? { line: r.error.line } : {}) } : null;
      Object.assign(done, {
        status: r.ok ? 'succeeded' : 'failed',
        result: r.ok ? r.result : null,
        error: r.ok ? null : (error ?? { code: 'KB_ERR_SANDBOX_CRASHED', message: 'the runner answered neither a result nor an error' }),
        output: r.outputTruncated ? `${r.output}\n[output truncated]` : r.output,
        durationMs: Math.round(r.durationMs),
        cpuMs: r.cpuMs,
        peakMemoryBytes: r.peakMemoryBytes,
      });
    }
    await em.nativeUpdate(Run, { id: run.id }, done);
    this.streamed.delete(run.id);
    if (this.events) {
      const row = await em.findOne(Run, { id: run.id }, { refresh: true });
      if (row) this.events.result(view(row));
    }
  }

  /** A chunk the run printed (runner telemetry): kept for late joiners and passed on, in order. */
  liveOutput(runId: string, seq: number, data: string): void {
    const s = this.streamed.get(runId);
    if (!s || seq < s.seq) return; // not a run of ours still running, or a duplicate
    s.seq = seq + 1;
    s.output = (s.output + data).slice(0, 256 * 1024);
    this.events?.output(runId, seq, data);
  }

  /** The plan's limits, and the tenant's egress allowlist when the plan allows egress. */
  private async limitsOf(em: Em, tenantId: string): Promise<{ profile: RunnerProfile; egress: string[] | undefined }> {
    const tenant = await em.findOneOrFail(Tenant, { id: tenantId });
    const plan = await em.findOneOrFail(Plan, { id: tenant.planId });
    const egress = plan.network === 'allowlist' ? (await em.find(EgressDomain, { tenantId }, { orderBy: { domain: 'asc' } })).map((d) => d.domain) : undefined;
    return {
      profile: { name: plan.id, memoryMb: plan.memoryMb, cpus: Number(plan.cpus), timeoutMaxMs: plan.timeoutMaxMs, maxConcurrency: plan.maxConcurrency },
      egress,
    };
  }
}

/**
 * The seed's request dict (as the dispatcher builds it for a room call),
 * from what the editor gave: missing fields get test defaults, `raw_text`
 * is the command and its parameters when not given.
 */
export function requestDict(given: Record<string, unknown>, command: Command | null, runId: string): Record<string, unknown> {
  const commandWord = typeof given.command === 'string' ? given.command : (command?.command ?? '테스트');
  const parameters = Array.isArray(given.parameters) ? given.parameters.map(String) : [];
  const givenMeta = given.metadata && typeof given.metadata === 'object' && !Array.isArray(given.metadata) ? (given.metadata as Record<string, unknown>) : {};
  return {
    ...given,
    command: commandWord,
    parameters,
    raw_text: typeof given.raw_text === 'string' ? given.raw_text : [commandWord, ...parameters].join(' '),
    sender: typeof given.sender === 'string' ? given.sender : '테스트 사용자',
    room: typeof given.room === 'string' ? given.room : '테스트방',
    channel_id: typeof given.channel_id === 'string' ? given.channel_id : 'test',
    metadata: { timestamp: new Date().toISOString(), device_id: 'test', bot: 'test', event_id: runId, ...givenMeta },
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
