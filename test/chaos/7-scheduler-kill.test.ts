import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { ReceivedPacket } from '../support/phone.js';
import { freePort } from '../support/platform.js';
import { waitFor } from '../support/wait.js';
import { report, startRig, type Rig } from './support.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MINUTE = 60_000;
/** Virtual time runs 30x: a schedule of every minute fires every 2 s, with no long sleep. */
const SPEED = 30;

/** A scheduler instance as a child process (what `npm start` runs), on the rig's database and broker prefix. */
class SchedulerProcess {
  child: ChildProcess | null = null;
  readonly lines: string[] = [];
  constructor(
    readonly id: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/scheduler/src/main.ts'], {
      cwd: root,
      env: { ...process.env, ...this.env, SCHEDULER_HTTP_PORT: String(this.port), SCHEDULER_INSTANCE_ID: this.id },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => this.lines.push(...b.toString('utf8').split('\n').filter(Boolean));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    await waitFor(
      async () => {
        if (!this.child) throw new Error(`${this.id} exited: ${this.lines.slice(-20).join('\n')}`);
        return (await fetch(`http://127.0.0.1:${this.port}/readyz`).catch(() => null))?.status === 200;
      },
      { timeoutMs: 60_000, what: `${this.id} ready` },
    );
  }

  async signal(sig: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(sig);
    await gone;
  }

  async metric(re: RegExp): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => !l.startsWith('#') && re.test(l))
      .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  }
}

/**
 * Two scheduler instances fire a schedule of every minute (on a shared
 * virtual clock); the instance holding a fire between its commit and its
 * publish is killed with -9. Every period still fires exactly once: the
 * survivor republishes the fire the dead one claimed, the dispatcher runs
 * each event once, and the phone reads one `scheduleMessage` per period.
 */
