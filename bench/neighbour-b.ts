import { performance } from 'node:perf_hooks';
import { roomMessages } from '@domaeka/core';
import { connectPhone, type Phone, type ReceivedPacket } from '../test/support/phone.js';
import { TenantClient } from '../test/support/tenant-client.js';
import type { BenchEnv } from './setup.js';

/**
 * Tenant B of noisy-neighbour: a free-plan tenant of its own (signed up over
 * HTTP, its own bot, phones and a slow sandbox command) that floods the
 * platform at and beyond its plan's limits, the way issue 12 found it
 * starving everyone else: test runs of `time.sleep(4)` through `POST /runs`
 * (far faster than its runs per minute and at once), and room calls of a
 * command that sleeps a second (far more than its calls in hand). Counts
 * what B was told: each POST by HTTP status and error code, each room reply
 * by kind (answered, KB_ERR_BUSY, other codes, read back from the room
 * text).
 */

/** B's room command: a second of sleep, then `slow <id>` (the id is the second word). */
export const SLOW_COMMAND = 'slow';
const SLOW_CODE = `import time

def handle_command(params):
    time.sleep(1)
    words = str(params.get("raw_text") or "").split()
    return "slow " + (words[1] if len(words) > 1 else "?")
`;
/** B's test run: longer than a room call, inside the free plan's 5 s limit (issue 12 used 4.5 s). */
export const TEST_RUN_SLEEP_S = 4;
const RUN_CODE = `import time

def handle_command(params):
    time.sleep(${TEST_RUN_SLEEP_S})
    return "done"
`;
const B_PHONES = 4;

/** Room text -> error code, from core's own table (the dispatcher answers errors with these texts). */
const CODE_OF_TEXT = new Map(Object.entries(roomMessages).map(([code, text]) => [text, code]));

/** What a room reply was: `answered` (the command's own answer), an error code, or `unknown`. */
export function replyKind(text: string | null, answered: RegExp): string {
  if (text !== null && answered.test(text)) return 'answered';
  return (text !== null && CODE_OF_TEXT.get(text)) || 'unknown';
}

export interface TestRunCounts {
  sent: number;
  /** `202` or `<status> <code>` (e.g. `429 KB_ERR_RATE_LIMITED`) -> how many. */
  byAnswer: Record<string, number>;
  accepted: number;
  refused: number;
  /** Largest retryAfterSec (or Retry-After) seen on a refusal. */
  maxRetryAfterSec: number | null;
  /** How the accepted runs ended (`succeeded`, `failed KB_ERR_TIMEOUT`, ... `unfinished` when still going at the end). */
  outcomes: Record<string, number>;
}

export interface RoomCallCounts {
  rate: number;
  sent: number;
  /** Reply kind -> count: `answered`, `KB_ERR_BUSY`, `KB_ERR_TIMEOUT`, ... */
  replies: Record<string, number>;
  /** Messages no reply was seen for (by the time the replies stopped). */
  unanswered: number;
}

export interface TenantB {
  tenantId: string;
  email: string;
  /** Starts both floods now; they stop by themselves after `durationS`. Resolves when every send went out. */
  flood(opts: { durationS: number; callsPerS: number; runsPerS: number }): Promise<void>;
  /** Waits (bounded) for B's room replies and its accepted runs to end, then counts. */
  finish(maxWaitS: number): Promise<{ testRuns: TestRunCounts; roomCalls: RoomCallCounts }>;
  close(): void;
}

