import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { REPLY_GRACE_MS, roomMessageFor } from '@domaeka/core';
import { CALL_OVERHEAD_MS } from '../../services/dispatcher/src/targets/sandbox-target.js';
import { waitFor } from '../support/wait.js';
import { report, startRig, type Rig, type SandboxContainer } from './support.js';

/**
 * kill -9 the sandbox runner while tenant Python runs (issue 3): every
 * message is answered exactly once in its room, by its Python (a runner
 * ran it) or with the Korean text of KB_ERR_NO_RUNNER / KB_ERR_SANDBOX_CRASHED
 * (none silently dropped), and no answer comes after the call's deadline
 * plus the caller's grace. A second runner with another id, started right
 * after the kill, reaps the dead one's containers and takes the new calls;
 * killed in turn and started again under its own id, it reaps its earlier
 * life's containers and keeps only its own.
 */
const SLEEPY = `
import time

def handle_command(params):
    time.sleep(1)
    return "응답 " + params["parameters"][0]
`;

const TIMEOUT_MS = 5000; // the free plan's maximum and the command default
/** Sweep period of the caller and the reply's trip to the phone, on top of the caller's own grace. */
const DELIVERY_SLACK_MS = 1000;
/** The latest a reply may reach its room after the phone sent the message. */
const LATEST_MS = TIMEOUT_MS + CALL_OVERHEAD_MS + REPLY_GRACE_MS + DELIVERY_SLACK_MS;

const NO_RUNNER = roomMessageFor('KB_ERR_NO_RUNNER');
const CRASHED = roomMessageFor('KB_ERR_SANDBOX_CRASHED');

type Outcome = 'ok' | 'KB_ERR_NO_RUNNER' | 'KB_ERR_SANDBOX_CRASHED' | 'other';

