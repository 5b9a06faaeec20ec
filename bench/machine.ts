import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import pg from 'pg';
import { AMQP_URL } from '../test/support/env.js';
import { machineShare, machineTicks } from './probes.js';

/**
 * What a result is comparable by: the machine (cores, versions, how busy
 * it was before the bench started), when PostgreSQL last started (a restart
 * during a run makes it meaningless) and the commit measured.
 */

const r2 = (v: number) => Math.round(v * 100) / 100;

export async function describeMachine() {
  const cpus = os.cpus();
  // What else runs: the whole machine's busy share over 2 s, before we start anything.
  const ticks0 = machineTicks();
  await new Promise((r) => setTimeout(r, 2000));
  const busyBeforeStart = machineShare(ticks0, machineTicks())?.busy ?? null;
  let rabbitmq: string | null = null;
  let postgres: string | null = null;
  let postgresStartedAt: string | null = null;
  try {
    const c = await amqp.connect(AMQP_URL);
    rabbitmq = c.connection.serverProperties.version ?? null;
    await c.close();
  } catch {
    /* reported as null */
  }
  const client = new pg.Client({ connectionString: `${process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432'}/postgres` });
  try {
    await client.connect();
    postgres = (await client.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v;
    postgresStartedAt = await postmasterStart();
  } catch {
    /* reported as null */
  } finally {
    await client.end().catch(() => undefined);
  }
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    rabbitmq,
    postgres,
    postgresStartedAt,
    loadavgAtStart: os.loadavg().map(r2),
    /** Share of all cores busy during the 2 s before the bench started (others' work). */
    busyBeforeStart,
    /** Process-to-process wake-up round trip (see wakeupRoundTrip): higher means every number of the run is worse. */
    wakeup: await wakeupRoundTrip(),
  };
}

/**
 * How quickly this machine hands work from one process to another that
 * sleeps: 2,000 one-byte round trips over pipes to a child process, each
 * after a 1 ms pause so both sides go idle (the message path is a chain of
 * such wake-ups). A single core's speed stayed the same while sandbox
 * latency runs of the same code varied by 2x; this figure moves with it
 * (51-70 us p50 seen on one machine within minutes).
 */
export async function wakeupRoundTrip(calls = 2000): Promise<{ p50Us: number; p99Us: number }> {
  const child = spawn(process.execPath, ['-e', "process.stdin.on('data', (d) => process.stdout.write(d))"], { stdio: ['pipe', 'pipe', 'ignore'] });
  const times: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let t0 = 0;
      const ping = () => {
        t0 = performance.now();
        child.stdin.write('x');
      };
      child.once('error', reject);
      child.stdout.on('data', () => {
        times.push(performance.now() - t0);
        if (times.length >= calls) resolve();
        else setTimeout(ping, 1);
      });
      setTimeout(ping, 200);
    });
  } finally {
    child.kill();
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]! * 1000);
  return { p50Us: at(0.5), p99Us: at(0.99) };
}

/** When PostgreSQL last started: a restart during the run (someone's chaos test) makes its numbers meaningless. */
export async function postmasterStart(): Promise<string | null> {
  const client = new pg.Client({ connectionString: `${process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432'}/postgres` });
  try {
    await client.connect();
    return (await client.query<{ t: Date }>('select pg_postmaster_start_time() as t')).rows[0]!.t.toISOString();
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** HEAD of the tree whose services ran (`--root`, a baseline worktree), else of this checkout. */
export function gitCommit(tree: string | null = null): string | null {
  try {
    const root = tree ?? fileURLToPath(new URL('..', import.meta.url));
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}
