import type { RunnerProfile } from '@domaeka/broker';
import { grid } from './sandbox-report.js';
import { runTimedCalls, type OpFigures, type TimedCallsSpec } from './timed-data-calls.js';

/**
 * sandbox-store (issue 15): what a store call costs tenant code. A premium
 * tenant's dedicated container runs a command that times `store.set` and
 * `store.get` one after another inside Python (`time.perf_counter_ns`
 * around the call: the domaeka module's checks and JSON, the data socket,
 * the runner, PostgreSQL and back), each request asking the runner for
 * the database's own time of it (`dbMs`: the runner's pool.query around
 * the same statement). Per op: the round trip, the database's time and
 * their difference per request (what the store adds on top of the
 * database; target p50 <= 1 ms), p50/p99. Calls of ROUNDS_PER_CALL sets
 * and gets each (under the 1,000 store calls a run may make), until
 * `calls` samples of each op.
 */

const PREMIUM: RunnerProfile = { name: 'premium', memoryMb: 512, cpus: 1, timeoutMaxMs: 30_000, maxConcurrency: 8, storeMaxKeys: 100_000, storeMaxBytes: 100 * 1024 * 1024 };
const ROUNDS_PER_CALL = 400;
const TARGET_OVERHEAD_P50_MS = 1;

/** Tenant code: `rounds` sets then `rounds` gets over 100 keys; [round trip us, database us] per request. */
const CODE = `
import json, time
from domaeka import store, _link

def handle_command(params):
    rounds = int(params["parameters"][0])
    _link.timed = True
    out = {"set": [], "get": []}
    clock = time.perf_counter_ns
    for i in range(rounds):
        value = {"n": i, "이름": "사과", "재고": [i, i + 1]}
        t0 = clock()
        store.set("bench:%d" % (i % 100), value)
        t1 = clock()
        out["set"].append([(t1 - t0) // 1000, round(_link.link.last_db_ms * 1000)])
    for i in range(rounds):
        t0 = clock()
        store.get("bench:%d" % (i % 100))
        t1 = clock()
        out["get"].append([(t1 - t0) // 1000, round(_link.link.last_db_ms * 1000)])
    return json.dumps(out, separators=(",", ":"))
`;

export interface StoreCallsResult {
  name: 'sandbox-store';
  /** Samples asked for per op. */
  calls: number;
  sent: number;
  received: number;
  lost: number;
  doubled: null;
  /** store.get's round trip (the headline row of a before/after comparison). */
  p50Ms: number | null;
  p99Ms: number | null;
  ops: { set: OpFigures; get: OpFigures };
  targetOverheadP50Ms: number;
  meetsTarget: boolean | null;
  errors: string[];
}

export type StoreCallsSpec = TimedCallsSpec;

export async function runStoreCalls(spec: StoreCallsSpec): Promise<StoreCallsResult> {
  const t = await runTimedCalls(spec, { name: 'sandbox-store', module: 'store', ops: ['set', 'get'], tenantName: '벤치 저장소', profile: PREMIUM, code: CODE, roundsPerCall: ROUNDS_PER_CALL });
  return {
    name: 'sandbox-store',
    calls: spec.calls,
    sent: t.sent,
    received: t.received,
    lost: t.sent - t.received,
    doubled: null,
    p50Ms: t.ops.get.p50Ms,
    p99Ms: t.ops.get.p99Ms,
    ops: t.ops,
    targetOverheadP50Ms: TARGET_OVERHEAD_P50_MS,
    meetsTarget: t.meets(TARGET_OVERHEAD_P50_MS),
    errors: t.errors,
  };
}

const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(3));

function storeResult(others: { name: string }[]): StoreCallsResult | undefined {
  return others.find((o): o is StoreCallsResult => o.name === 'sandbox-store');
}

/** A row per op, and the verdict against the target. */
export function storeTable(others: { name: string }[]): string {
  const r = storeResult(others);
  if (!r) return '';
  const rows = (['set', 'get'] as const).map((op) => {
    const f = r.ops[op];
    return [`store.${op}`, String(f.samples), fmt(f.p50Ms), fmt(f.p99Ms), fmt(f.dbP50Ms), fmt(f.dbP99Ms), fmt(f.overheadP50Ms), fmt(f.overheadP99Ms)];
  });
  const verdict = r.meetsTarget === null ? '?' : r.meetsTarget ? 'met' : 'NOT met';
  return `${grid(['store call (tenant code)', 'samples', 'p50ms', 'p99ms', 'db p50', 'db p99', 'on top p50', 'on top p99'], rows)}
store call on top of the database's own time, p50 <= ${r.targetOverheadP50Ms} ms: ${verdict}${r.errors.length ? ` (errors: ${r.errors.join('; ')})` : ''}`;
}

/** `summary.store`: each op's figures and the verdict. */
export function storeSummary(others: { name: string }[]): { store?: { ops: StoreCallsResult['ops']; targetOverheadP50Ms: number; meetsTarget: boolean | null } } {
  const r = storeResult(others);
  return r ? { store: { ops: r.ops, targetOverheadP50Ms: r.targetOverheadP50Ms, meetsTarget: r.meetsTarget } } : {};
}
