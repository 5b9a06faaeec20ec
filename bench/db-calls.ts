import type { RunnerProfile } from '@domaeka/broker';
import { tenantSchemaName } from '@domaeka/tenant-data';
import { grid } from './sandbox-report.js';
import { runTimedCalls, type OpFigures, type TimedCallsSpec } from './timed-data-calls.js';

/**
 * sandbox-db (issue 15 1b): what a table call costs tenant code. A premium
 * tenant's dedicated container makes a table of 100 rows, then times
 * `db.execute` (an update of one row by key, parameters) and `db.query`
 * (a select of one row by key) one after another inside Python
 * (`time.perf_counter_ns` around the call: the domaeka module's checks,
 * the data socket, the runner's guard parse, PostgreSQL and back), each
 * request asking the runner for the database's own time (`dbMs`: the
 * whole transaction as the runner saw it: begin + set local, the
 * statement, for a write the size check, commit). Per op: round trip,
 * database, and their difference per request (target p50 <= 1 ms).
 */

const PREMIUM: RunnerProfile = { name: 'premium', memoryMb: 512, cpus: 1, timeoutMaxMs: 30_000, maxConcurrency: 8, dbMaxBytes: 200 * 1024 * 1024, dbMaxRows: 5000, dbStatementTimeoutMs: 5000 };
const ROUNDS_PER_CALL = 400;
const TARGET_OVERHEAD_P50_MS = 1;

const CODE = `
import json, time
from domaeka import db, _link

def handle_command(params):
    rounds = int(params["parameters"][0])
    db.execute("create table if not exists 벤치 (k int primary key, 이름 text not null, n int not null default 0)")
    db.execute("insert into 벤치 (k, 이름) select g, '사과' || g from generate_series(0, 99) g on conflict (k) do nothing")
    _link.timed = True
    out = {"execute": [], "query": []}
    clock = time.perf_counter_ns
    for i in range(rounds):
        t0 = clock()
        db.execute("update 벤치 set n = n + $1 where k = $2", [1, i % 100])
        t1 = clock()
        out["execute"].append([(t1 - t0) // 1000, round(_link.link.last_db_ms * 1000)])
    for i in range(rounds):
        t0 = clock()
        db.query("select k, 이름, n from 벤치 where k = $1", [i % 100])
        t1 = clock()
        out["query"].append([(t1 - t0) // 1000, round(_link.link.last_db_ms * 1000)])
    return json.dumps(out, separators=(",", ":"))
`;

export interface DbCallsResult {
  name: 'sandbox-db';
  calls: number;
  sent: number;
  received: number;
  lost: number;
  doubled: null;
  /** db.query's round trip. */
  p50Ms: number | null;
  p99Ms: number | null;
  ops: { execute: OpFigures; query: OpFigures };
  targetOverheadP50Ms: number;
  meetsTarget: boolean | null;
  errors: string[];
}

export type DbCallsSpec = TimedCallsSpec;

export async function runDbCalls(spec: DbCallsSpec): Promise<DbCallsResult> {
  const t = await runTimedCalls(spec, {
    name: 'sandbox-db',
    module: 'db',
    ops: ['execute', 'query'],
    tenantName: '벤치 표',
    profile: PREMIUM,
    code: CODE,
    roundsPerCall: ROUNDS_PER_CALL,
    // Roles are the cluster's, and the bench's database goes at the end: the bench tenant's role goes now.
    cleanup: async (db, tenantId) => {
      const role = tenantSchemaName(tenantId);
      await db.query(`drop schema if exists ${role} cascade`).catch(() => undefined);
      await db.query(`drop owned by ${role}`).catch(() => undefined);
      await db.query(`drop role if exists ${role}`).catch(() => undefined);
    },
  });
  return {
    name: 'sandbox-db',
    calls: spec.calls,
    sent: t.sent,
    received: t.received,
    lost: t.sent - t.received,
    doubled: null,
    p50Ms: t.ops.query.p50Ms,
    p99Ms: t.ops.query.p99Ms,
    ops: t.ops,
    targetOverheadP50Ms: TARGET_OVERHEAD_P50_MS,
    meetsTarget: t.meets(TARGET_OVERHEAD_P50_MS),
    errors: t.errors,
  };
}

const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(3));

function dbResult(others: { name: string }[]): DbCallsResult | undefined {
  return others.find((o): o is DbCallsResult => o.name === 'sandbox-db');
}

export function dbTable(others: { name: string }[]): string {
  const r = dbResult(others);
  if (!r) return '';
  const rows = (['execute', 'query'] as const).map((op) => {
    const f = r.ops[op];
    return [`db.${op}`, String(f.samples), fmt(f.p50Ms), fmt(f.p99Ms), fmt(f.dbP50Ms), fmt(f.dbP99Ms), fmt(f.overheadP50Ms), fmt(f.overheadP99Ms)];
  });
  const verdict = r.meetsTarget === null ? '?' : r.meetsTarget ? 'met' : 'NOT met';
  return `${grid(['table call (tenant code)', 'samples', 'p50ms', 'p99ms', 'db p50', 'db p99', 'on top p50', 'on top p99'], rows)}
table call on top of the database's own time, p50 <= ${r.targetOverheadP50Ms} ms: ${verdict}${r.errors.length ? ` (errors: ${r.errors.join('; ')})` : ''}`;
}

export function dbSummary(others: { name: string }[]): { db?: { ops: DbCallsResult['ops']; targetOverheadP50Ms: number; meetsTarget: boolean | null } } {
  const r = dbResult(others);
  return r ? { db: { ops: r.ops, targetOverheadP50Ms: r.targetOverheadP50Ms, meetsTarget: r.meetsTarget } } : {};
}
