import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './envelope.js';

/**
 * RPC between the dispatcher and the sandbox runners (DESIGN.md section 6).
 * A call goes to one runner's own exclusive queue through the default
 * exchange (`mandatory`, per-message expiration = what is left until
 * `deadline`, `replyTo` = the caller's reply queue, `correlationId` =
 * `callId`); the result comes back to `replyTo`. Neither is persistent:
 * the deadline is seconds away, a restarted broker or runner must not run
 * or deliver stale work.
 */

/** The limits a call runs under: the tenant's plan row, so a pooled container already has them. */
export const RunnerProfile = Type.Object(
  {
    /** Plan id (`free`, `premium`): names the pool and labels its containers. */
    name: Type.String({ pattern: '^[a-z0-9_-]{1,40}$' }),
    memoryMb: Type.Integer({ minimum: 32, maximum: 65536 }),
    cpus: Type.Number({ exclusiveMinimum: 0, maximum: 64 }),
    timeoutMaxMs: Type.Integer({ minimum: 1, maximum: 600_000 }),
    /** Runs of one tenant at once (per runner). */
    maxConcurrency: Type.Integer({ minimum: 1, maximum: 1000 }),
    /**
     * The tenant's key-value store quotas (`plans.store_max_keys`,
     * `store_max_bytes`): what `from domaeka import store` may hold.
     * Absent (callers from before the store): the free plan's.
     */
    storeMaxKeys: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
    storeMaxBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 ** 4 })),
    /**
     * The tenant's tables' limits (`plans.db_max_bytes`, `db_max_rows`,
     * `db_statement_timeout_ms`): what `from domaeka import db` may hold,
     * return and take. Absent (callers from before the tables): the free plan's.
     */
    dbMaxBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 ** 4 })),
    dbMaxRows: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    dbStatementTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })),
  },
  { additionalProperties: false },
);
export type RunnerProfile = Static<typeof RunnerProfile>;

export const RunnerCallPayload = Type.Object(
  {
    /** Equals the envelope id and the AMQP correlationId. */
    callId: Type.String({ format: 'uuid' }),
    /**
     * `call` (default): run `handle_command(params)`. `lint`: only the
     * runtime's lint over `code` (parsed, never executed) in a sandbox
     * container; `params` is ignored and the answer carries `findings`.
     */
    op: Type.Optional(Type.Union([Type.Literal('call'), Type.Literal('lint')])),
    tenantId: Type.String({ maxLength: 100 }),
    commandId: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]),
    /**
     * `ephemeral`: a pooled container runs this call once and is destroyed.
     * `dedicated`: the tenant's long-lived container on this runner (module
     * state kept between calls, code loaded once per version; DESIGN.md section 5).
     */
    mode: Type.Union([Type.Literal('ephemeral'), Type.Literal('dedicated')]),
    profile: RunnerProfile,
    code: Type.String({ maxLength: 256 * 1024 }),
    /** `<commandId>:<version>`: tells the runtime whether loaded code is current. */
    codeVersion: Type.String({ minLength: 1, maxLength: 200 }),
    /** The seed's request dict handed to `handle_command(params)`. */
    params: Type.Record(Type.String(), Type.Unknown()),
    /**
     * The tenant's secrets (name -> value), put in the code's `os.environ`
     * for this call only. Never logged; absent for lint calls.
     */
    secrets: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** The tenant code's time budget (the runtime's soft timeout; the runner kills a little later). */
    timeoutMs: Type.Integer({ minimum: 1, maximum: 600_000 }),
    /** Epoch ms after which nobody waits for the answer: a runner never starts a call past it. */
    deadline: Type.Integer({ minimum: 0 }),
    /**
     * The tenant's egress domain allowlist (DESIGN.md section 5), present
     * only when its plan allows egress: the runner's proxy lets the code
     * reach these names and nothing else. Absent: no network at all.
     */
    egress: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 50 })),
    /** Publish `runner.stats` and `runner.output` telemetry while the call runs (editor test runs; room calls do not ask). */
    live: Type.Optional(Type.Boolean()),
    /**
     * Lint the code first, as a save does, and refuse it `KB_ERR_LINT`
     * (the first finding's words) without running it: editor test runs
     * ask, so 실행 and 저장 never disagree. Room calls run saved code, linted
     * when it was saved.
     */
    lint: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type RunnerCallPayload = Static<typeof RunnerCallPayload>;
