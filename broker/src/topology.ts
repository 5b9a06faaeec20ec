/**
 * Broker topology as data. Every name carries a prefix (`kb` in production,
 * one per test file) so deployments and tests never collide.
 *
 * RabbitMQ 3.10 limits and dead-letters nothing safely by default, so every
 * durable queue is a quorum queue with an explicit delivery limit,
 * at-least-once dead-lettering and reject-publish overflow.
 */
export interface ExchangeDef {
  name: string;
  type: 'direct' | 'topic' | 'fanout';
}
export interface QueueDef {
  name: string;
  arguments: Record<string, unknown>;
}
export interface BindingDef {
  queue: string;
  exchange: string;
  routingKey: string;
}
export interface Topology {
  exchanges: ExchangeDef[];
  queues: QueueDef[];
  bindings: BindingDef[];
}

/** Generous: on 3.10 every return (closed channel, killed consumer) counts as a delivery. */
export const DELIVERY_LIMIT = 20;
/** A room answer older than this is noise. */
export const REPLY_TTL_MS = 10 * 60 * 1000;

export function names(prefix = 'kb') {
  return {
    events: `${prefix}.events`,
    ingress: `${prefix}.ingress`,
    replies: `${prefix}.replies`,
    telemetry: `${prefix}.telemetry`,
    changes: `${prefix}.changes`,
    dlx: `${prefix}.dlx`,
    dispatchQueue: `${prefix}.dispatch`,
    /** Schedule fires (`schedule.fire`), consumed by the dispatchers beside room messages. */
    scheduleQueue: `${prefix}.schedule`,
    ingressQueue: `${prefix}.ingress.verify`,
    deadQueue: `${prefix}.dead`,
    exchange: (suffix: string) => `${prefix}.${suffix}`,
    /** Reply queue of one route (a device, an external bot server). */
    replyQueue: (route: string) => `${prefix}.reply.${route}`,
    /** A runner's own call queue (exclusive: it vanishes with the runner's connection). */
    runnerQueue: (runnerId: string) => `${prefix}.runner.${runnerId}`,
    /** A caller's (dispatcher instance's) own RPC result queue (exclusive). */
    rpcReplyQueue: (instanceId: string) => `${prefix}.rpc-reply.${instanceId}`,
  };
}
export type Names = ReturnType<typeof names>;

export function durableQueueArgs(prefix: string): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': DELIVERY_LIMIT,
    'x-dead-letter-exchange': names(prefix).dlx,
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
  };
}

/** One quorum queue per reply route; replies older than the TTL expire into the dead-letter queue. */
export function replyQueueDef(prefix: string, route: string): QueueDef {
  return {
    name: names(prefix).replyQueue(route),
    arguments: { ...durableQueueArgs(prefix), 'x-message-ttl': REPLY_TTL_MS },
  };
}

/**
 * Exclusive, non-durable, auto-deleted: RPC queues live exactly as long as
 * the connection of their owner. A call published (`mandatory`) to the queue
 * of a runner that died is returned at once instead of waiting for nobody.
 * Declared by their owners on connect, not part of `topology()`.
 */
export const RPC_QUEUE_OPTIONS = { exclusive: true, durable: false, autoDelete: true } as const;

export function topology(prefix = 'kb'): Topology {
  const n = names(prefix);
  return {
    exchanges: [
      { name: n.events, type: 'direct' },
      { name: n.ingress, type: 'direct' },
      { name: n.replies, type: 'direct' },
      { name: n.telemetry, type: 'topic' },
      { name: n.changes, type: 'topic' },
      { name: n.dlx, type: 'fanout' },
    ],
    queues: [
      { name: n.dispatchQueue, arguments: durableQueueArgs(prefix) },
      { name: n.scheduleQueue, arguments: durableQueueArgs(prefix) },
      { name: n.ingressQueue, arguments: durableQueueArgs(prefix) },
      { name: n.deadQueue, arguments: { 'x-queue-type': 'quorum' } },
    ],
    bindings: [
      { queue: n.dispatchQueue, exchange: n.events, routingKey: 'analyze' },
      { queue: n.scheduleQueue, exchange: n.events, routingKey: 'schedule.fire' },
      { queue: n.ingressQueue, exchange: n.ingress, routingKey: 'analyze' },
      { queue: n.deadQueue, exchange: n.dlx, routingKey: '' },
    ],
  };
}
