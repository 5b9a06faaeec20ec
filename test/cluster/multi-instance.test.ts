import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { RUNNER_EXPIRY_MS } from '@domaeka/broker';
import { roomMessageFor } from '@domaeka/core';
import { report } from '../chaos/support.js';
import type { ChaosPhone } from '../chaos/observers.js';
import { waitFor } from '../support/wait.js';
import { gatewayOf, SITES, startFleetRig, type FleetRig, type Site } from './fleet-rig.js';

/**
 * Issue 18 item 2: N of everything. Two gateways, two dispatchers and
 * three runners (each on a Docker engine of its own), real processes; six
 * premium tenants (dedicated containers) with a phone on each gateway.
 * Under a steady load of HTTP and sandbox commands, one gateway, one
 * dispatcher and the runner holding the most dedicated tenants are killed
 * -9, one after the other. A phone of the dead gateway reconnects to the
 * other one and re-sends what its gateway never published (as the real
 * phone does); the other dispatcher takes the dead one's events; the dead
 * runner's tenants move to their next runner, which holds them from then
 * on. Every message is answered exactly once, with exactly one kb_api_logs
 * row: with its answer, or (a sandbox call running on the runner when it
 * died: never run twice) with the Korean crash message.
 */
const TENANTS = 6;
/** Messages at least (on until AFTER_MOVE answers came from the new runners), per second. */
const COUNT = 1800;
const RATE = 40;
/** Answers to the moved tenants' Python calls, sent after the dead runner's beats expired, before the load stops. */
const AFTER_MOVE = 30;
/** Answers heard before each kill. */
const KILL_AT = { gateway: 300, dispatcher: 700, runner: 1100 };
const CRASHED = roomMessageFor('KB_ERR_SANDBOX_CRASHED');
const execFileP = promisify(execFile);

/** `h<n>`: the HTTP command; `s<n>`: the tenant's Python in its dedicated container. */
const commandOf = (id: string) => (id.startsWith('s') ? '파이썬' : '에코');