export const RunnerCall = Envelope('runner.call', 1, RunnerCallPayload);
export type RunnerCall = Static<typeof RunnerCall>;

/**
 * A common Python mistake in one plain Korean sentence (naming the line
 * when known) and what to do about it: made by the sandbox runtime
 * (sandbox-image/runtime/kbrt/explain.py), shown by the editor and the logs
 * beside `message` (never to a room).
 */
export const ErrorExplanation = Type.Object(
  {
    message: Type.String({ maxLength: 1000 }),
    hint: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ErrorExplanation = Static<typeof ErrorExplanation>;

export const RunnerError = Type.Object(
  {
    /** KB_ERR_USER_EXCEPTION, KB_ERR_LINT, KB_ERR_TIMEOUT, KB_ERR_MEMORY_LIMIT, KB_ERR_OUTPUT_LIMIT, KB_ERR_INVALID_RESULT, KB_ERR_SANDBOX_CRASHED, KB_ERR_TARGET_FAILED, KB_ERR_STORAGE_QUOTA, ... */
    code: Type.String({ pattern: '^KB_ERR_[A-Z_]+$', maxLength: 60 }),
    message: Type.String({ maxLength: 4000 }),
    /** The innermost tenant line (exceptions, syntax errors). */
    line: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    /** For KB_ERR_TARGET_FAILED (seed form `success:false`): the text the room may get. */
    text: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    explanation: Type.Optional(ErrorExplanation),
  },
  { additionalProperties: false },
);
export type RunnerError = Static<typeof RunnerError>;

/** One lint finding of the sandbox runtime (1-based line and column; message Korean first, English after ' / '). */
export const LintFinding = Type.Object(
  {
    code: Type.Literal('KB_ERR_LINT'),
    message: Type.String({ maxLength: 4000 }),
    line: Type.Integer({ minimum: 1 }),
    column: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type LintFinding = Static<typeof LintFinding>;

/** What `send(room, text)` queued during a call that ended well (sandbox-image/runtime/domaeka/_outbox.py): delivered by the dispatcher. */
export const OutgoingMessage = Type.Object(
  {
    room: Type.String({ minLength: 1, maxLength: 100 }),
    text: Type.String({ minLength: 1, maxLength: 4000 }),
  },
  { additionalProperties: false },
);
export type OutgoingMessage = Static<typeof OutgoingMessage>;
/** The runtime's own cap on messages one call may send (domaeka/_outbox.py SENDS_MAX). */
export const SENDS_MAX = 10;

export const RunnerResultPayload = Type.Object(
  {
    callId: Type.String({ format: 'uuid' }),
    ok: Type.Boolean(),
    /** The runtime's normalised result (`{type, text, buttons?, url?, image_base64?, format?}`) when ok. */
    result: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    error: Type.Union([RunnerError, Type.Null()]),
    /** What the tenant printed (never the result channel), capped. */
    output: Type.String(),
    outputTruncated: Type.Boolean(),
    /** Wall time of the run as the runner saw it. */
    durationMs: Type.Number({ minimum: 0 }),
    /** From the container's cgroup (null when it could not be read, e.g. the container was killed). */
    cpuMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    peakMemoryBytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    /** Only for `op: 'lint'` with `ok: true` (then `result` is null): the findings, empty when the code is clean. */
    findings: Type.Optional(Type.Array(LintFinding, { maxItems: 200 })),
    /** Only with `ok: true`: the messages the code sent to its rooms, in order. */
    sends: Type.Optional(Type.Array(OutgoingMessage, { maxItems: SENDS_MAX })),
  },
  { additionalProperties: false },
);
export type RunnerResultPayload = Static<typeof RunnerResultPayload>;
export const RunnerResult = Envelope('runner.result', 1, RunnerResultPayload);
export type RunnerResult = Static<typeof RunnerResult>;

export const RunnerContainers = Type.Object(
  {
    pool: Type.Integer({ minimum: 0 }),
    ephemeral: Type.Integer({ minimum: 0 }),
    dedicated: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type RunnerContainers = Static<typeof RunnerContainers>;

/** Telemetry: a runner is alive (every ~1 s); three missed beats and callers forget it. */
export const RunnerLane = Type.Object(
  {
    tenantId: Type.String({ maxLength: 100 }),
    running: Type.Integer({ minimum: 0 }),
    waiting: Type.Integer({ minimum: 0 }),
    refused: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type RunnerLane = Static<typeof RunnerLane>;

/** A runner lists at most this many held dedicated tenants in a heartbeat (~80 KB); those past it are placed by rendezvous order. */
export const MAX_PLACEMENT_REPORT = 2000;

export const RunnerHeartbeatPayload = Type.Object(
  {
    runnerId: Type.String({ minLength: 1, maxLength: 100 }),
    /** The runner's exclusive call queue (routing key on the default exchange). */
    queue: Type.String({ minLength: 1, maxLength: 255 }),
    /** Epoch ms; a new value for the same id means the runner restarted. */
    startedAt: Type.Integer({ minimum: 0 }),
    /** Calls it takes at once (its prefetch). */
    capacity: Type.Integer({ minimum: 0 }),
    busy: Type.Integer({ minimum: 0 }),
    /**
     * Containers it holds now (optional: older runners do not send it):
     * `pool` ready pooled ones, `ephemeral` running a call once,
     * `dedicated` tenants' long-lived ones.
     */
    containers: Type.Optional(RunnerContainers),
    /**
     * Tenants held back by the runner's fair share now (optional): calls
     * running, waiting in the tenant's own line, and refused as busy since
     * the last beat. Only tenants with something waiting or refused, the
     * 50 longest lines.
     */
    lanes: Type.Optional(Type.Array(RunnerLane, { maxItems: 50 })),
    /**
     * The tenants whose dedicated container this runner holds now
     * (optional: older runners do not send it), most recently used first,
     * at most MAX_PLACEMENT_REPORT. Callers send a dedicated tenant to the
     * runner that holds it (its module state lives there) before any
     * other: this list is where placement is stored (RunnerRegistry).
     */
    dedicatedTenants: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: MAX_PLACEMENT_REPORT })),
  },
  { additionalProperties: false },
);
export type RunnerHeartbeatPayload = Static<typeof RunnerHeartbeatPayload>;
export const RunnerHeartbeat = Envelope('runner.heartbeat', 1, RunnerHeartbeatPayload);
export type RunnerHeartbeat = Static<typeof RunnerHeartbeat>;

/**
 * Telemetry while a call runs (asked with `live`): the container's CPU
 * and memory, read by the runner from its cgroup several times a second.
 * Routing key `runner.stats.<tenantId>`.
 */
export const RunnerStatsPayload = Type.Object(
  {
    callId: Type.String({ format: 'uuid' }),
    tenantId: Type.String({ maxLength: 100 }),
    /** Since the call was handed to the container. */
    elapsedMs: Type.Number({ minimum: 0 }),
    /** Of one CPU, over the last interval (a 0.5-CPU plan tops out near 50). */
    cpuPercent: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    memoryBytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    /** The memory limit of the call's profile, for a gauge's scale. */
    memoryLimitBytes: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type RunnerStatsPayload = Static<typeof RunnerStatsPayload>;
export const RunnerStats = Envelope('runner.stats', 1, RunnerStatsPayload);
export type RunnerStats = Static<typeof RunnerStats>;

/**
 * Telemetry while a call runs (asked with `live`): what the tenant's code
 * printed, as it printed it (Python-level writes; the result's `output`
 * stays the complete record). Routing key `runner.output.<tenantId>`.
 */
export const RunnerOutputPayload = Type.Object(
  {
    callId: Type.String({ format: 'uuid' }),
    tenantId: Type.String({ maxLength: 100 }),
    /** 0, 1, 2, ... per call, in the order printed. */
    seq: Type.Integer({ minimum: 0 }),
    data: Type.String({ maxLength: 16 * 1024 }),
  },
  { additionalProperties: false },
);
export type RunnerOutputPayload = Static<typeof RunnerOutputPayload>;
export const RunnerOutput = Envelope('runner.output', 1, RunnerOutputPayload);
export type RunnerOutput = Static<typeof RunnerOutput>;
