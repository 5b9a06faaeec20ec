import type { Channel } from 'amqplib';
import { Consumer, messages, names, routingKeys, type BrokerConnection, type GatewayHeartbeatPayload, type Publisher } from '@domaeka/broker';

interface Seen {
  beat: GatewayHeartbeatPayload;
  at: number;
}

/**
 * The gateways that are alive and the phones they hold, from their
 * `gateway.heartbeat` telemetry (services meet only on the broker: the API
 * never calls a gateway's port). A gateway not heard from for three of its
 * beats is left out. One exclusive auto-delete queue per API process.
 */
export class GatewayWatch {
  private readonly seen = new Map<string, Seen>();
  private readonly consumer: Consumer<GatewayHeartbeatPayload>;

  constructor(
    conn: BrokerConnection,
    publisher: Publisher,
    prefix: string,
    private readonly clock: () => number = Date.now,
  ) {
    const telemetry = names(prefix).telemetry;
    this.consumer = new Consumer<GatewayHeartbeatPayload>(conn, publisher, {
      def: messages.gatewayHeartbeat,
      queue: async (ch: Channel) => {
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false, arguments: { 'x-max-length': 1000 } });
        await ch.bindQueue(queue, telemetry, routingKeys.gatewayHeartbeat);
        return queue;
      },
      prefetch: 50,
      noAck: true,
      exclusive: true,
      handler: async (env) => this.beat(env.payload),
    });
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }

  beat(b: GatewayHeartbeatPayload): void {
    this.seen.set(b.gatewayId, { beat: b, at: this.clock() });
  }

  /** The bridge port of a live gateway (they all listen on the same one behind one address), or null. */
  bridgePort(): number | null {
    return this.live().find((b) => b.bridgePort !== undefined)?.bridgePort ?? null;
  }

  /** Gateways heard from within three of their beats. */
  live(): GatewayHeartbeatPayload[] {
    const now = this.clock();
    const out: GatewayHeartbeatPayload[] = [];
    for (const [id, s] of this.seen) {
      if (now - s.at > 3 * s.beat.intervalMs) this.seen.delete(id);
      else out.push(s.beat);
    }
    return out;
  }
}
