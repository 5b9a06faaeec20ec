import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { names } from '@domaeka/broker';
import { report } from '../chaos/support.js';
import { waitFor } from '../support/wait.js';
import { cluster, NODES, nodeOfLabel, queuesOf, type NodeNumber } from './cluster.js';
import { SERVICES, startClusterRig, type ClusterRig } from './cluster-rig.js';

const ids = (count: number) => Array.from({ length: count }, (_, i) => String(i + 1));

/**
 * Issue 18 item 3: the platform on a 3-node RabbitMQ cluster, every service
 * given the three nodes' URLs. Under a steady load of phone messages, the
 * node the services are connected to (which also leads the quorum queues
 * they declared) is stopped. Each service loses its connection, moves to
 * the next node of its list and is ready again by itself; the quorum
 * queues keep every message on the two nodes left. A phone sees every
 * message answered exactly once, and each has exactly one kb_api_logs row.
 */
describe('cluster: a RabbitMQ node stopped under load', () => {
  let rig: ClusterRig;

  beforeAll(async () => {
    rig = await startClusterRig('node-stop', await cluster.urls());
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('services move to the nodes left; nothing lost, nothing doubled, one log row each', async () => {
    onTestFailed(() => rig.dumpLogs());
    const started = Date.now();
    const list = ids(1200);
    const { tracker, phones } = rig;

    // Where everything is before the stop: each service's node (its own log) and the dispatch queue's leader.
    const before = Object.fromEntries(SERVICES.map((s) => [s, rig.brokerNode(s)]));
    const onNodes = SERVICES.map((s) => nodeOfLabel(before[s] ?? ''));
    expect(onNodes.every((n) => n !== null), `every service on a cluster node: ${JSON.stringify(before)}`).toBe(true);
    // The node most services use (with the list in order, all of them: node 1).
    const victim = [...NODES].sort((a, b) => onNodes.filter((n) => n === b).length - onNodes.filter((n) => n === a).length)[0]!;
    const other = NODES.find((n) => n !== victim)!;
    const dispatchQueue = names(rig.env.brokerPrefix).dispatchQueue;
    const leaderBefore = (await queuesOf(other, rig.env.brokerPrefix)).find((q) => q.name === dispatchQueue)?.leader;

    const stream = rig.stream(list, 100);
    await waitFor(() => tracker.answered(list) >= 300, { timeoutMs: 60_000, what: '300 answers before the stop' });
    const answeredAtStop = tracker.answered(list);
    const stoppedAt = Date.now();
    // RabbitMQ closes the clients' connections early in its shutdown; the rest of it (about 9 s here) runs meanwhile.
    const stopping = cluster.stopNode(victim).then(() => Date.now() - stoppedAt);

    // Each service saw its connection go, connected to another node of its list and is ready again: nobody restarted it.
    const victimLabel = before[SERVICES[onNodes.indexOf(victim)]!]!;
    await waitFor(
      async () => {
        const moved = SERVICES.every((s) => rig.lostConnections(s) >= 1 && rig.brokerNode(s) !== victimLabel);
        return moved && (await Promise.all(SERVICES.map((s) => rig.ready(s)))).every(Boolean);
      },
      { timeoutMs: 60_000, intervalMs: 50, what: 'every service ready on another node' },
    );
    const reconnectMs = Date.now() - stoppedAt;
    const after = Object.fromEntries(SERVICES.map((s) => [s, rig.brokerNode(s)]));
    const reconnectGapMs = Object.fromEntries(SERVICES.map((s) => [s, rig.reconnectGapMs(s)]));
    const stopMs = await stopping;

    await stream;
    await waitFor(() => tracker.answered(list) === list.length, { timeoutMs: 120_000, what: 'every message answered' });
    // Nothing left in any queue that could still reach a phone: only now are doubles conclusive.
    await rig.quiet(other);

    const o = tracker.outcome(list);
    const rows = await rig.logRows(list);
    const notOneRow = list.filter((id) => rows.get(id) !== 1);
    const leaderAfter = (await queuesOf(other, rig.env.brokerPrefix)).find((q) => q.name === dispatchQueue)?.leader;
    report('cluster-node-stop', {
      sent: o.sent,
      answered: o.answered,
      lost: o.lost.length,
      doubled: o.doubled.length,
      logRowsNotOne: notOneRow.length,
      targetCalledTwice: list.filter((id) => (rig.calls.get(id) ?? 0) > 1).length,
      stoppedNode: victim,
      nodesBefore: before,
      nodesAfter: after,
      dispatchLeader: { before: leaderBefore, after: leaderAfter },
      answeredAtStop,
      stopMs,
      reconnectMs,
      reconnectGapMs,
      phonesReconnected: phones.filter((p) => p.generation > 1).length,
      stray: tracker.stray.length,
      durationMs: Date.now() - started,
    });
    expect(answeredAtStop).toBeLessThan(list.length);
    for (const s of SERVICES) expect(nodeOfLabel(after[s] ?? ''), `${s} on a node still up`).not.toBe(victim as NodeNumber);
    expect(o.lost).toEqual([]);
    expect(o.doubled).toEqual([]);
    expect(notOneRow).toEqual([]);
    expect(tracker.stray).toEqual([]);
    // The phones kept their gateway connection throughout.
    expect(phones.every((p) => p.generation === 1 && !p.phone.closed)).toBe(true);
    expect(await rig.deadLettered(other)).toBe(0);
  });
});
