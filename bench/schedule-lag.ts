import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { ReceivedPacket } from '../test/support/phone.js';
import { freePort } from '../test/support/platform.js';
import type { TenantClient } from '../test/support/tenant-client.js';
import { waitFor } from '../test/support/wait.js';
import type { ReplyTracker } from './load.js';
import { runLoad } from './load.js';
import { quantile } from './runner-calls.js';
import { grid } from './sandbox-report.js';
import { COMMAND, type BenchEnv } from './setup.js';

/**
 * schedule-lag (issue 15 item 3): a period due -> its scheduleMessage
 * packet at a bench phone, with the scheduler as production runs it (its
 * default tick, 1000 ms) as a child process on a virtual clock
 * (SCHEDULER_TEST_CLOCK) running `speed` times real time, so a schedule of
 * every minute fires every 60/speed s. A virtual period T is due in real
 * time at anchor + (T - start) / speed; the tick's clock read (the fire
 * row's claimed_at, late_ms) maps back the same way. The command is a
 * fixed reply, so the tenant's own time is ~0. See bench/README.md.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MINUTE = 60_000;
/** Fires due before the scheduler was ready, and this many after, count in no figure (startup, JIT). */
const WARM_FIRES = 2;
const REPLY_TEXT = '벤치 예약 알림 / bench schedule';

export interface ScheduleLagOptions {
  fires: number;
  /** Virtual seconds per real second; 37 puts a minute at 1,621.6 ms, out of step with the 1 s tick. */
  speed: number;
  tickMs: number;
  root: string | null;
  say: (msg: string) => void;
}

type Figures = { p50Ms: number | null; p90Ms: number | null; p99Ms: number | null; maxMs: number | null; meanMs: number | null };

export interface ScheduleLagResult extends Figures {
  name: 'schedule-lag';
  fires: number;
  speed: number;
  tickMs: number;
  realPeriodMs: number;
  sent: number;
  received: number;
  lost: number;
  doubled: number;
  /** due -> the tick's clock read that claimed it (the tick's wait). */
  claim: Figures;
  /** the tick's clock read -> the phone's packet (claim transaction, publish + confirm, dispatcher, gateway, TCP). */
  delivery: Figures;
  /** the tick's clock read -> the fire row marked published (after the broker's confirm; database clock). */
  published: Figures;
  skipped: number;
}

const r2 = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

function figuresOf(xs: number[]): Figures {
  return {
    p50Ms: r2(quantile(xs, 0.5)),
    p90Ms: r2(quantile(xs, 0.9)),
    p99Ms: r2(quantile(xs, 0.99)),
    maxMs: r2(xs.length ? Math.max(...xs) : null),
    meanMs: r2(xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null),
  };
}