describe('chaos: the scheduler doing the firing killed with -9', () => {
  let rig: Rig;
  let db: pg.Client;
  const schedulers: SchedulerProcess[] = [];
  const calls = new Map<string, number>();
  const received: string[] = [];

  beforeAll(async () => {
    rig = await startRig('scheduler-kill', { phones: 1 });
    rig.stub.on('/sched', (req, res) => {
      const at = String(req.json?.metadata?.schedule?.fire_at ?? '?');
      calls.set(at, (calls.get(at) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: `예약 ${at}` }));
    });
    db = new pg.Client({ connectionString: rig.env.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    for (const s of schedulers) await s.signal('SIGKILL').catch(() => undefined);
    await db?.end().catch(() => undefined);
    await rig?.close();
  });

  const fires = async () =>
    (await db.query<{ fire_at: Date; state: string; claimed_by: string }>(`select fire_at, state, claimed_by from kb_schedule_fires order by fire_at`)).rows;

  it('fires every period exactly once and the phone receives each', async () => {
    onTestFailed(() => {
      rig.dumpLogs();
      for (const s of schedulers) console.log(`--- ${s.id}\n${s.lines.slice(-25).join('\n')}`);
    });
    const started = Date.now();
    const phone = rig.phones[0]!.phone;
    phone.on('packet', (p: ReceivedPacket) => {
      if (p.event === 'scheduleMessage' && p.text !== null) received.push(p.text);
    });
    const command = await rig.tenant.ok<{ id: number }>('POST', '/commands', { command: '예약알림', target: { type: 'http', url: rig.stub.url('/sched') } });
    const room = (await rig.tenant.ok<{ botId: string; channelId: string }[]>('GET', '/schedules/rooms')).find((r) => r.channelId === 'chaos-0')!;
    const schedule = await rig.tenant.ok('POST', '/schedules', { commandId: command.id, phrase: '1분마다', rooms: [{ botId: room.botId, channelId: room.channelId }], input: '알림' });
    expect(schedule.cron).toBe('* * * * *');

    // Virtual time reaches the schedule's first period 2 virtual seconds after the anchor, which
    // leaves the schedulers 15 s to start: none comes up to find periods already missed.
    const anchor = Date.now() + 15_000;
    const env = {
      ...rig.platform.env,
      SCHEDULER_TEST_CLOCK: `${anchor},${Date.parse(schedule.nextFireAt) - 2000},${SPEED}`,
      SCHEDULER_TICK_MS: '100',
      // 1 s of real time: a fire left claimed by a dead instance is published again soon after.
      SCHEDULER_REPUBLISH_AFTER_MS: String(SPEED * 1000),
      // The gap between commit and publish, held open 400 ms so the kill lands inside it.
      SCHEDULER_TEST_PUBLISH_DELAY_MS: '400',
    };
    for (const id of ['sched-a', 'sched-b']) schedulers.push(new SchedulerProcess(id, await freePort(), env));
    await Promise.all(schedulers.map((s) => s.start()));

    // A few periods with both running.
    await waitFor(async () => (await fires()).filter((f) => f.state === 'published').length >= 3, { timeoutMs: 30_000, what: '3 periods fired' });
    // The instance doing the firing, caught between its commit and its publish.
    const caught = await waitFor(async () => (await fires()).find((f) => f.state === 'claimed'), { timeoutMs: 30_000, intervalMs: 20, what: 'a fire claimed, not yet published' });
    const victim = schedulers.find((s) => s.id === caught.claimed_by)!;
    await victim.signal('SIGKILL');
    const killedAt = Date.now();
    const orphan = caught.fire_at.toISOString();

    // The survivor republishes the orphan and keeps firing alone.
    await waitFor(async () => (await fires()).find((f) => f.fire_at.toISOString() === orphan)?.state === 'published', { timeoutMs: 30_000, what: 'the orphaned fire republished' });
    const republishedAfterMs = Date.now() - killedAt;
    const atKill = (await fires()).length;
    await waitFor(async () => (await fires()).length >= atKill + 3, { timeoutMs: 30_000, what: '3 periods by the survivor' });

    // The killed instance comes back; both fire again.
    await victim.start();
    const atRestart = (await fires()).length;
    await waitFor(async () => (await fires()).length >= atRestart + 3, { timeoutMs: 30_000, what: '3 periods after the restart' });
    // Graceful stops finish the tick in hand (nothing left claimed), then nothing more is fired.
    await Promise.all(schedulers.map((s) => s.signal('SIGTERM')));
    await rig.quiet();

    const rows = await fires();
    const periods = rows.map((r) => r.fire_at.getTime());
    const expected = Array.from({ length: rows.length }, (_, i) => periods[0]! + i * MINUTE);
    await waitFor(() => received.length >= rows.length, { timeoutMs: 30_000, what: 'a scheduleMessage per period' });
    const perText = new Map<string, number>();
    for (const t of received) perText.set(t, (perText.get(t) ?? 0) + 1);
    const { rows: logRows } = await db.query<{ n: number }>(`select count(*)::int as n from kb_api_logs where source = 'schedule'`);

    report('scheduler-kill', {
      periods: rows.length,
      claimedBy: Object.fromEntries(['sched-a', 'sched-b'].map((id) => [id, rows.filter((r) => r.claimed_by === id).length])),
      victim: victim.id,
      orphan,
      republishedAfterMs,
      received: received.length,
      doubled: [...perText.values()].filter((n) => n > 1).length,
      targetCalledTwice: [...calls.values()].filter((n) => n > 1).length,
      durationMs: Date.now() - started,
    });
    expect(rows.length).toBeGreaterThanOrEqual(9);
    // Every period once: consecutive minutes, no gap, none skipped, all published.
    expect(periods).toEqual(expected);
    expect(new Set(rows.map((r) => r.state))).toEqual(new Set(['published']));
    expect(rows.map((r) => r.claimed_by).filter((c) => c === victim.id).length).toBeGreaterThan(0);
    // The target ran once per period, the phone read each period once, one log row each.
    expect([...calls.keys()].sort()).toEqual(rows.map((r) => r.fire_at.toISOString()));
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect([...perText.keys()].sort()).toEqual(rows.map((r) => `예약 ${r.fire_at.toISOString()}`));
    expect([...perText.values()].every((n) => n === 1)).toBe(true);
    expect(logRows[0]!.n).toBe(rows.length);
    expect(await rig.tap.deadLettered()).toBe(0);
  });
});