describe('chaos: runner killed with sandbox calls in flight', () => {
  let rig: Rig;
  const tag = randomBytes(3).toString('hex');
  const runnerA = `chaos-a-${tag}`;
  const runnerB = `chaos-b-${tag}`;
  const runnerEnv = (id: string) => ({ RUNNER_ID: id, RUNNER_POOL_SIZE: '2', RUNNER_POOL_PROFILES: 'free:256:0.5' });

  beforeAll(async () => {
    rig = await startRig('runner-kill', {
      phones: 2,
      sandbox: { runnerEnv: runnerEnv(runnerA), command: '파이썬', pattern: '^파이썬\\s+(\\S+)$', code: SLEEPY },
    });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('answers every call once (its answer or a Korean error), never late, and reaps the dead runner’s containers', async () => {
    onTestFailed(() => rig.dumpLogs());
    const started = Date.now();
    const { platform, rooms } = rig;
    const say = (id: string) => rig.sendInRoom(id, `파이썬 ${id}`);
    const outcome = (id: string): Outcome => {
      const text = rooms.of(id)[0]?.text;
      return text === `응답 ${id}` ? 'ok' : text === NO_RUNNER ? 'KB_ERR_NO_RUNNER' : text === CRASHED ? 'KB_ERR_SANDBOX_CRASHED' : 'other';
    };
    const byOutcome = (list: string[]) => Object.fromEntries((['ok', 'KB_ERR_NO_RUNNER', 'KB_ERR_SANDBOX_CRASHED', 'other'] as const).map((o) => [o, list.filter((id) => outcome(id) === o).length]));
    const allIds: string[] = [];
    const sendAll = (list: string[]) => {
      for (const id of list) {
        allIds.push(id);
        say(id);
      }
    };

    // 1. Six calls at runner A (the free plan runs two of a tenant at once, 1 s each); kill -9 once two are answered.
    const first = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    sendAll(first);
    await waitFor(() => first.filter((id) => outcome(id) === 'ok').length >= 2, { timeoutMs: 30_000, what: 'two answers from runner A' });
    const beforeKill = await rig.containers();
    await platform.kill('runner');
    const killedAt = Date.now();
    const leftByA = await rig.containers();

    // 2. Right after the kill: calls to a runner whose queue is gone, while runner B starts (~a call every 400 ms).
    const during: string[] = [];
    let streaming = true;
    const stream = (async () => {
      for (let i = 1; streaming && i <= 60; i++) {
        during.push(`b${i}`);
        sendAll([`b${i}`]);
        await new Promise((r) => setTimeout(r, 400)); // pacing the chat, not waiting on anything
      }
    })();
    await platform.start('runner', runnerEnv(runnerB));
    const reapedByB = await rig.metric('runner', /^kb_runner_orphans_reaped_total/);
    // The stream goes on until runner B has answered one of its calls.
    await waitFor(() => during.some((id) => outcome(id) === 'ok'), { timeoutMs: 30_000, what: 'runner B answers' });
    streaming = false;
    await stream;
    // B works through what the stream gave it (two at a time) before the next batch.
    await waitFor(() => rooms.answered(during) === during.length, { timeoutMs: 30_000, what: 'the stream answered' });

    // 3. Runner B busy with four calls; kill -9 it once one is answered, start it again under the same id.
    const second = ['c1', 'c2', 'c3', 'c4'];
    sendAll(second);
    await waitFor(() => second.some((id) => outcome(id) === 'ok'), { timeoutMs: 30_000, what: 'an answer from runner B' });
    const bIds = [...during, ...second];
    const bAnsweredBeforeMetrics = bIds.filter((id) => outcome(id) === 'ok').length; // heard before the runs are read
    // One scrape: a run finishing between two scrapes would count in `runs` and not in `ok`.
    const bMetrics = await rig.metrics('runner', {
      ok: /^kb_runner_runs_total\{[^}]*result="ok"/,
      runs: /^kb_runner_runs_total/,
      refusedExpired: /^kb_runner_calls_expired_total/,
    });
    await platform.kill('runner');
    const leftByB = await rig.containers();
    await platform.start('runner', runnerEnv(runnerB));
    const reapedByB2 = await rig.metric('runner', /^kb_runner_orphans_reaped_total/);
    const afterRestart = await rig.containers();

    // 4. The restarted runner answers.
    sendAll(['d1']);
    await waitFor(() => rooms.of('d1').length > 0, { timeoutMs: 30_000, what: 'd1 answered' });
    await waitFor(() => rooms.answered(allIds) === allIds.length, { timeoutMs: 60_000, what: 'every call answered' });
    await rig.quiet(); // nothing left in any queue of ours: only now are doubles conclusive

    // What each room got, and each call's log row.
    const db = new pg.Client({ connectionString: rig.env.databaseUrl });
    await db.connect();
    const logged = new Map<string, (string | null)[]>();
    try {
      const { rows } = await db.query<{ request_data: string | null; error_code: string | null }>('select request_data, error_code from kb_api_logs');
      for (const r of rows) {
        const id = String((JSON.parse(r.request_data ?? '{}') as { parameters?: string[] }).parameters?.[0] ?? '?');
        logged.set(id, [...(logged.get(id) ?? []), r.error_code]);
      }
    } finally {
      await db.end();
    }
    const late = allIds.filter((id) => rooms.of(id).some((r) => r.at - rooms.sentAt.get(id)! > LATEST_MS));
    const ownsOf = (list: SandboxContainer[], runner: string) => list.filter((c) => c.runner === runner);
    report('runner-kill', {
      sent: allIds.length,
      first: byOutcome(first),
      during: byOutcome(during),
      second: byOutcome(second),
      d1: outcome('d1'),
      containersOfABeforeKill: ownsOf(beforeKill, runnerA).length,
      leftByA: leftByA.length,
      reapedByB,
      leftByB: leftByB.length,
      reapedByB2,
      afterRestart: afterRestart.map((c) => `${c.role}/${c.state}`),
      runnerB: bMetrics,
      late: late.length,
      maxReplyMs: Math.max(...allIds.map((id) => rooms.of(id)[0]!.at - rooms.sentAt.get(id)!)),
      restartMs: Date.now() - killedAt,
      durationMs: Date.now() - started,
    });

    // Every call answered exactly once in its room: its own answer, or one of the two Korean errors.
    for (const id of allIds) {
      expect({ id, replies: rooms.of(id).length }).toEqual({ id, replies: 1 });
      expect({ id, outcome: outcome(id) }).not.toEqual({ id, outcome: 'other' });
      // ... and logged once, with the code the room heard.
      const code = outcome(id) === 'ok' ? null : outcome(id);
      expect({ id, logged: logged.get(id) }).toEqual({ id, logged: [code] });
    }
    // Runner A answered before the kill and the calls it held were answered for it (crashed).
    expect(byOutcome(first).ok).toBeGreaterThanOrEqual(2);
    expect(byOutcome(first).KB_ERR_SANDBOX_CRASHED).toBeGreaterThanOrEqual(1);
    // Calls while no runner lived were refused at once, then runner B took them.
    expect(byOutcome(during).KB_ERR_NO_RUNNER).toBeGreaterThanOrEqual(1);
    expect(outcome(during[during.length - 1]!)).toBe('ok');
    expect(outcome('d1')).toBe('ok');
    // Never after the deadline: no reply later than deadline + grace ...
    expect(late).toEqual([]);
    // ... and B's runs (read just before its kill) lie between the answers heard then and those heard in the end:
    // nothing it ran went unanswered, and it ran nothing twice.
    expect(bMetrics.ok).toBeGreaterThanOrEqual(bAnsweredBeforeMetrics);
    expect(bMetrics.ok).toBeLessThanOrEqual(bIds.filter((id) => outcome(id) === 'ok').length);
    expect(bMetrics.runs).toBe(bMetrics.ok);

    // Orphans: B (another id) removed every container A left; B started again removed those of its earlier life.
    // (A listing taken at a kill may still show a container the dead runner's last `docker rm` was removing.)
    expect(ownsOf(leftByA, runnerA).length).toBeGreaterThan(0);
    expect(reapedByB).toBeGreaterThan(0);
    expect(reapedByB).toBeLessThanOrEqual(leftByA.length);
    expect(ownsOf(leftByB, runnerA)).toEqual([]);
    expect(reapedByB2).toBeGreaterThan(0);
    expect(reapedByB2).toBeLessThanOrEqual(leftByB.length);
    const oldInstances = new Set(leftByB.map((c) => c.instance));
    expect(afterRestart.filter((c) => oldInstances.has(c.instance) || c.runner !== runnerB)).toEqual([]);
    const now = await rig.containers();
    expect(now.filter((c) => oldInstances.has(c.instance) || c.runner !== runnerB)).toEqual([]);
    expect(new Set(now.map((c) => c.instance)).size).toBe(1);
  });
});
