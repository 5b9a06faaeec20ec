import type { RunnerProfile } from '@domaeka/broker';

/** The plan columns a sandbox run is limited by (`plans` row). */
export interface SandboxPlan {
  id: string;
  memoryMb: number;
  /** `numeric(4,2)`: a driver may hand it over as text. */
  cpus: number | string;
  timeoutMaxMs: number;
  maxConcurrency: number;
  /** The key-value store's quotas (`store_max_keys`; `store_max_bytes` is bigint: a driver may hand it over as text). */
  storeMaxKeys: number;
  storeMaxBytes: number | string;
  /** The tables' limits (`db_max_bytes` is bigint: text from a driver; `db_max_rows`, `db_statement_timeout_ms`). */
  dbMaxBytes: number | string;
  dbMaxRows: number;
  dbStatementTimeoutMs: number;
}

/**
 * The runner profile of a plan: the same for a room call (dispatcher) and a
 * lint or test run (API), so a test runs in the container the room would.
 * The plan id names the runner's pool.
 */
export function sandboxProfile(plan: SandboxPlan): RunnerProfile {
  return {
    name: plan.id,
    memoryMb: plan.memoryMb,
    cpus: Number(plan.cpus),
    timeoutMaxMs: plan.timeoutMaxMs,
    maxConcurrency: plan.maxConcurrency,
    storeMaxKeys: plan.storeMaxKeys,
    storeMaxBytes: Number(plan.storeMaxBytes),
    dbMaxBytes: Number(plan.dbMaxBytes),
    dbMaxRows: plan.dbMaxRows,
    dbStatementTimeoutMs: plan.dbStatementTimeoutMs,
  };
}