function startScheduler(cwd: string, env: Record<string, string>, port: number, lines: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/scheduler/src/main.ts'], {
    cwd,
    env: { ...process.env, ...env, SCHEDULER_HTTP_PORT: String(port), SCHEDULER_INSTANCE_ID: 'bench-scheduler' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (b: Buffer) => lines.push(...b.toString('utf8').split('\n').filter(Boolean));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

export async function runScheduleLag(env: BenchEnv, tracker: ReplyTracker, tenant: TenantClient, o: ScheduleLagOptions): Promise<ScheduleLagResult> {
  const bp = env.phones[0]!;
  // One answered message makes the room a schedule target and the phone its reply route.
  await runLoad([bp], tracker, { key: 'sched-room', rate: 1, durationS: 1, stragglerS: 10, command: COMMAND });
  await tracker.settle();
  const command = await tenant.ok<{ id: number }>('POST', '/commands', { command: '벤치예약', target: { type: 'reply', text: REPLY_TEXT } });
  const room = (await tenant.ok<{ botId: string; channelId: string }[]>('GET', '/schedules/rooms')).find((r) => r.channelId === bp.channelId);
  if (!room) throw new Error(`schedule-lag: room ${bp.channelId} not among GET /schedules/rooms`);
  const schedule = await tenant.ok<{ id: string; nextFireAt: string; cron: string }>('POST', '/schedules', {
    commandId: command.id,
    phrase: '1분마다',
    rooms: [{ botId: room.botId, channelId: room.channelId }],
    input: '벤치',
  });

  const arrivals: number[] = [];
  const onPacket = (p: ReceivedPacket) => {
    if (p.event === 'scheduleMessage' && p.text === REPLY_TEXT) arrivals.push(p.at);
  };
  bp.phone.on('packet', onPacket);

  // Virtual time reads a minute before the first period at `anchor` (10 s from now: the scheduler's start) and
  // runs `speed` x from there. Fires due before the scheduler was ready count in no figure.
  const anchor = Date.now() + 10_000;
  const startMs = Date.parse(schedule.nextFireAt) - MINUTE;
  const toReal = (virtualMs: number) => anchor + (virtualMs - startMs) / o.speed;
  const total = o.fires + WARM_FIRES + 1;
  const lines: string[] = [];
  const port = await freePort();
  o.say(`schedule-lag: scheduler at ${o.speed}x (a minute every ${Math.round(MINUTE / o.speed)} ms real), tick ${o.tickMs} ms, ${o.fires} fires`);
  const child = startScheduler(o.root ?? root, {
    ...env.platform.env,
    SCHEDULER_TEST_CLOCK: `${anchor},${startMs},${o.speed}`,
    SCHEDULER_TICK_MS: String(o.tickMs),
  }, port, lines);
  let exited = false;
  child.once('exit', () => (exited = true));
  const db = new pg.Client({ connectionString: env.databaseUrl });
  await db.connect();
  type Row = { fire_at: Date; state: string; late_ms: number; claimed_at: Date; published_at: Date | null };
  const rows = async () =>
    (await db.query<Row>(`select fire_at, state, late_ms, claimed_at, published_at from kb_schedule_fires where schedule_id = $1 order by fire_at`, [schedule.id])).rows;
  let readyAt = 0;
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`scheduler exited: ${lines.slice(-20).join('\n')}`);
        return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200;
      },
      { timeoutMs: 60_000, what: 'scheduler ready' },
    );
    readyAt = Date.now();
    await waitFor(async () => (await rows()).filter((r) => r.state === 'published').length >= total, {
      timeoutMs: (total * MINUTE) / o.speed + 60_000,
      intervalMs: 500,
      what: `${total} schedule periods fired`,
    });
  } finally {
    const gone = new Promise((r) => child.once('exit', r));
    if (!exited) child.kill('SIGTERM');
    await gone;
  }
  const fired = (await rows()).filter((r) => r.state === 'published');
  const skipped = (await rows()).filter((r) => r.state === 'skipped').length;
  await db.end();
  // Each period's message (the stop ended the firing; wait for the last ones under way).
  await waitFor(() => arrivals.length >= fired.length, { timeoutMs: 15_000, what: 'a scheduleMessage per fired period' }).catch(() => undefined);
  bp.phone.off('packet', onPacket);

  // One room, periods 1.6 s apart and delivered in milliseconds: the k-th packet is the k-th period's
  // (checked: each arrives after its own due time and before the next period's).
  const all = fired.map((r, i) => {
    const due = toReal(r.fire_at.getTime());
    const claim = toReal(r.claimed_at.getTime());
    return { due, claim, published: r.published_at ? r.published_at.getTime() : null, arrived: arrivals[i] ?? null, lateMs: r.late_ms };
  });
  const measured = all.filter((f) => f.due >= readyAt).slice(WARM_FIRES, WARM_FIRES + o.fires);
  const misordered = all.filter((f, i) => f.arrived !== null && (f.arrived < f.due || (all[i + 1] && f.arrived > all[i + 1]!.due + MINUTE / o.speed)));
  if (misordered.length) o.say(`schedule-lag: ${misordered.length} packets out of step with their periods (lost or late): figures may pair wrongly`);
  const got = measured.filter((f) => f.arrived !== null);
  const result: ScheduleLagResult = {
    name: 'schedule-lag',
    fires: o.fires,
    speed: o.speed,
    tickMs: o.tickMs,
    realPeriodMs: r2(MINUTE / o.speed)!,
    sent: measured.length,
    received: got.length,
    lost: measured.length - got.length,
    doubled: Math.max(0, arrivals.length - fired.length),
    ...figuresOf(got.map((f) => f.arrived! - f.due)),
    claim: figuresOf(measured.map((f) => f.lateMs / o.speed)),
    delivery: figuresOf(got.map((f) => f.arrived! - f.claim)),
    published: figuresOf(measured.filter((f) => f.published !== null).map((f) => f.published! - f.claim)),
    skipped,
  };
  o.say(`  schedule-lag: ${result.received}/${result.sent} delivered, due -> phone p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (claim p50 ${result.claim.p50Ms}, delivery p50 ${result.delivery.p50Ms})`);
  return result;
}

export function scheduleLagTable(others: { name: string }[]): string {
  const r = others.find((o): o is ScheduleLagResult => o.name === 'schedule-lag');
  if (!r) return '';
  const f = (v: number | null) => (v === null ? '-' : String(v));
  const row = (name: string, x: Figures) => [name, f(x.p50Ms), f(x.p90Ms), f(x.p99Ms), f(x.maxMs), f(x.meanMs)];
  return `${grid(['schedule fire lag', 'p50ms', 'p90ms', 'p99ms', 'maxms', 'mean'], [row('due -> phone', r), row('  claim (tick wait)', r.claim), row('  delivery', r.delivery), row('  (claim -> published)', r.published)])}
${r.received}/${r.sent} fires delivered (lost ${r.lost}, doubled ${r.doubled}, skipped ${r.skipped}); tick ${r.tickMs} ms, virtual clock ${r.speed}x (a period every ${r.realPeriodMs} ms)`;
}
