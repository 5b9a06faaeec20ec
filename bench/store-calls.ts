import { createLogger } from '@domaeka/core';
import { connectBroker, RunnerClient, type RunnerProfile } from '@domaeka/broker';
import pg from 'pg';
import { AMQP_URL } from '../test/support/env.js';
import { waitFor } from '../test/support/wait.js';
import { quantile } from './runner-calls.js';
import { grid } from './sandbox-report.js';

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

export interface StoreOpFigures {
  samples: number;
  /** Round trip of the call in tenant code. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** The database's own time for the same requests, measured in the runner. */
  dbP50Ms: number | null;
  dbP99Ms: number | null;
  /** Round trip minus the database's time, per request: what the store's path adds. */
  overheadP50Ms: number | null;
  overheadP99Ms: number | null;
}

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
  ops: { set: StoreOpFigures; get: StoreOpFigures };
  targetOverheadP50Ms: number;
  meetsTarget: boolean | null;
  errors: string[];
}

const round = (v: number | null, digits = 3) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

export function figures(pairs: [number, number][]): StoreOpFigures {
  const ms = (us: number) => us / 1000;
  const rtt = pairs.map(([r]) => ms(r));
  const db = pairs.map(([, d]) => ms(d));
  const over = pairs.map(([r, d]) => ms(r - d));
  return {
    samples: pairs.length,
    p50Ms: round(quantile(rtt, 0.5)),
    p99Ms: round(quantile(rtt, 0.99)),
    dbP50Ms: round(quantile(db, 0.5)),
    dbP99Ms: round(quantile(db, 0.99)),
    overheadP50Ms: round(quantile(over, 0.5)),
    overheadP99Ms: round(quantile(over, 0.99)),
  };
}

export interface StoreCallsSpec {
  calls: number;
  databaseUrl: string;
  brokerPrefix: string;
  runnerId: string;
  say: (msg: string) => void;
}

export async function runStoreCalls(spec: StoreCallsSpec): Promise<StoreCallsResult> {
  const logger = createLogger('bench-store', 'warn');
  const db = new pg.Client({ connectionString: spec.databaseUrl });
  await db.connect();
  const broker = await connectBroker({ url: AMQP_URL, prefix: spec.brokerPrefix, name: 'bench-store', logger });
  const client = new RunnerClient(broker.conn, broker.publisher, spec.brokerPrefix, logger);
  await client.start();
  const pairs: { set: [number, number][]; get: [number, number][] } = { set: [], get: [] };
  const errors: string[] = [];
  let sent = 0;
  let received = 0;
  try {
    // A tenant of its own, premium: its calls run in one dedicated container (a warm module, one open data socket).
    const tenantId = (await db.query<{ id: string }>(`insert into tenants (id, name, plan_id) values (gen_random_uuid(), '벤치 저장소', 'premium') returning id`)).rows[0]!.id;
    await waitFor(() => client.registry.candidates().some((r) => r.runnerId === spec.runnerId), { timeoutMs: 15_000, what: `runner ${spec.runnerId} heartbeat` });
    const call = async (rounds: number) => {
      const outcome = await client.call({
        tenantId,
        commandId: 'store-bench',
        mode: 'dedicated',
        profile: PREMIUM,
        code: CODE,
        codeVersion: 'store-bench:1',
        params: { command: 'store', parameters: [String(rounds)], raw_text: `store ${rounds}`, sender: '벤치', room: '벤치방', channel_id: '1', metadata: {} },
        timeoutMs: 30_000,
        deadline: Date.now() + 32_000,
      });
      if (outcome.kind === 'result' && outcome.result.ok && typeof outcome.result.result?.text === 'string') return JSON.parse(outcome.result.result.text) as typeof pairs;
      errors.push(outcome.kind === 'failed' ? `${outcome.code}: ${outcome.message}` : JSON.stringify(outcome.result.error));
      return null;
    };
    // Warm: the container started, the module loaded, the socket and the runner's pool connections open.
    await call(50);
    const calls = Math.ceil(spec.calls / ROUNDS_PER_CALL);
    spec.say(`sandbox-store: ${calls} calls of ${ROUNDS_PER_CALL} store.set + ${ROUNDS_PER_CALL} store.get each, timed inside Python`);
    for (let i = 0; i < calls; i++) {
      const rounds = Math.min(ROUNDS_PER_CALL, spec.calls - i * ROUNDS_PER_CALL);
      sent += 2 * rounds;
      const got = await call(rounds);
      if (!got) continue;
      pairs.set.push(...got.set);
      pairs.get.push(...got.get);
      received += got.set.length + got.get.length;
    }
    const ops = { set: figures(pairs.set), get: figures(pairs.get) };
    const overheads = [ops.set.overheadP50Ms, ops.get.overheadP50Ms];
    const result: StoreCallsResult = {
      name: 'sandbox-store',
      calls: spec.calls,
      sent,
      received,
      lost: sent - received,
      doubled: null,
      p50Ms: ops.get.p50Ms,
      p99Ms: ops.get.p99Ms,
      ops,
      targetOverheadP50Ms: TARGET_OVERHEAD_P50_MS,
      meetsTarget: overheads.some((o) => o === null) ? null : overheads.every((o) => o! <= TARGET_OVERHEAD_P50_MS),
      errors,
    };
    for (const op of ['set', 'get'] as const) {
      const f = ops[op];
      spec.say(`  store.${op}: round trip p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms; database p50 ${f.dbP50Ms} ms, p99 ${f.dbP99Ms} ms; on top p50 ${f.overheadP50Ms} ms, p99 ${f.overheadP99Ms} ms`);
    }
    return result;
  } finally {
    await client.stop().catch(() => undefined);
    await broker.conn.close().catch(() => undefined);
    await db.end().catch(() => undefined);
  }
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
