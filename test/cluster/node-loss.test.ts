import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { names } from '@domaeka/broker';
import { report } from '../chaos/support.js';
import { waitFor } from '../support/wait.js';
import { cluster, NODES, nodeOfLabel, queuesOf, type NodeNumber } from './cluster.js';
import { SERVICES, startClusterRig, type ClusterRig } from './cluster-rig.js';

/**
 * Issue 18 item 3: the platform on a 3-node RabbitMQ cluster, every service
 * given the three nodes' URLs. Under a steady load of phone messages, the
 * node the services are connected to (which also leads the quorum queues
 * they declared) goes away: first stopped (`rabbitmqctl stop`), then, with
 * it back, the next one killed -9. Each service loses its connection, moves
 * to the next node of its list and is ready again by itself; the quorum
 * queues keep every message on the two nodes left. A phone sees every
 * message answered exactly once, and each has exactly one kb_api_logs row.
 */
describe('cluster: a RabbitMQ node lost under load', () => {
  let rig: ClusterRig;
  let nextId = 1;

  beforeAll(async () => {
    rig = await startClusterRig('node-loss', await cluster.urls());
  });
  afterAll(async () => {
    await rig?.close();
  });

  /** `count` messages at `rate`/s; after `answersFirst` answers the services' node is lost (`how`); then every check. */
  async function loseNodeUnderLoad(scenario: string, how: 'stop' | 'kill', count: number, rate: number, answersFirst: number) {
    const started = Date.now();
    const list = Array.from({ length: count }, () => String(nextId++));
    const { tracker, phones } = rig;
    const prefix = rig.env.brokerPrefix;
    const dispatchQueue = names(prefix).dispatchQueue;

    // Where everything is before: each service's node (its own log) and the dispatch queue's leader.
    const before = Object.fromEntries(SERVICES.map((s) => [s, rig.brokerNode(s)]));
    const onNodes = SERVICES.map((s) => nodeOfLabel(before[s] ?? ''));
    expect(onNodes.every((n) => n !== null), `every service on a cluster node: ${JSON.stringify(before)}`).toBe(true);
    // The node most services use (with the list in order, all of them).
    const victim = [...NODES].sort((a, b) => onNodes.filter((n) => n === b).length - onNodes.filter((n) => n === a).length)[0]!;
    const victimLabel = before[SERVICES[onNodes.indexOf(victim)]!]!;
    const other = NODES.find((n) => n !== victim)!;
    const leaderBefore = (await queuesOf(other, prefix)).find((q) => q.name === dispatchQueue)?.leader;
    const lostBefore = Object.fromEntries(SERVICES.map((s) => [s, rig.lostConnections(s)]));

    const stream = rig.stream(list, rate);
    await waitFor(() => tracker.answered(list) >= answersFirst, { timeoutMs: 60_000, what: `${answersFirst} answers before the loss` });
    const answeredAtLoss = tracker.answered(list);
    const lostAt = Date.now();
    // A graceful stop closes the clients' connections early and goes on shutting down (about 10 s here) meanwhile.
    const losing = (how === 'stop' ? cluster.stopNode(victim) : cluster.killNode(victim)).then(() => Date.now() - lostAt);

    // Each service saw its connection go, connected to another node of its list and is ready again: nobody restarted it.
    await waitFor(
      async () => {
        const moved = SERVICES.every((s) => rig.lostConnections(s) > lostBefore[s]! && rig.brokerNode(s) !== victimLabel);
        return moved && (await Promise.all(SERVICES.map((s) => rig.ready(s)))).every(Boolean);
      },
      { timeoutMs: 60_000, intervalMs: 50, what: 'every service ready on another node' },
    );
    const readyAgainMs = Date.now() - lostAt;
    const after = Object.fromEntries(SERVICES.map((s) => [s, rig.brokerNode(s)]));
    const reconnectGapMs = Object.fromEntries(SERVICES.map((s) => [s, rig.reconnectGapMs(s)]));
    const nodeGoneMs = await losing;
    // What an operator sees on the admin page: the API connected, on its new node.
    expect(await rig.adminBroker()).toMatchObject({ status: 'connected', attempts: 0, node: after.api });

    await stream;
    await waitFor(() => tracker.answered(list) === list.length, { timeoutMs: 120_000, what: 'every message answered' });
    // Nothing left in any queue that could still reach a phone: only now are doubles conclusive.
    await rig.quiet(other);

    const o = tracker.outcome(list);
    const rows = await rig.logRows(list);
    const notOneRow = list.filter((id) => rows.get(id) !== 1);
    const leaderAfter = (await queuesOf(other, prefix)).find((q) => q.name === dispatchQueue)?.leader;
    report(scenario, {
      sent: o.sent,
      answered: o.answered,
      lost: o.lost.length,
      doubled: o.doubled.length,
      logRowsNotOne: notOneRow.length,
      notOneRowDetail: notOneRow.length ? await rig.logRowDetail(notOneRow.slice(0, 5)) : [],
      targetCalledTwice: list.filter((id) => (rig.calls.get(id) ?? 0) > 1).length,
      lostNode: victim,
      nodesBefore: before,
      nodesAfter: after,
      dispatchLeader: { before: leaderBefore, after: leaderAfter },
      answeredAtLoss,
      nodeGoneMs,
      readyAgainMs,
      reconnectGapMs,
      // Publish channels replaced after a nack (BrokerConnection.renewConfirmChannel), over the whole run so far.
      channelsRenewed: Object.fromEntries(SERVICES.map((s) => [s, rig.logged(s, /publishing on a new channel/)])),
      phonesReconnected: phones.filter((p) => p.generation > 1).length,
      stray: tracker.stray.length,
      durationMs: Date.now() - started,
    });
    expect(answeredAtLoss).toBeLessThan(list.length);
    for (const s of SERVICES) expect(nodeOfLabel(after[s] ?? ''), `${s} on a node still up`).not.toBe(victim as NodeNumber);
    expect(o.lost).toEqual([]);
    expect(o.doubled).toEqual([]);
    expect(notOneRow).toEqual([]);
    expect(tracker.stray).toEqual([]);
    // The phones kept their gateway connection throughout.
    expect(phones.every((p) => p.generation === 1 && !p.phone.closed)).toBe(true);
    expect(await rig.deadLettered(other)).toBe(0);
    return victim;
  }

  it('node stopped: services move to the nodes left; nothing lost, nothing doubled, one log row each', async () => {
    onTestFailed(() => rig.dumpLogs());
    await loseNodeUnderLoad('cluster-node-stop', 'stop', 1200, 100, 300);
  });

  /*
   * Opt-in (KB_CLUSTER_KILL=1): not green every time yet (2026-12-07, load 11-17).
   * - Before BrokerConnection renewed a publish channel the broker nacked on: green in 2 of 3
   *   runs; the red run (and once the stop case above): every service ready on a node still up
   *   within 5 s, but one service's publishes to a quorum queue nacked for over 2 minutes, each
   *   retry again, its messages held (nothing lost or doubled), the phones waiting.
   * - With the renewal: green in 2 of 3 runs (`channelsRenewed` 1-3 per service: it was
   *   needed). The red run: every message answered once (0 lost, 0 doubled in the rooms), but
   *   2 of 600 called the tenant's target twice and have 2 kb_api_logs rows. Not yet traced;
   *   the likely story: an event in the dispatcher's hands when its connection died, delivered
   *   again on the new one while the first handling still ran in the same process: the outbox
   *   claim sees a row without a reply, takes it for a crashed handling ('retry') and calls the
   *   target again. `notOneRowDetail` in the report tells whether the two rows share one event.
   */
  it.runIf(process.env.KB_CLUSTER_KILL === '1')('with it back, the next node killed -9: the same', async () => {
    onTestFailed(() => rig.dumpLogs());
    // Three nodes again (a stopped node rejoins by itself), so two are left after the kill: a quorum.
    for (const n of NODES) await cluster.startNode(n);
    await loseNodeUnderLoad('cluster-node-kill', 'kill', 600, 100, 150);
  });
});
