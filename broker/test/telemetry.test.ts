import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConnection, Publisher, assertTopologyOnConnect, envelope, messages, names, routingKeys, type DispatchDonePayload, type EnvelopeOf } from '@domaeka/broker';
import { AMQP_URL, deleteBrokerNames } from '../../test/support/env.js';
import { waitFor } from '../../test/support/wait.js';

const PREFIX = `t-telemetry-${process.pid}`;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Telemetry (dispatch.done, call.log) goes out on a channel without
 * publisher confirms (issue 19): what a listener notices is that every
 * notice still arrives, in order once the channel is open, across a lost
 * connection too.
 */
describe('Publisher.publishTelemetry', () => {
  let conn: BrokerConnection;
  let publisher: Publisher;
  let listener: amqp.ChannelModel;
  const seen: string[] = [];

  beforeAll(async () => {
    conn = new BrokerConnection({ url: AMQP_URL, connectionName: 'telemetry-test', logger: quiet, minBackoffMs: 20, maxBackoffMs: 100 });
    await assertTopologyOnConnect(conn, PREFIX);
    await conn.start();
    publisher = new Publisher(conn, PREFIX);
    listener = await amqp.connect(AMQP_URL);
    const ch = await listener.createChannel();
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(q.queue, names(PREFIX).telemetry, routingKeys.dispatchDoneAll);
    await ch.consume(q.queue, (m) => m && seen.push((JSON.parse(m.content.toString()) as EnvelopeOf<DispatchDonePayload>).payload.eventId), { noAck: true });
  });

  afterAll(async () => {
    await conn.close();
    await listener.close().catch(() => undefined);
    await deleteBrokerNames(PREFIX);
  });

  const notice = (eventId: string) =>
    publisher.publishTelemetry(messages.dispatchDone, routingKeys.dispatchDone('phone', null), envelope(messages.dispatchDone, { eventId, tenantId: null, botId: eventId, status: 'no_match', reply: null }));

  it('reaches a listener: every notice, in the order sent after the first', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`);
    notice(ids[0]!);
    // The telemetry channel opens in the background; the first notice went on the confirm channel meanwhile.
    await waitFor(() => seen.length >= 1 || undefined, { what: 'the first notice' });
    for (const id of ids.slice(1)) notice(id);
    await waitFor(() => seen.length >= ids.length || undefined, { what: `${ids.length} notices` });
    expect(seen).toEqual(ids);
  });

  it('keeps flowing after the broker connection was lost and came back', async () => {
    seen.length = 0;
    const back = new Promise<void>((resolve) => conn.once('ready', () => resolve()));
    // The broker closes our connection (as a node restart would).
    const model = (conn as unknown as { model: amqp.ChannelModel }).model;
    await model.close();
    await back;
    const ids = Array.from({ length: 50 }, (_, i) => `00000000-0000-7000-9000-${String(i).padStart(12, '0')}`);
    for (const id of ids) notice(id);
    await waitFor(() => seen.length >= ids.length || undefined, { what: 'notices after the reconnect' });
    expect([...seen].sort()).toEqual(ids);
  });
});
