import type { BrokerConnection, Consumer, MessageDef, Publisher } from '@domaeka/broker';
import { subscribeTelemetry } from '../bus/subscription.js';

/**
 * A consumer of one kind of heartbeat on the telemetry exchange, for the ops
 * views (gateways, runner lanes): services meet only on the broker, so the
 * API learns what they hold from their beats. One exclusive auto-delete
 * queue per watch and API process, capped (a stalled process drops old
 * beats, never piles them up).
 */
export function watchHeartbeats<P>(
  conn: BrokerConnection,
  publisher: Publisher,
  prefix: string,
  def: MessageDef,
  routingKey: string,
  onBeat: (payload: P) => void,
): Consumer<P> {
  return subscribeTelemetry<P>(conn, publisher, prefix, { def, routingKeys: [routingKey], prefetch: 50, maxLength: 1000, handle: onBeat });
}
