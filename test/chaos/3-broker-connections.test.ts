import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { waitFor } from '../support/wait.js';
import { SERVICES, ids, report, startRig, type Rig } from './support.js';

const execFileP = promisify(execFile);

/**
 * `rabbitmqctl close_all_connections` mid-stream: every AMQP connection on
 * the node goes (that is why the chaos group runs alone). Each service
 * reconnects by itself and reports ready again; the gateway keeps its
 * phones and holds what it has not had confirmed; the dispatcher's
 * unacked events come back and are answered from the outbox. Nothing
 * lost, nothing doubled.
 */
describe('chaos: broker closes every connection', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig('broker-close', { phones: 5, stubDelayMs: 5 });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('recovers every service by itself; nothing lost, nothing doubled', async () => {
    onTestFailed(() => rig.dumpLogs());
    const started = Date.now();
    const list = ids(1, 1500);
    const { tracker, tap, phones } = rig;

    const stream = rig.stream(list, 250);
    await waitFor(() => tracker.answered(list) >= 300, { timeoutMs: 60_000, what: '300 answers before the close' });
    const tapLossesBefore = tap.lostConnections;
    const closedAt = Date.now();
    await execFileP('rabbitmqctl', ['close_all_connections', 'chaos']);
    const answeredAtClose = tracker.answered(list);
    // Our own tap lost its connection too: proof the close happened (and it came back by itself).
    await waitFor(() => tap.lostConnections > tapLossesBefore, { what: 'tap saw the close' });

    await stream.done;
    await waitFor(() => tracker.answered(list) === list.length, { timeoutMs: 120_000, what: 'every message answered' });
    await waitFor(async () => (await Promise.all(SERVICES.map((s) => rig.ready(s)))).every(Boolean), {
      timeoutMs: 60_000,
      what: 'every service ready again',
    });
    const recoveredMs = Date.now() - closedAt;
    await rig.quiet();

    const o = tracker.outcome(list);
    // Each service saw its connection go and made a new one by itself (nobody restarted it).
    const reconnects = Object.fromEntries(SERVICES.map((s) => [s, rig.logged(s, /broker connection lost/)]));
    report('broker-close', {
      sent: o.sent,
      answered: o.answered,
      lost: o.lost.length,
      doubled: o.doubled.length,
      answeredAtClose,
      recoveredMs,
      reconnects,
      duplicatesDropped: await rig.metric('gateway', /^gateway_replies_total\{[^}]*result="duplicate"/),
      phonesReconnected: phones.filter((p) => p.generation > 1).length,
      stray: tracker.stray.length,
      durationMs: Date.now() - started,
    });
    for (const s of SERVICES) expect(reconnects[s], `${s} reconnected`).toBeGreaterThanOrEqual(1);
    // The gateway kept its phones: none had to reconnect.
    expect(phones.every((p) => p.generation === 1 && !p.phone.closed)).toBe(true);
    expect(o.lost).toEqual([]);
    expect(o.doubled).toEqual([]);
    expect(tracker.stray).toEqual([]);
    expect(await tap.deadLettered()).toBe(0);
  });
});
