import { messages, routingKeys, type Consumer, type BrokerConnection, type GatewayHeartbeatPayload, type Publisher } from '@domaeka/broker';
import { watchHeartbeats } from './heartbeat-watch.js';

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
    this.consumer = watchHeartbeats<GatewayHeartbeatPayload>(conn, publisher, prefix, messages.gatewayHeartbeat, routingKeys.gatewayHeartbeat, (b) => this.beat(b));
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
