import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel, ChannelModel } from 'amqplib';
import { BrokerConnection, ConsumerChannels, Publisher, durableQueueArgs, envelope, messages, type AnalyzePayload } from '@domaeka/broker';
import type { TestEnv } from '../../test/support/env.js';
import { analyzePayload as payload, openBrokerFixture, type BrokerFixture } from './broker-fixture.js';
import { waitFor } from '../../test/support/wait.js';

/** Many one-queue consumers on a few shared channels (what the gateway's reply consumers stand on). */
describe('consumer channels shared by many queues (real RabbitMQ)', () => {
  let env: TestEnv;
  let conn: BrokerConnection;
  let publisher: Publisher;
  let probe: Channel;
  const queue = (i: number) => `${env.brokerPrefix}.shared.${i}`;
  const declare = (i: number) => async (ch: Channel) => {
    await ch.assertQueue(queue(i), { durable: true, arguments: durableQueueArgs(env.brokerPrefix) });
    return queue(i);
  };
  const send = (i: number, text: string) => {
    const env = envelope(messages.analyze, payload(text));
    return publisher.publishRaw('', queue(i), Buffer.from(JSON.stringify(env)), { messageId: env.id });
  };
  /** Ready (not held by a consumer) messages in a queue. */
  const ready = async (i: number) => (await probe.checkQueue(queue(i))).messageCount;

  let fx: BrokerFixture;

  beforeAll(async () => {
    fx = await openBrokerFixture('broker-shared-channels');
    ({ env, conn, publisher, probe } = fx);
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('puts 12 queues on 3 channels of 5 and delivers each queue its own messages', async () => {
    const pool = new ConsumerChannels(conn, publisher, { perChannel: 5, prefetch: 4 });
    await pool.start();
    const got = new Map<number, string[]>();
    const subs = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        pool.subscribe<AnalyzePayload>({
          queue: declare(i),
          def: messages.analyze,
          handler: async (e) => void got.set(i, [...(got.get(i) ?? []), e.payload.text]),
        }),
      ),
    );
    expect(pool.channels).toBe(3);
    for (let i = 0; i < 12; i++) await send(i, `q${i}`);
    await waitFor(() => [...got.values()].flat().length === 12 || undefined, { what: '12 messages handled' });
    for (let i = 0; i < 12; i++) expect(got.get(i)).toEqual([`q${i}`]);
    // Acked: nothing is left in any queue once the acks went out.
    await waitFor(async () => (await Promise.all(subs.map((_, i) => ready(i)))).every((n) => n === 0) || undefined, { what: 'queues empty' });
    for (const s of subs) await s.stop();
    await pool.stop();
  });

  it("gives one queue's held and prefetched messages back without closing the channel its neighbours use", async () => {
    const pool = new ConsumerChannels(conn, publisher, { perChannel: 10, prefetch: 3 });
    await pool.start();
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((r) => (release = r));
    const leaving: string[] = [];
    const neighbour: string[] = [];
    const gone = new Error('phone gone');
    Object.assign(gone, { dependencyDown: true });
    let stopped = false;
    const a = await pool.subscribe<AnalyzePayload>({
      queue: declare(20),
      def: messages.analyze,
      // The phone is slow, then gone: what it holds must go back to the queue.
      handler: async (e) => {
        leaving.push(e.payload.text);
        await blocked;
        if (stopped) throw gone;
      },
    });
    const b = await pool.subscribe<AnalyzePayload>({ queue: declare(21), def: messages.analyze, handler: async (e) => void neighbour.push(e.payload.text) });
    expect(pool.channels).toBe(1);
    for (const t of ['a1', 'a2', 'a3', 'a4', 'a5']) await send(20, t);
    // Prefetch 3: three in hand, two ready in the queue.
    await waitFor(() => leaving.length === 3 || undefined, { what: 'three held' });
    expect(await ready(20)).toBe(2);
    stopped = true;
    await a.stop();
    await waitFor(async () => ((await ready(20)) === 5 ? true : undefined), { what: 'the three held back in the queue' });
    release();
    // The neighbour on the same channel keeps taking messages, and the late handlers acked nothing (the channel is alive).
    await send(21, 'b1');
    await waitFor(() => neighbour.includes('b1') || undefined, { what: 'neighbour still served' });
    expect(pool.channels).toBe(1);
    expect(await ready(20)).toBe(5);
    // The device comes back (here or elsewhere): it gets all five, each once.
    const again: string[] = [];
    const a2 = await pool.subscribe<AnalyzePayload>({ queue: declare(20), def: messages.analyze, handler: async (e) => void again.push(e.payload.text) });
    await waitFor(() => again.length === 5 || undefined, { what: 'all five after coming back' });
    expect([...again].sort()).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    await waitFor(async () => ((await ready(20)) === 0 ? true : undefined), { what: 'acked' });
    await a2.stop();
    await b.stop();
    await pool.stop();
  });

  it('subscribes every queue again after the connection was lost', async () => {
    const pool = new ConsumerChannels(conn, publisher, { perChannel: 2, prefetch: 4 });
    await pool.start();
    const got: string[] = [];
    const subs = await Promise.all([30, 31, 32].map((i) => pool.subscribe<AnalyzePayload>({ queue: declare(i), def: messages.analyze, handler: async (e) => void got.push(e.payload.text) })));
    const back = new Promise<void>((resolve) => conn.once('ready', () => resolve()));
    await (conn as unknown as { model: ChannelModel }).model.close();
    await back;
    for (const i of [30, 31, 32]) await send(i, `after-${i}`);
    await waitFor(() => got.length === 3 || undefined, { what: 'messages after the reconnect' });
    expect([...got].sort()).toEqual(['after-30', 'after-31', 'after-32']);
    expect(pool.channels).toBe(2);
    for (const s of subs) await s.stop();
    await pool.stop();
  });
});
