import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { adminDatabaseUrl } from '../support/env.js';
import { waitFor } from '../support/wait.js';
import { SERVICES, ids, report, startRig, type Rig } from './support.js';

const execFileP = promisify(execFile);
/** The scenario itself: PostgreSQL stays down this long. */
const OUTAGE_MS = 20_000;

/** The local cluster (`/etc/postgresql/<version>/main`). */
function pgVersion(): string {
  const versions = readdirSync('/etc/postgresql').filter((v) => /^\d+$/.test(v));
  if (versions.length === 0) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  return versions.sort((a, b) => Number(b) - Number(a))[0]!;
}

const pgctl = (action: 'start' | 'stop') => execFileP('pg_ctlcluster', ['--skip-systemctl-redirect', pgVersion(), 'main', action]);

async function pgAnswers(): Promise<boolean> {
  const c = new pg.Client({ connectionString: adminDatabaseUrl('postgres'), connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Starts PostgreSQL if it is down and waits until it answers: the rest of the machine depends on it. */
async function ensurePostgres(): Promise<void> {
  if (await pgAnswers()) return;
  await pgctl('start').catch(() => undefined); // "already running" is fine
  await waitFor(() => pgAnswers(), { timeoutMs: 60_000, intervalMs: 250, what: 'PostgreSQL answers' });
}

/**
 * PostgreSQL stopped for 20 s mid-stream (this file runs last in the serial
 * chaos group, and restarts PostgreSQL in `finally` whatever happens). The
 * gateway keeps publishing for devices it already counted; the dispatcher
 * reports not-ready and holds the events it has (unacked, retried, never
 * nacked: nothing burns its delivery limit). Once PostgreSQL is back every
 * message is answered, once, and nothing was dead-lettered.
 */
describe('chaos: PostgreSQL stopped for 20 s', () => {
  let rig: Rig;

  beforeAll(async () => {
    await ensurePostgres();
    rig = await startRig('postgres-stop', { phones: 5, stubDelayMs: 5 });
  });
  afterAll(async () => {
    await ensurePostgres();
    await rig?.close();
  });

  it('holds everything while the database is down and answers it all once it is back', async () => {
    onTestFailed(() => rig.dumpLogs());
    const started = Date.now();
    const list = ids(1, 3000);
    const { tracker, tap } = rig;

    // ~30 s of chat at 100 msg/s: before, during and after the outage.
    const stream = rig.stream(list, 100);
    let answeredAtStop = 0;
    let answeredDuringOutage = 0;
    let acceptedDuringOutage = 0;
    let stoppedAt = 0;
    let outageMs = 0;
    try {
      await waitFor(() => tracker.answered(list) >= 200, { timeoutMs: 60_000, what: '200 answers before the stop' });
      await pgctl('stop');
      stoppedAt = Date.now();
      answeredAtStop = tracker.answered(list);
      const acceptedAtStop = tap.logIds.size;
      await waitFor(async () => !(await rig.ready('dispatcher')), { what: 'dispatcher reports not ready' });
      await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - stoppedAt))); // the outage is the scenario
      answeredDuringOutage = tracker.answered(list) - answeredAtStop;
      acceptedDuringOutage = tap.logIds.size - acceptedAtStop;
    } finally {
      if (stoppedAt) outageMs = Date.now() - stoppedAt;
      await ensurePostgres();
    }
    const restartedAt = Date.now();

    await stream.done;
    await waitFor(() => tracker.answered(list) === list.length, { timeoutMs: 120_000, what: 'every message answered' });
    const catchUpMs = Date.now() - restartedAt;
    await waitFor(async () => (await Promise.all(SERVICES.map((s) => rig.ready(s)))).every(Boolean), {
      timeoutMs: 60_000,
      what: 'every service ready again',
    });
    await rig.quiet();

    const o = tracker.outcome(list);
    const dead = await tap.deadLettered();
    report('postgres-stop', {
      sent: o.sent,
      answered: o.answered,
      lost: o.lost.length,
      doubled: o.doubled.length,
      deadLettered: dead,
      answeredAtStop,
      // Answers already on their way (replies published before the stop) may still arrive; no more.
      answeredDuringOutage,
      acceptedDuringOutage,
      outageMs,
      catchUpMs,
      stray: tracker.stray.length,
      durationMs: Date.now() - started,
    });
    // The gateway went on publishing for its counted phones (~100 msg/s for 20 s) without the database.
    expect(acceptedDuringOutage).toBeGreaterThanOrEqual(1000);
    expect(dead).toBe(0);
    expect(o.lost).toEqual([]);
    expect(o.doubled).toEqual([]);
    expect(tracker.stray).toEqual([]);
  });
});
