import type { Channel } from 'amqplib';
import { Consumer, names, type BrokerConnection, type MessageDef, type Publisher } from '@domaeka/broker';

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
  const telemetry = names(prefix).telemetry;
  return new Consumer<P>(conn, publisher, {
    def,
    queue: async (ch: Channel) => {
      const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false, arguments: { 'x-max-length': 1000 } });
      await ch.bindQueue(queue, telemetry, routingKey);
      return queue;
    },
    prefetch: 50,
    noAck: true,
    exclusive: true,
    handler: async (env) => onBeat(env.payload),
  });
}
