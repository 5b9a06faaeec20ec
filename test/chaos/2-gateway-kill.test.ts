import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { waitFor } from '../support/wait.js';
import { ids, report, startRig, type Rig } from './support.js';

/**
 * kill -9 the gateway mid-stream. Phones reconnect (same identity) and, as
 * the real bridge script does, re-send what they could not hand over: here
 * every message the gateway had not published (the tap queue on the events
 * exchange shows what it did publish: accepted). Every message accepted
 * before the kill is answered after it; the only doubles allowed are
 * replies written to a phone in the kill window (written, ack not yet at
 * the broker): redelivered to the new gateway, which cannot know. They are
 * counted and printed.
 */
describe('chaos: gateway killed mid-stream', () => {
  let rig: Rig;

  beforeAll(async () => {
    // The tenant takes 100 ms: at 250 msg/s some 25 accepted messages are always unanswered, in flight at the kill.
    rig = await startRig('gateway-kill', { phones: 5, stubDelayMs: 100 });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('answers every accepted message after phones reconnect; doubles only from the kill window', async () => {
    onTestFailed(() => rig.dumpLogs());
    const started = Date.now();
    const list = ids(1, 1500);
    const { tracker, tap, platform, phones } = rig;

    const stream = rig.stream(list, 250);
    await waitFor(() => tracker.answered(list) >= 300, { timeoutMs: 60_000, what: '300 answers before the kill' });
    await platform.kill('gateway');
    const killedAt = Date.now();
    // Phones see the connection drop (the kernel closes a dead process's sockets).
    await waitFor(() => phones.every((p) => p.phone.closed), { what: 'phones disconnected' });
    await tap.drained();
    const acceptedBeforeKill = list.filter((id) => tap.accepted(id));
    const answeredAtKill = tracker.answered(list);

    await platform.start('gateway');
    const downMs = Date.now() - killedAt;
    let resent = 0;
    let queuedWhileDown = 0;
    for (const p of phones) {
      await p.connect();
      // Re-send on the new connection what the old gateway never published, then what queued meanwhile.
      const lostInGateway = [...p.written].filter(([id, gen]) => gen === 1 && !tap.accepted(id)).map(([id]) => id);
      const queued = p.unsent.splice(0);
      for (const id of [...lostInGateway, ...queued]) p.send(id);
      resent += lostInGateway.length;
      queuedWhileDown += queued.length;
    }
    await stream.done;
    await waitFor(() => tracker.answered(list) === list.length, { timeoutMs: 120_000, what: 'every message answered' });
    await rig.quiet();

    const o = tracker.outcome(list);
    // A kill-window double: the old connection got the reply (written, ack not yet at the broker), the new one got it again.
    const windowDoubles = o.doubled.filter((id) => {
      const copies = tracker.replies.get(id)!;
      return copies.length === 2 && copies[0]!.generation === 1 && copies[1]!.generation === 2;
    });
    // How long before the kill the oldest double was first received: the width of the window seen.
    const windowMs = Math.max(0, ...o.doubled.map((id) => killedAt - tracker.replies.get(id)![0]!.at));
    report('gateway-kill', {
      sent: o.sent,
      answered: o.answered,
      lost: o.lost.length,
      doubled: o.doubled.length,
      acceptedBeforeKill: acceptedBeforeKill.length,
      answeredAtKill,
      writtenNotAcceptedResent: resent,
      queuedWhileDown,
      gatewayDownMs: downMs,
      killWindowMs: windowMs,
      stray: tracker.stray.length,
      durationMs: Date.now() - started,
    });
    expect(acceptedBeforeKill.length).toBeGreaterThan(answeredAtKill);
    expect(acceptedBeforeKill.filter((id) => tracker.count(id) === 0)).toEqual([]);
    expect(o.lost).toEqual([]);
    // Doubles: only replies written in the kill window (at most the unacked replies the gateway held: 32 per device).
    expect(windowDoubles).toEqual(o.doubled);
    expect(o.doubled.length).toBeLessThanOrEqual(32 * phones.length);
    expect(tracker.stray).toEqual([]);
    expect(await tap.deadLettered()).toBe(0);
  });
});
