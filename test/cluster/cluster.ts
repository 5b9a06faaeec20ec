import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The 3-node RabbitMQ cluster of scripts/cluster/rabbitmq-cluster.sh, as
 * the tests drive it: its URL list, a node stopped and started, and
 * rabbitmqctl against a node that is up.
 */
const execFileP = promisify(execFile);
const script = resolve(dirname(fileURLToPath(import.meta.url)), '../../scripts/cluster/rabbitmq-cluster.sh');

export const NODES = [1, 2, 3] as const;
export type NodeNumber = (typeof NODES)[number];

async function run(args: string[], timeoutMs = 180_000): Promise<string> {
  const { stdout } = await execFileP('bash', [script, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

export const cluster = {
  /** Starts the three nodes and joins them (idempotent); resolves with the AMQP_URL list. */
  start: () => run(['start']),
  /** Every node down, its data removed. */
  stop: () => run(['stop']),
  urls: () => run(['urls']),
  stopNode: (n: NodeNumber) => run(['stop-node', String(n)]),
  /** kill -9 of the node's Erlang VM (a crash); resolves once the process is gone. */
  killNode: (n: NodeNumber) => run(['kill-node', String(n)]),
  startNode: (n: NodeNumber) => run(['start-node', String(n)]),
  /** rabbitmqctl -q against node `n` (its stdout). */
  ctl: (n: NodeNumber, ...args: string[]) => run(['ctl', String(n), '-q', ...args], 60_000),
};

/** The node number listening on the port of a `host:port` label (5701 -> 1), or null for any other port. */
export function nodeOfLabel(label: string, portBase = Number(process.env.KB_CLUSTER_PORT_BASE ?? 5700)): NodeNumber | null {
  const n = Number(label.slice(label.lastIndexOf(':') + 1)) - portBase;
  return (NODES as readonly number[]).includes(n) ? (n as NodeNumber) : null;
}

/** `list_queues` rows of node `n` whose name starts with `prefix.`: name, messages ready, unacked, leader node. */
export async function queuesOf(n: NodeNumber, prefix: string): Promise<{ name: string; ready: number; unacked: number; leader: string }[]> {
  const out = await cluster.ctl(n, 'list_queues', 'name', 'messages_ready', 'messages_unacknowledged', 'leader', '--no-table-headers');
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((r) => r[0]!.startsWith(`${prefix}.`))
    .map(([name, ready, unacked, leader]) => ({ name: name!, ready: Number(ready), unacked: Number(unacked), leader: leader ?? '' }));
}
