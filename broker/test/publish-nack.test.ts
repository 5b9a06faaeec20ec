import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerConnection, BrokerUnavailableError, Publisher } from '@domaeka/broker';
import { AMQP_URL } from '../../test/support/env.js';

/**
 * A message the broker refuses (basic.nack) fails for its caller, and the
 * connection publishes on a new channel from then on (after a cluster node
 * went away, RabbitMQ 3.10 kept nacking one channel's publishes to a quorum
 * queue). A queue that is full (`reject-publish`) is the nack made here.
 */
describe('Publisher when the broker refuses a message', () => {
  let conn: BrokerConnection | null = null;
  afterEach(async () => {
    await conn?.close();
  });

  it('rejects that publish, moves to a new publish channel, and the next publish goes through', async () => {
    const warnings: string[] = [];
    const logger = { info: () => undefined, error: () => undefined, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
    conn = new BrokerConnection({ url: AMQP_URL, connectionName: 'publish-nack-test', logger });
    await conn.start();
    const publisher = new Publisher(conn, `t.nack_${randomBytes(3).toString('hex')}`);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    const send = (id: string) => publisher.publishRaw('', queue, Buffer.from(id), { messageId: id });

    await send('first');
    const refusedOn = conn.confirmChannel();
    const renewed = once(refusedOn!, 'close');
    await expect(send('second')).rejects.toThrow(BrokerUnavailableError);
    await renewed;
    expect(conn.confirmChannel()).not.toBeNull();
    expect(conn.confirmChannel()).not.toBe(refusedOn);
    expect(warnings).toContain('broker refused a message; publishing on a new channel');
    expect(conn.readiness()).toBe(true);

    // Room again: the new channel's publish is confirmed.
    expect((await ch.get(queue, { noAck: true }) || null)?.content.toString()).toBe('first');
    await send('third');
    expect((await ch.get(queue, { noAck: true }) || null)?.content.toString()).toBe('third');
    await ch.close();
  });
});
