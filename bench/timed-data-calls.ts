import { createLogger } from '@domaeka/core';
import { connectBroker, RunnerClient, type RunnerProfile } from '@domaeka/broker';
import pg from 'pg';
import { AMQP_URL } from '../test/support/env.js';
import { waitFor } from '../test/support/wait.js';
import { quantile } from './runner-calls.js';

/**
 * The driver sandbox-store and sandbox-db share: a premium tenant of its
 * own (its calls run in one dedicated container: a warm module, one open
 * data socket), tenant code that times two ops inside Python and answers
 * `{op: [[round trip us, database us], ...]}`, called with ROUNDS_PER_CALL
 * rounds at a time until `calls` samples of each op, after one warm-up
 * call. Per op: round trip, the database's own time, and their difference
 * per request (what the path adds on top of the database).
 */

export interface OpFigures {
  samples: number;
  /** Round trip of the call in tenant code. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** The database's own time for the same requests, measured in the runner. */
  dbP50Ms: number | null;
  dbP99Ms: number | null;
  /** Round trip minus the database's time, per request: what the path adds. */
  overheadP50Ms: number | null;
  overheadP99Ms: number | null;
}

export interface TimedCallsSpec {
  calls: number;
  databaseUrl: string;
  brokerPrefix: string;
  runnerId: string;
  say: (msg: string) => void;
}

export interface TimedCallsOptions<Op extends string> {
  /** The scenario (`sandbox-store`), for the log and what is said. */
  name: string;
  /** How the ops read in what is said (`store`: `store.set`). */
  module: string;
  ops: readonly [Op, Op];
  tenantName: string;
  profile: RunnerProfile;
  code: string;
  roundsPerCall: number;
  /** With the platform's database, after the calls (a table tenant's schema and role go: roles are the cluster's). */
  cleanup?: (db: pg.Client, tenantId: string) => Promise<void>;
}

export interface TimedCalls<Op extends string> {
  sent: number;
  received: number;
  ops: Record<Op, OpFigures>;
  /** Both ops' on-top p50 within `targetMs` (null when an op has no sample). */
  meets(targetMs: number): boolean | null;
  errors: string[];
}

const round = (v: number | null, digits = 3) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

export function figures(pairs: [number, number][]): OpFigures {
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

export async function runTimedCalls<Op extends string>(spec: TimedCallsSpec, o: TimedCallsOptions<Op>): Promise<TimedCalls<Op>> {
  const logger = createLogger(`bench-${o.module}`, 'warn');
  const db = new pg.Client({ connectionString: spec.databaseUrl });
  await db.connect();
  const broker = await connectBroker({ url: AMQP_URL, prefix: spec.brokerPrefix, name: `bench-${o.module}`, logger });
  const client = new RunnerClient(broker.conn, broker.publisher, spec.brokerPrefix, logger);
  await client.start();
  const pairs = Object.fromEntries(o.ops.map((op) => [op, [] as [number, number][]])) as Record<Op, [number, number][]>;
  const errors: string[] = [];
  let sent = 0;
  let received = 0;
  let tenantId = '';
  try {
    tenantId = (await db.query<{ id: string }>(`insert into tenants (id, name, plan_id) values (gen_random_uuid(), $1, 'premium') returning id`, [o.tenantName])).rows[0]!.id;
    await waitFor(() => client.registry.candidates().some((r) => r.runnerId === spec.runnerId), { timeoutMs: 15_000, what: `runner ${spec.runnerId} heartbeat` });
    const call = async (rounds: number) => {
      const outcome = await client.call({
        tenantId,
        commandId: `${o.module}-bench`,
        mode: 'dedicated',
        profile: o.profile,
        code: o.code,
        codeVersion: `${o.module}-bench:1`,
        params: { command: o.module, parameters: [String(rounds)], raw_text: `${o.module} ${rounds}`, sender: '벤치', room: '벤치방', channel_id: '1', metadata: {} },
        timeoutMs: 30_000,
        deadline: Date.now() + 32_000,
      });
      if (outcome.kind === 'result' && outcome.result.ok && typeof outcome.result.result?.text === 'string') return JSON.parse(outcome.result.result.text) as typeof pairs;
      errors.push(outcome.kind === 'failed' ? `${outcome.code}: ${outcome.message}` : JSON.stringify(outcome.result.error));
      return null;
    };
    // Warm: the container, the module, the data socket, the runner's pool connections (and a table's schema and the parser).
    await call(50);
    const calls = Math.ceil(spec.calls / o.roundsPerCall);
    spec.say(`${o.name}: ${calls} calls of ${o.roundsPerCall} ${o.ops.map((op) => `${o.module}.${op}`).join(' + ')} each, timed inside Python`);
    for (let i = 0; i < calls; i++) {
      const rounds = Math.min(o.roundsPerCall, spec.calls - i * o.roundsPerCall);
      sent += o.ops.length * rounds;
      const got = await call(rounds);
      if (!got) continue;
      for (const op of o.ops) {
        pairs[op].push(...got[op]);
        received += got[op].length;
      }
    }
    const ops = Object.fromEntries(o.ops.map((op) => [op, figures(pairs[op])])) as Record<Op, OpFigures>;
    for (const op of o.ops) {
      const f = ops[op];
      spec.say(`  ${o.module}.${op}: round trip p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms; database p50 ${f.dbP50Ms} ms, p99 ${f.dbP99Ms} ms; on top p50 ${f.overheadP50Ms} ms, p99 ${f.overheadP99Ms} ms`);
    }
    const overheads = o.ops.map((op) => ops[op].overheadP50Ms);
    return {
      sent,
      received,
      ops,
      meets: (targetMs) => (overheads.some((v) => v === null) ? null : overheads.every((v) => v! <= targetMs)),
      errors,
    };
  } finally {
    if (tenantId && o.cleanup) await o.cleanup(db, tenantId).catch(() => undefined);
    await client.stop().catch(() => undefined);
    await broker.conn.close().catch(() => undefined);
    await db.end().catch(() => undefined);
  }
}