describe('cluster: 2 gateways, 2 dispatchers, 3 runners on 3 Docker engines; one of each killed -9 under load', () => {
  let rig: FleetRig;

  beforeAll(async () => {
    rig = await startFleetRig('fleet', { tenants: TENANTS });
  }, 300_000);
  afterAll(async () => {
    await rig?.close();
  }, 120_000);

  it('answers every message once, from the gateway and runner left; the dead runner’s tenants from their new runner', async () => {
    onTestFailed(() => rig.dumpLogs());
    const started = Date.now();
    const { tracker, tap, phones, tenants, sites, runnerIds } = rig;
    const tenantOf = (p: ChaosPhone) => tenants.find((t) => t.phones.includes(p))!;

    // 1. Each tenant's first sandbox call starts its dedicated container; the ops view then names its runner.
    const warm = tenants.map((_, i) => `s0w${i}`);
    tenants.forEach((t, i) => t.phones[0]!.send(warm[i]!, '파이썬'));
    await waitFor(() => tracker.answered(warm) === warm.length, { timeoutMs: 90_000, what: 'every tenant’s Python answered once' });
    const placedBefore = await waitFor(
      async () => {
        const pl = await rig.placement();
        return tenants.every((t) => pl.get(t.tenantId)?.length === 1) ? pl : null;
      },
      { timeoutMs: 30_000, what: 'every tenant placed on one runner (ops view)' },
    );
    const siteOfRunner = (runnerId: string) => SITES.find((s) => runnerIds[s] === runnerId)!;
    const perSite = (s: Site) => tenants.filter((t) => placedBefore.get(t.tenantId)![0] === runnerIds[s]);
    const victimSite = [...SITES].sort((a, b) => perSite(b).length - perSite(a).length)[0]!;
    const moving = perSite(victimSite);
    // The placement is the engines' truth too: those tenants' containers run on the victim's engine.
    expect((await rig.containersOn(victimSite)).sort()).toEqual(moving.map((t) => t.tenantId).sort());

    // 2. The load: HTTP and sandbox commands in turn, over every phone (and so every tenant and both gateways),
    // at least COUNT and on until the moved tenants were answered from their new runners (a loaded machine lags).
    const list: string[] = [];
    const phoneOf = new Map<string, ChaosPhone>();
    const sentAt = new Map<string, number>();
    let streaming = true;
    const streamStart = Date.now();
    const stream = (async () => {
      while (streaming || list.length < COUNT) {
        const due = Math.floor(((Date.now() - streamStart) / 1000) * RATE) + 1;
        while (list.length < due) {
          const n = list.length;
          const id = `${n % 2 ? 's' : 'h'}${n + 1}`;
          const p = phones[n % phones.length]!;
          list.push(id);
          phoneOf.set(id, p);
          sentAt.set(id, Date.now());
          p.send(id, commandOf(id));
        }
        await new Promise((r) => setTimeout(r, 10)); // pacing the rate, not waiting on anything
      }
    })();
    const answersReach = (n: number, what: string) => waitFor(() => tracker.answered(list) >= n, { timeoutMs: 90_000, what });

    // 3a. Gateway 2 killed: its phones lose their connection, reconnect to gateway 1 and re-send what gateway 2 never published.
    await answersReach(KILL_AT.gateway, 'answers before the gateway kill');
    const moved = phones.filter((p) => gatewayOf(rig, p) === 2);
    await sites[2].kill('gateway');
    const gatewayKilledAt = Date.now();
    await waitFor(() => moved.every((p) => p.phone.closed), { what: 'phones of gateway 2 disconnected' });
    await tap.drained();
    let resent = 0;
    for (const p of moved) {
      p.bridgePort = sites[1].ports.bridge;
      await p.connect();
      const neverPublished = [...p.written].filter(([id, gen]) => gen === 1 && !tap.accepted(id)).map(([id]) => id);
      const queued = p.unsent.splice(0);
      for (const id of [...neverPublished, ...queued]) p.send(id, commandOf(id));
      resent += neverPublished.length;
    }
    const phonesBackMs = Date.now() - gatewayKilledAt;

    // 3b. Dispatcher 1 killed: dispatcher 2 takes the events it held (and the outbox keeps them to one answer).
    await answersReach(KILL_AT.dispatcher, 'answers before the dispatcher kill');
    await sites[1].kill('dispatcher');

    // 3c. The runner holding the most dedicated tenants killed: they move to their next runner.
    await answersReach(KILL_AT.runner, 'answers before the runner kill');
    await sites[victimSite].kill('runner');
    const runnerKilledAt = Date.now();
    const movingIds = new Set(moving.map((t) => t.tenantId));
    const ofMoving = (id: string) => id.startsWith('s') && movingIds.has(tenantOf(phoneOf.get(id)!).tenantId);
    // Sent once the dead runner was surely forgotten by every caller (its beats expired): none may be lost to it.
    const sentAfterRunnerGone = () => list.filter((id) => ofMoving(id) && sentAt.get(id)! > runnerKilledAt + RUNNER_EXPIRY_MS);
    await waitFor(() => sentAfterRunnerGone().filter((id) => tracker.count(id) > 0).length >= AFTER_MOVE, {
      timeoutMs: 90_000,
      what: `${AFTER_MOVE} answers to the moved tenants' Python sent after the runner's death`,
    });
    streaming = false;
    await stream;
    await waitFor(() => tracker.answered(list) + tracker.stray.length >= list.length, { timeoutMs: 120_000, what: 'every message answered' });
    await quiet(rig.env.brokerPrefix);

    // What the rooms got, and the log rows.
    const o = tracker.outcome(list);
    const rows = await rig.logRows(list);
    const crashed = list.filter((id) => (rows.get(id) ?? []).includes('KB_ERR_SANDBOX_CRASHED'));
    const notOneRow = list.filter((id) => rows.get(id)?.length !== 1);
    const afterRunnerGone = sentAfterRunnerGone();
    // Normally one holder each; a runner that missed its beats under load may have been passed over for a moment and hold a second copy.
    const placedAfter = await rig.placement();
    const newSites = moving.map((t) => (placedAfter.get(t.tenantId) ?? []).map(siteOfRunner));
    const enginesAfter = Object.fromEntries(await Promise.all(SITES.filter((s) => s !== victimSite).map(async (s) => [s, await rig.containersOn(s)])));
    const windowDoubles = o.doubled.filter((id) => moved.includes(phoneOf.get(id)!) && new Set((tracker.replies.get(id) ?? []).map((r) => r.generation)).size > 1);
    const repliesOnNewGateway = moved.map((p) => list.filter((id) => (tracker.replies.get(id) ?? []).some((r) => r.phone === p.index && r.generation === 2)).length);
    report('multi-instance', {
      sent: o.sent,
      answered: o.answered,
      crashedOnDeadRunner: crashed.length,
      lost: o.lost.length - crashed.length,
      doubled: o.doubled.length,
      windowDoubles: windowDoubles.length,
      logRowsNotOne: notOneRow.length,
      resent,
      phonesBackMs,
      repliesOnNewGateway,
      killedRunner: runnerIds[victimSite],
      moved: moving.length,
      placementBefore: SITES.map((s) => perSite(s).length),
      movedTo: newSites,
      answeredAfterRunnerGone: afterRunnerGone.filter((id) => tracker.count(id) === 1).length,
      stray: tracker.stray.length,
      // What the rooms heard instead of an answer, and the log rows' codes of those messages.
      strayTexts: histogram(tracker.stray),
      lostCodes: histogram(o.lost.flatMap((id) => rows.get(id) ?? ['(no row)']).map(String)),
      durationMs: Date.now() - started,
    });

    // Every message answered exactly once in its room, with exactly one log row.
    expect(notOneRow).toEqual([]);
    // Not answered with its own text: only a sandbox call of a moved tenant that was on the runner when it died (crash message).
    expect(o.lost.filter((id) => !crashed.includes(id))).toEqual([]);
    expect(crashed.filter((id) => !ofMoving(id) || sentAt.get(id)! > runnerKilledAt + RUNNER_EXPIRY_MS)).toEqual([]);
    expect(tracker.stray.filter((t) => t !== CRASHED)).toEqual([]);
    expect(tracker.stray.length).toBe(crashed.length);
    // Doubles: none but a reply written by the dying gateway whose ack never reached the broker (DESIGN.md section 6:
    // the one window where a duplicate may appear; the gateway that takes the phone over cannot know it was written).
    // Seen: 0 in 6 runs, 2 in one; bounded by a few replies in hand per moved phone.
    expect(o.doubled).toEqual(windowDoubles);
    expect(o.doubled.length).toBeLessThanOrEqual(4 * moved.length);
    // The killed gateway's phones are on gateway 1 and got replies there.
    expect(moved.every((p) => p.generation === 2 && gatewayOf(rig, p) === 1 && !p.phone.closed)).toBe(true);
    expect(repliesOnNewGateway.every((n) => n > 0)).toBe(true);
    // The dead runner's tenants: placed on another runner (ops view), their containers on that runner's engine, answered there.
    for (const [i, t] of moving.entries()) {
      expect(newSites[i]!.length).toBeGreaterThan(0);
      expect(newSites[i]).not.toContain(victimSite);
      for (const s of newSites[i]!) expect(enginesAfter[s]).toContain(t.tenantId);
    }
    expect(afterRunnerGone.filter((id) => tracker.count(id) !== 1)).toEqual([]);
    // The other tenants stayed where they were (a runner leaving moves only its own).
    for (const t of tenants.filter((x) => !movingIds.has(x.tenantId))) expect(placedAfter.get(t.tenantId)).toContain(placedBefore.get(t.tenantId)![0]);
    expect(await tap.deadLettered()).toBe(0);
  });
});

/** Once no queue of this test (but the dead-letter and tap queues) holds a message, ready or unacked: no more replies can come. */
async function quiet(prefix: string): Promise<void> {
  await waitFor(
    async () => {
      const { stdout } = await execFileP('rabbitmqctl', ['-q', 'list_queues', 'name', 'messages_ready', 'messages_unacknowledged']);
      const rows = stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((r) => r[0]!.startsWith(`${prefix}.`));
      return rows.length > 0 && rows.every((r) => r[0]!.endsWith('.dead') || r[0]!.endsWith('.chaos.tap') || (r[1] === '0' && r[2] === '0'));
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'broker queues empty' },
  );
}

function histogram(values: readonly string[]): Record<string, number> {
  return values.reduce<Record<string, number>>((h, v) => ((h[v] = (h[v] ?? 0) + 1), h), {});
}
