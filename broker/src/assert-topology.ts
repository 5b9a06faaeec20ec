import type { Channel } from 'amqplib';
import { RPC_QUEUE_OPTIONS, replyQueueDef, topology, type QueueDef, type Topology } from './topology.js';

/** Declares exchanges, queues and bindings; safe to run any number of times. */
export async function assertTopology(ch: Channel, t: Topology): Promise<void> {
  for (const ex of t.exchanges) await ch.assertExchange(ex.name, ex.type, { durable: true });
  for (const q of t.queues) await assertQueue(ch, q);
  for (const b of t.bindings) await ch.bindQueue(b.queue, b.exchange, b.routingKey);
}

export async function assertQueue(ch: Channel, q: QueueDef): Promise<void> {
  await ch.assertQueue(q.name, { durable: true, arguments: q.arguments });
}

/** Declares the reply queue of a route and binds it to the replies exchange. */
export async function assertReplyQueue(ch: Channel, prefix: string, route: string): Promise<string> {
  const q = replyQueueDef(prefix, route);
  await assertQueue(ch, q);
  await ch.bindQueue(q.name, `${prefix}.replies`, route);
  return q.name;
}

export { topology };

/** Declares an RPC queue (a runner's call queue, a caller's result queue) owned by this connection. */
export async function assertRpcQueue(ch: Channel, name: string): Promise<string> {
  await ch.assertQueue(name, RPC_QUEUE_OPTIONS);
  return name;
}
