import { apiErrors } from '../errors.js';
import type { Em } from '../db/em.js';

/** Which of the plan's test-run limits refused a run (also `kb_throttle.kind`). */
export type RunLimitKind = 'test_runs_per_minute' | 'test_runs_concurrent';

/** The window of `plans.test_runs_per_minute`. */
export const RUN_WINDOW_SEC = 60;

/** A run admitted: the row is in `kb_runs` (`queued`), its times from the database's clock. */
export interface AdmittedRun {
  createdAt: Date;
  deadlineAt: Date;
}

export interface NewRun {
  id: string;
  tenantId: string;
  userId: string | null;
  commandId: number | null;
  code: string;
  input: Record<string, unknown>;
  /** From now until no runner can still be on it (the run's timeout + the RPC overhead). */
  deadlineMs: number;
}

/**
 * The tenant's runs in the window and those still on a runner, read in the
 * statement that takes the plan's limits. A run past its deadline is no
 * longer on any runner (the call expired there) even while its row still
 * says running (an API process that died): it holds no slot.
 */
export const LOAD_SQL = `
  select p.test_runs_per_minute as per_minute, p.test_runs_concurrent as concurrent,
         (select count(*) from kb_runs r
           where r.tenant_id = t.id and r.created_at > now() - make_interval(secs => ?)) as recent,
         (select count(*) from kb_runs r
           where r.tenant_id = t.id and r.status in ('queued','running') and r.deadline_at > now()) as running
    from tenants t join plans p on p.id = t.plan_id
   where t.id = ?`;

/** Seconds until enough runs of the window leave it for one more: the (recent - limit + 1)-th oldest. */
export const WINDOW_WAIT_SQL = `
  select ceil(extract(epoch from (created_at + make_interval(secs => ?) - now()))) as wait
    from kb_runs
   where tenant_id = ? and created_at > now() - make_interval(secs => ?)
   order by created_at asc
   offset ? limit 1`;

/** Seconds until the earliest deadline of the runs in hand: by then at the latest, a slot is free. */
export const SLOT_WAIT_SQL = `
  select ceil(extract(epoch from (min(deadline_at) - now()))) as wait
    from kb_runs
   where tenant_id = ? and status in ('queued','running') and deadline_at > now()`;

export const THROTTLE_SQL = `
  insert into kb_throttle (tenant_id, minute, kind, count) values (?, date_trunc('minute', now()), ?, 1)
  on conflict (tenant_id, minute, kind) do update set count = kb_throttle.count + 1`;

export const INSERT_SQL = `
  insert into kb_runs (id, tenant_id, user_id, command_id, status, code, input, output, created_at, deadline_at)
  values (?, ?, ?, ?, 'queued', ?, cast(? as jsonb), '', now(), now() + make_interval(secs => ?))
  returning created_at, deadline_at`;

/** Two-key form: the first key names this lock's family, so it never meets another advisory lock of ours. */
export const TENANT_RUNS_LOCK_SQL = `select pg_advisory_xact_lock(hashtext('domaeka.test_runs'), hashtext(?))`;

type Refusal = { kind: RunLimitKind; limit: number; retryAfterSec: number };

/**
 * The plan's limits on editor test runs (`plans.test_runs_per_minute`,
 * `plans.test_runs_concurrent`), counted from `kb_runs` itself so every API
 * process shares them (DESIGN.md section 8: nothing shared lives in one
 * process's memory). Check and insert are one transaction under an advisory
 * lock on the tenant: two requests of a tenant racing through several API
 * processes cannot both take the last slot, and other tenants never wait
 * on it. Times are the database's, the one clock the processes share.
 * A refusal is counted in `kb_throttle` (the ops dashboard's "who is
 * throttled") in the same transaction, and throws 429 KB_ERR_RATE_LIMITED.
 */
export async function admitRun(em: Em, run: NewRun): Promise<AdmittedRun> {
  const outcome = await em.transactional(async (tx) => {
    await tx.execute(TENANT_RUNS_LOCK_SQL, [run.tenantId]);
    const [load] = await tx.execute<{ per_minute: number; concurrent: number; recent: string; running: string }[]>(LOAD_SQL, [RUN_WINDOW_SEC, run.tenantId]);
    if (!load) throw apiErrors.unauthenticated();
    const refusal = await refusalOf(tx, run.tenantId, load.per_minute, Number(load.recent), load.concurrent, Number(load.running));
    if (refusal) {
      await tx.execute(THROTTLE_SQL, [run.tenantId, refusal.kind]);
      return refusal;
    }
    const [row] = await tx.execute<{ created_at: Date; deadline_at: Date }[]>(INSERT_SQL, [
      run.id,
      run.tenantId,
      run.userId,
      run.commandId,
      run.code,
      JSON.stringify(run.input),
      run.deadlineMs / 1000,
    ]);
    return { createdAt: new Date(row!.created_at), deadlineAt: new Date(row!.deadline_at) };
  });
  // Thrown after the commit: the refusal's kb_throttle count stays.
  if ('kind' in outcome) throw apiErrors.testRunsLimited(outcome.kind, outcome.limit, outcome.retryAfterSec);
  return outcome;
}

/**
 * Which limit refuses one more run, with how long to wait: the later of the
 * two when both do (coming back sooner would be refused again).
 */
async function refusalOf(tx: Em, tenantId: string, perMinute: number, recent: number, concurrent: number, running: number): Promise<Refusal | null> {
  const refusals: Refusal[] = [];
  if (recent >= perMinute) {
    const [w] = await tx.execute<{ wait: string | null }[]>(WINDOW_WAIT_SQL, [RUN_WINDOW_SEC, tenantId, RUN_WINDOW_SEC, recent - perMinute]);
    refusals.push({ kind: 'test_runs_per_minute', limit: perMinute, retryAfterSec: seconds(w?.wait) });
  }
  if (running >= concurrent) {
    const [w] = await tx.execute<{ wait: string | null }[]>(SLOT_WAIT_SQL, [tenantId]);
    refusals.push({ kind: 'test_runs_concurrent', limit: concurrent, retryAfterSec: seconds(w?.wait) });
  }
  return refusals.sort((a, b) => b.retryAfterSec - a.retryAfterSec)[0] ?? null;
}

/** At least 1 s: `Retry-After: 0` would invite an immediate retry that is refused again. */
function seconds(v: string | number | null | undefined): number {
  const n = Number(v);
  return Number.isFinite(n) ? Math.max(1, Math.ceil(n)) : 1;
}
