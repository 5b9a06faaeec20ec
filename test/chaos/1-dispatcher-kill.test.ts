import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { waitFor } from '../support/wait.js';
import { ids, report, startRig, type Rig } from './support.js';

/**
 * kill -9 the dispatcher while 500 messages are in flight, then start it
 * again: every message answered, none twice. The outbox stores each reply
 * and the gateway drops a reply id it already wrote, so what the dead
 * dispatcher published and what the new one republishes reach a room once.
 */
describe('chaos: dispatcher killed with 500 messages in flight', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig('dispatcher-kill', { phones: 5, stubDelayMs: 30 });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('answers every message exactly once after kill -9 and restart', async () => {
    onTestFailed(() => rig.dumpLogs());
    const started = Date.now();
    const list = ids(1, 500);
    const { stub, tracker, tap, platform } = rig;

    // The tenant's API holds its answers until the gateway has published all 500:
    // then every one of them is in flight (queued, prefetched or at the target) at once.
    let open!: () => void;
    stub.hold = new Promise<void>((r) => (open = r));
    rig.stream(list);
    await waitFor(() => list.every((id) => tap.accepted(id)), { timeoutMs: 60_000, what: 'all 500 published' });
    expect(tracker.answered(list)).toBe(0);
    const heldAtTarget = [...stub.calls.keys()].filter((k) => !k.startsWith('w')).length;
    stub.hold = null;
    open();

    // Mid-stream: some answers out, the dispatcher holding the next ones (claimed, calling, replying, acking).
    await waitFor(() => tracker.answered(list) >= 100, { timeoutMs: 60_000, what: '100 answers' });
    const callsAtKill = [...stub.calls.keys()].filter((k) => !k.startsWith('w')).length;
    await platform.kill('dispatcher');
    const answeredAtKill = tracker.answered(list);
    const killedAt = Date.now();

    await platform.start('dispatcher');
    const restartMs = Date.now() - killedAt;
    await waitFor(() => tracker.answered(list) === list.length, { timeoutMs: 120_000, what: 'every message answered' });
    // Nothing left anywhere that could still reach a phone: only now are doubles conclusive.
    await rig.quiet();

    const o = tracker.outcome(list);
    const calledTwice = list.filter((id) => (stub.calls.get(id) ?? 0) > 1).length;
    report('dispatcher-kill', {
      sent: o.sent,
      answered: o.answered,
      lost: o.lost.length,
      doubled: o.doubled.length,
      inFlightAtKill: list.length - answeredAtKill,
      heldAtTargetBeforeRelease: heldAtTarget,
      targetCallsAtKill: callsAtKill,
      targetCalledTwice: calledTwice,
      // After the restart: stored replies sent again, and the copies the gateway dropped by reply id.
      republished: await rig.metric('dispatcher', /^kb_dispatcher_replies_republished_total/),
      duplicatesDropped: await rig.metric('gateway', /^gateway_replies_total\{[^}]*result="duplicate"/),
      restartMs,
      stray: tracker.stray.length,
      durationMs: Date.now() - started,
    });
    expect(answeredAtKill).toBeLessThan(list.length);
    expect(o.lost).toEqual([]);
    expect(o.doubled).toEqual([]);
    expect(tracker.stray).toEqual([]);
    expect(await tap.deadLettered()).toBe(0);
  });
});
