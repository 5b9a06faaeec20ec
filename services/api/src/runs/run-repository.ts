import { Command, EgressDomain, Plan, Run, Tenant } from '../db/entities/index.js';
import type { Orm } from '../db/em.js';
import { admitRun, type AdmittedRun, type NewRun } from './run-limits.js';

/**
 * The one rule for a run nobody will finish: still queued/running when its
 * deadline (`deadline_at`; rows from before it existed: created_at + the
 * plan's longest timeout + the RPC overhead) is more than the grace behind.
 * Conditional on the status, so with N API processes each run is swept
 * once, and never over an end the holder wrote first.
 */
export const SWEEP_SQL = `
  update kb_runs r set status = 'failed', error = cast(? as jsonb), finished_at = now()
    from tenants t join plans p on p.id = t.plan_id
   where t.id = r.tenant_id
     and r.status in ('queued','running')
     and coalesce(r.deadline_at, r.created_at + make_interval(secs => (p.timeout_max_ms + ?) / 1000.0)) < now() - make_interval(secs => ?)
     and (cast(? as uuid) is null or r.id = cast(? as uuid))
  returning r.id`;

export const PURGE_THROTTLE_SQL = `
  delete from kb_throttle where ctid in (
    select ctid from kb_throttle where minute < now() - make_interval(days => ?) limit ?)`;

/** Where a run may still be written: a sweeper that ended it first keeps its word. */
const UNFINISHED = { $in: ['queued', 'running'] as Run['status'][] };

/**
 * Test runs (`kb_runs`) and what starting one reads: the command, the
 * plan, the egress allowlist. What a caller asks for takes the tenant id
 * first; the run's own life (status writes, the sweep, the purge) goes by
 * run id, as the process that holds a run or sweeps lost ones writes it.
 */
export class RunRepository {
  constructor(private readonly orm: Orm) {}

  /** A command of the tenant that is not deleted. */
  liveCommand(tenantId: string, commandId: number): Promise<Command | null> {
    return this.orm.em.fork().findOne(Command, { id: commandId, tenantId, deletedAt: null });
  }

  /** The tenant's plan, and its egress allowlist (by name) when the plan allows egress. */
  async planAndEgress(tenantId: string): Promise<{ plan: Plan; egress: string[] | undefined }> {
    const em = this.orm.em.fork();
    const tenant = await em.findOneOrFail(Tenant, { id: tenantId });
    const plan = await em.findOneOrFail(Plan, { id: tenant.planId });
    const egress = plan.network === 'allowlist' ? (await em.find(EgressDomain, { tenantId }, { orderBy: { domain: 'asc' } })).map((d) => d.domain) : undefined;
    return { plan, egress };
  }

  /** Inserts the run `queued` when the plan's per-minute and at-once limits let it (run-limits.ts), else 429. */
  admit(run: NewRun): Promise<AdmittedRun> {
    return admitRun(this.orm.em.fork(), run);
  }

  get(tenantId: string, id: string): Promise<Run | null> {
    return this.orm.em.fork().findOne(Run, { id, tenantId });
  }

  /** The rows of these runs (all of this process's, swept or just ended: the id is enough). */
  byIds(ids: string[]): Promise<Run[]> {
    return this.orm.em.fork().find(Run, { id: { $in: ids } });
  }

  /** queued -> running, when the call is sent. */
  async markRunning(runId: string): Promise<void> {
    await this.orm.em.fork().nativeUpdate(Run, { id: runId, status: 'queued' }, { status: 'running' });
  }

  /** Writes the run's end over queued/running only. */
  async end(runId: string, done: Partial<Run>): Promise<void> {
    await this.orm.em.fork().nativeUpdate(Run, { id: runId, status: UNFINISHED }, done);
  }

  /** Ends the tenant's run now with `ended`, if it is still queued/running; the row as it is then (null: none) and whether this call ended it. */
  async stop(tenantId: string, id: string, ended: Partial<Run>): Promise<{ run: Run | null; stopped: boolean }> {
    const em = this.orm.em.fork();
    const n = await em.nativeUpdate(Run, { id, tenantId, status: UNFINISHED }, ended);
    return { run: await em.findOne(Run, { id, tenantId }, { refresh: true }), stopped: n > 0 };
  }

  /** The row as the database has it now (null when it cannot be read). */
  async reread(runId: string): Promise<Run | null> {
    return this.orm.em.fork().findOne(Run, { id: runId }, { refresh: true });
  }

  /** Ends every lost run, or only `runId`, with `error`; the ids ended. */
  async sweepLost(error: object, overheadMs: number, graceSec: number, runId: string | null): Promise<string[]> {
    const rows = await this.orm.em.fork().execute<{ id: string }[]>(SWEEP_SQL, [JSON.stringify(error), overheadMs, graceSec, runId, runId]);
    return rows.map((r) => r.id);
  }

  /** Deletes at most `batch` kb_throttle rows older than `days`; how many went. */
  async purgeThrottle(days: number, batch: number): Promise<number> {
    const res = await this.orm.em.fork().execute(PURGE_THROTTLE_SQL, [days, batch], 'run');
    return (res as { affectedRows?: number }).affectedRows ?? 0;
  }
}
