import type { RunnerCallPayload } from '@domaeka/broker';
import { FREE_TABLE_LIMITS, type TableLimits } from '@domaeka/tenant-data';
import { storeErrors, type StoreError } from './store-errors.js';

/** A tenant's store quotas, from its call's profile (the plan's `store_max_keys`, `store_max_bytes`). */
export interface StoreLimits {
  maxKeys: number;
  maxBytes: number;
}

/** The free plan's quotas (migration 20261207000020): a profile from a caller that does not send them yet. */
export const DEFAULT_STORE_LIMITS: StoreLimits = { maxKeys: 1000, maxBytes: 1024 * 1024 };

/** Store calls one run may make (`RUNNER_STORE_CALLS_MAX`): a loop in tenant code cannot hammer the database. */
export const DEFAULT_CALLS_PER_RUN = 1000;

/** `tables`: the plan's limits on `from domaeka import db` (services/tenant-data), which shares this admission and budget. */
export type Admission = { ok: true; tenantId: string; limits: StoreLimits; tables: TableLimits } | { ok: false; error: StoreError };

interface CallGrant {
  tenantId: string;
  limits: StoreLimits;
  tables: TableLimits;
  used: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whose store one container may use, and when: only while a call of its
 * tenant runs in it (the egress proxy's model: nobody's while pooled, the
 * call's tenant's after). The runner opens a call's grant when it hands
 * the call to the container and closes it when the answer is in, so a
 * pooled container, or a dedicated container's leftover thread between
 * calls, is refused (`KB_ERR_STORE_NO_CALL`). Each request names its call
 * (the runtime passes on the call's id); a dedicated container may hold
 * several of its tenant's calls written ahead, and each has its own budget
 * of store calls. No credential enters the container: the socket is
 * mounted into this container only, so the runner knows whose it is.
 */
export class StoreGrants {
  private readonly calls = new Map<string, CallGrant>();
  private tenantId: string | null = null;

  constructor(private readonly callsPerRun: number = DEFAULT_CALLS_PER_RUN) {}

  /** The tenant whose calls this container has run (null while pooled). */
  get tenant(): string | null {
    return this.tenantId;
  }

  /** The call now runs (or waits its turn) in this container. */
  open(call: Pick<RunnerCallPayload, 'callId' | 'tenantId' | 'profile'>): void {
    // A container is never shared by two tenants (DESIGN.md section 5); should it ever be, the first one's calls keep it.
    if (this.tenantId !== null && this.tenantId !== call.tenantId) return;
    this.tenantId = call.tenantId;
    if (this.calls.has(call.callId)) return;
    const { storeMaxKeys, storeMaxBytes, dbMaxBytes, dbMaxRows, dbStatementTimeoutMs } = call.profile;
    this.calls.set(call.callId, {
      tenantId: call.tenantId,
      limits: { maxKeys: storeMaxKeys ?? DEFAULT_STORE_LIMITS.maxKeys, maxBytes: storeMaxBytes ?? DEFAULT_STORE_LIMITS.maxBytes },
      tables: {
        maxBytes: dbMaxBytes ?? FREE_TABLE_LIMITS.maxBytes,
        maxRows: dbMaxRows ?? FREE_TABLE_LIMITS.maxRows,
        statementTimeoutMs: dbStatementTimeoutMs ?? FREE_TABLE_LIMITS.statementTimeoutMs,
      },
      used: 0,
    });
  }

  /** The call was answered (or left this container): its requests are refused from now on. */
  close(callId: string): void {
    this.calls.delete(callId);
  }

  /** A request claiming to belong to `call`: admitted (and counted against its call's budget), or why not. */
  admit(call: unknown): Admission {
    const grant = typeof call === 'string' ? this.calls.get(call) : undefined;
    if (!grant) return { ok: false, error: storeErrors.noCall() };
    // Tenants of the platform have uuids; a call of anything else (a runner test's made-up tenant) has no store.
    if (!UUID.test(grant.tenantId)) return { ok: false, error: storeErrors.unavailable('this call has no platform tenant') };
    if (grant.used >= this.callsPerRun) return { ok: false, error: storeErrors.budget(this.callsPerRun) };
    grant.used++;
    return { ok: true, tenantId: grant.tenantId, limits: grant.limits, tables: grant.tables };
  }
}
