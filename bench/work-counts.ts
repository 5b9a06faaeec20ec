import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import type { CpuSample } from './probes.js';

/**
 * The work one room message costs, counted rather than timed (issue 19):
 * what RabbitMQ did (its node-wide global counters: messages published,
 * confirmed, routed, dropped as unroutable, delivered, acknowledged), what
 * PostgreSQL did (transactions of the bench database: every autocommit
 * statement is one, so this is the database round trips), the syscalls of
 * every process on the path (/proc/<pid>/io), and CPU milliseconds of all
 * of them together. Divided by the messages answered in the window.
 *
 * The counters come from outside our code, so a baseline side built from
 * an older commit is counted the same way. RabbitMQ's are node-wide: the
 * bench must be the only thing using the broker while it runs (as for its
 * timings). They are read with `rabbitmqctl eval` (a short-lived Erlang VM
 * of ~1 s of CPU), so each reading is taken and awaited outside the CPU
 * window: before the scenario's lead-in and after its replies settled;
 * those counts cover the lead-in too and are divided by its messages as well.
 */

const run = promisify(execFile);

/** RabbitMQ's global counters summed over protocol and queue type. */
export type BrokerCounters = Record<string, number>;

const BROKER_KEYS = [
  'messages_received_total',
  'messages_received_confirm_total',
  'messages_confirmed_total',
  'messages_routed_total',
  'messages_unroutable_dropped_total',
  'messages_unroutable_returned_total',
  'messages_delivered_total',
  'messages_acknowledged_total',
] as const;

/** Sums every `key => number` of rabbit_global_counters:overview() (the map printed by rabbitmqctl eval). */
export function parseGlobalCounters(text: string): BrokerCounters {
  const out: BrokerCounters = {};
  for (const k of BROKER_KEYS) out[k] = 0;
  for (const m of text.matchAll(/([a-z_]+) => (\d+)/g)) {
    const key = m[1]!;
    if (key in out) out[key]! += Number(m[2]);
  }
  return out;
}

/** Null when rabbitmqctl cannot be run here (not root, another machine): the figures are then left out. */
export async function brokerCounters(): Promise<BrokerCounters | null> {
  try {
    const { stdout } = await run('rabbitmqctl', ['eval', 'rabbit_global_counters:overview().'], { timeout: 20_000 });
    return parseGlobalCounters(stdout);
  } catch {
    return null;
  }
}

/** Transactions committed and rolled back in one database so far (the statistics as last flushed by its backends). */
export async function dbTransactions(databaseUrl: string): Promise<number | null> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  try {
    await client.connect();
    await client.query('select pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ n: string }>('select (xact_commit + xact_rollback)::text as n from pg_stat_database where datname = $1', [name]);
    return rows[0] ? Number(rows[0].n) : null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** read + write syscalls of one process (/proc/<pid>/io), or null when it is gone or unreadable. */
function syscallsOf(pid: number): number | null {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const r = /syscr: (\d+)/.exec(io)?.[1];
    const w = /syscw: (\d+)/.exec(io)?.[1];
    return r === undefined || w === undefined ? null : Number(r) + Number(w);
  } catch {
    return null;
  }
}

/** Syscalls per component and process, for the processes a CPU sample found (same components). */
export function sampleSyscalls(cpu: CpuSample): CpuSample {
  const out: CpuSample = {};
  for (const [k, pids] of Object.entries(cpu)) {
    if (k === 'bench') continue;
    const m: Record<number, number> = {};
    for (const pid of Object.keys(pids).map(Number)) {
      const n = syscallsOf(pid);
      if (n !== null) m[pid] = n;
    }
    out[k] = m;
  }
  return out;
}

/** The per-process differences summed per component (a process born in between counts whole). */
function componentDeltas(before: CpuSample, after: CpuSample): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, pids] of Object.entries(after)) {
    let d = 0;
    for (const [pid, v] of Object.entries(pids)) d += v - (before[k]?.[Number(pid)] ?? 0);
    out[k] = d;
  }
  return out;
}

/** What one answered room message cost, on average over a window. */
export interface PerMessage {
  /** CPU ms of every process on the path together (services, RabbitMQ, PostgreSQL, Docker and sandboxes when present; not the bench). */
  cpuMs: number | null;
  cpuMsBy: Record<string, number>;
  /** read+write syscalls per component, and their total. */
  syscalls: number | null;
  syscallsBy: Record<string, number>;
  /** Database transactions (round trips) of the bench database. */
  dbTransactions: number | null;
  /** RabbitMQ: published, publisher confirms, routed to a queue, dropped unroutable, delivered to consumers, acknowledged. */
  broker: { published: number; confirms: number; routed: number; unroutable: number; delivered: number; acked: number } | null;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** CPU and syscall windows cover `answered`; broker and database windows cover `answeredWide` (lead-in included). */
export function perMessage(w: {
  cpu0: CpuSample;
  cpu1: CpuSample;
  sys0: CpuSample;
  sys1: CpuSample;
  answered: number;
  db0: number | null;
  db1: number | null;
  broker0: BrokerCounters | null;
  broker1: BrokerCounters | null;
  answeredWide: number;
}): PerMessage {
  const n = Math.max(1, w.answered);
  const wide = Math.max(1, w.answeredWide);
  const cpu = componentDeltas(w.cpu0, w.cpu1);
  delete cpu.bench;
  const sys = componentDeltas(w.sys0, w.sys1);
  const each = (m: Record<string, number>, scale: number) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, r2((v * scale) / n)]));
  const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  const b0 = w.broker0;
  const b1 = w.broker1;
  const d = (k: (typeof BROKER_KEYS)[number]) => r2(((b1?.[k] ?? 0) - (b0?.[k] ?? 0)) / wide);
  return {
    cpuMs: w.answered > 0 ? r2((sum(cpu) * 1000) / n) : null,
    cpuMsBy: each(cpu, 1000),
    syscalls: w.answered > 0 ? r2(sum(sys) / n) : null,
    syscallsBy: each(sys, 1),
    dbTransactions: w.db0 === null || w.db1 === null ? null : r2((w.db1 - w.db0) / wide),
    broker:
      b0 && b1
        ? {
            published: d('messages_received_total'),
            confirms: d('messages_confirmed_total'),
            routed: d('messages_routed_total'),
            unroutable: d('messages_unroutable_dropped_total'),
            delivered: d('messages_delivered_total'),
            acked: d('messages_acknowledged_total'),
          }
        : null,
  };
}
