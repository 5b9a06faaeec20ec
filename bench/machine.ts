import { execFileSync } from 'node:child_process';
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
  };
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

export function gitCommit(): string | null {
  try {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}