const inc = (m: Record<string, number>, k: string, by = 1) => (m[k] = (m[k] ?? 0) + by);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function setupTenantB(env: BenchEnv, say: (msg: string) => void): Promise<TenantB> {
  const email = `noisy-${env.tag}@bench.example`;
  const api = await TenantClient.signup({ port: env.platform.ports.api }, email, '벤치 시끄러운 상점');
  const me = await api.ok<{ tenant: { id: string; plan: string } }>('GET', '/me');
  const bot = await api.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', '/bots', { name: `noisy-${env.tag}` });
  await api.ok('POST', '/commands', { command: SLOW_COMMAND, target: { type: 'sandbox', language: 'python', code: SLOW_CODE } });
  const phones: { phone: Phone; room: string; channelId: string }[] = [];
  const replies: Record<string, number> = {};
  const answeredIds = new Set<string>();
  let lastReplyAt = 0;
  const onPacket = (p: ReceivedPacket) => {
    if (p.event !== 'messageResponse') return;
    lastReplyAt = performance.now();
    const kind = replyKind(p.text, /^slow \S+$/);
    inc(replies, kind);
    if (kind === 'answered') answeredIds.add(p.text!.slice(5));
  };
  for (let i = 0; i < B_PHONES; i++) {
    const deviceID = `noisy-phone-${i}`;
    const phone = await connectPhone('127.0.0.1', env.platform.ports.bridge, { retain: false });
    phones.push({ phone, room: `시끄러운 방 ${i}`, channelId: `noisy-${env.tag}-${i}` });
    await phone.handshake({ botName: bot.name, deviceID, secretKey: bot.secretKey, salt: bot.salt });
    await api.approveDevice(bot.id, deviceID);
    phone.on('packet', onPacket);
  }
  // One call first, so the flood's replies are the command's and not a broken setup's.
  const first = phones[0]!;
  first.phone.sendMessage({ room: first.room, channelId: first.channelId, text: `${SLOW_COMMAND} b0`, logId: `noisy-${env.tag}-b0` });
  const t0 = performance.now();
  while (!answeredIds.has('b0') && performance.now() - t0 < 30_000) await sleep(50);
  if (!answeredIds.has('b0')) throw new Error(`noisy-neighbour: tenant B's command never answered (replies so far: ${JSON.stringify(replies)})`);
  say(`  tenant B (plan ${me.tenant.plan}): ${B_PHONES} phones, command "${SLOW_COMMAND}" answered in ${Math.round(performance.now() - t0)} ms`);
  for (const k of Object.keys(replies)) delete replies[k];
  answeredIds.clear();

  const runs: TestRunCounts = { sent: 0, byAnswer: {}, accepted: 0, refused: 0, maxRetryAfterSec: null, outcomes: {} };
  const runIds: string[] = [];
  const posts: Promise<void>[] = [];
  let callsSent = 0;
  let callRate = 0;

  const postRun = async () => {
    runs.sent++;
    type Answer = { runId?: string; error?: { code?: string; details?: { retryAfterSec?: number } } };
    const r = await api.call<Answer>('POST', '/runs', { code: RUN_CODE }).catch((err: unknown) => ({ status: 0, body: { error: { code: String(err).slice(0, 80) } } as Answer }));
    if (r.status === 202 && r.body?.runId) {
      runs.accepted++;
      runIds.push(r.body.runId);
      inc(runs.byAnswer, '202');
      return;
    }
    runs.refused++;
    inc(runs.byAnswer, `${r.status} ${r.body?.error?.code ?? '?'}`);
    const after = r.body?.error?.details?.retryAfterSec;
    if (typeof after === 'number') runs.maxRetryAfterSec = Math.max(runs.maxRetryAfterSec ?? 0, after);
  };

  /** Open loop: send i is due at start + i/rate, whatever the answers. */
  const paced = async (rate: number, durationS: number, send: (i: number) => void) => {
    if (rate <= 0) return;
    const total = Math.max(1, Math.round(rate * durationS));
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = start + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      send(i);
    }
  };

  return {
    tenantId: me.tenant.id,
    email,
    async flood({ durationS, callsPerS, runsPerS }) {
      callRate = callsPerS;
      await Promise.all([
        paced(runsPerS, durationS, () => posts.push(postRun())),
        paced(callsPerS, durationS, (i) => {
          const x = phones[i % phones.length]!;
          x.phone.sendMessage({ room: x.room, channelId: x.channelId, text: `${SLOW_COMMAND} f${i}`, logId: `noisy-${env.tag}-f${i}` });
          callsSent++;
        }),
      ]);
    },
    async finish(maxWaitS) {
      const deadline = performance.now() + maxWaitS * 1000;
      await Promise.all(posts);
      // Room replies: until each call has one, or none came for 6 s (a refused call is answered at once, a waiting
      // one by its deadline: the free plan's 5 s).
      const from = performance.now();
      for (;;) {
        const seen = Object.values(replies).reduce((a, b) => a + b, 0);
        const now = performance.now();
        if (seen >= callsSent || now > deadline || now - Math.max(lastReplyAt, from) > 6000) break;
        await sleep(200);
      }
      // Accepted runs: until none is queued or running (bounded).
      const open = new Set(runIds);
      for (;;) {
        for (const id of [...open]) {
          const r = await api.call<{ status: string; error: { code: string } | null }>('GET', `/runs/${id}`);
          if (r.status !== 200 || r.body.status === 'queued' || r.body.status === 'running') continue;
          open.delete(id);
          inc(runs.outcomes, r.body.status === 'failed' ? `failed ${r.body.error?.code ?? '?'}` : r.body.status);
        }
        if (open.size === 0 || performance.now() > deadline) break;
        await sleep(1000);
      }
      if (open.size) inc(runs.outcomes, 'unfinished', open.size);
      const seen = Object.values(replies).reduce((a, b) => a + b, 0);
      return { testRuns: runs, roomCalls: { rate: callRate, sent: callsSent, replies: { ...replies }, unanswered: Math.max(0, callsSent - seen) } };
    },
    close() {
      for (const p of phones) p.phone.destroy();
    },
  };
}
