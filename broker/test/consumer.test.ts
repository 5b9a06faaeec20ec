import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel } from 'amqplib';
import {
  BrokerConnection,
  Consumer,
  Publisher,
  RefusedMessageError,
  UnroutableError,
  durableQueueArgs,
  envelope,
  messages,
  names,
  type AnalyzePayload,
} from '@domaeka/broker';
import type { TestEnv } from '../../test/support/env.js';
import { analyzePayload, openBrokerFixture, type BrokerFixture } from './broker-fixture.js';
import { waitFor } from '../../test/support/wait.js';

describe('broker consumer wrapper (real RabbitMQ)', () => {
  let env: TestEnv;
  let conn: BrokerConnection;
  let publisher: Publisher;
  let ch: Channel;
  let n: ReturnType<typeof names>;

  let fx: BrokerFixture;

  beforeAll(async () => {
    fx = await openBrokerFixture('broker-consumer');
    ({ env, conn, publisher, probe: ch } = fx);
    n = names(env.brokerPrefix);
  });

  afterAll(async () => {
    await fx?.close();
  });

  async function deadLetters(count: number) {
    const got: { body: string; reason: unknown }[] = [];
    await waitFor(async () => {
      const m = await ch.get(n.deadQueue, { noAck: true });
      if (m) got.push({ body: m.content.toString(), reason: m.properties.headers?.['x-kb-reason'] });
      return got.length >= count ? got : undefined;
    }, { what: 'dead letters' });
    return got;
  }

  it('dead-letters invalid JSON and schema-invalid messages with the reason, and handles valid ones', async () => {
    const handled: string[] = [];
    const consumer = new Consumer<AnalyzePayload>(conn, publisher, {
      queue: n.dispatchQueue,
      def: messages.analyze,
      prefetch: 10,
      handler: async (e) => {
        handled.push(e.payload.text);
      },
    });
    await consumer.start();
    await publisher.publishRaw(n.events, 'analyze', Buffer.from('not json{'), { messageId: 'garbage-1' });
    const bad = envelope(messages.analyze, { ...analyzePayload('x'), channelId: '' });
    await publisher.publish(messages.analyze, 'analyze', bad);
    await publisher.publish(messages.analyze, 'analyze', envelope(messages.analyze, analyzePayload('날씨 화도읍')));
    const dead = await deadLetters(2);
    expect(dead.map((d) => String(d.reason))).toEqual(
      expect.arrayContaining(['invalid JSON', expect.stringContaining('schema analyze.v1: /payload/channelId')]),
    );
    await waitFor(() => handled.includes('날씨 화도읍'));
    await consumer.stop();
  });

  it('holds a message while a dependency is down and handles it once it is back', async () => {
    let attempts = 0;
    const done: string[] = [];
    const consumer = new Consumer<AnalyzePayload>(conn, publisher, {
      queue: n.dispatchQueue,
      def: messages.analyze,
      prefetch: 10,
      maxRetryBackoffMs: 50,
      handler: async (e) => {
        attempts++;
        if (attempts < 5) throw Object.assign(new Error('database down'), { dependencyDown: true });
        done.push(e.payload.text);
      },
    });
    await consumer.start();
    await publisher.publish(messages.analyze, 'analyze', envelope(messages.analyze, analyzePayload('재고 사과')));
    await waitFor(() => done.length === 1);
    expect(attempts).toBe(5);
    await consumer.stop();
    const q = await ch.checkQueue(n.deadQueue);
    expect(q.messageCount).toBe(0);
  });

  it('refuses on purpose with a reason, and dead-letters poison after the delivery limit', async () => {
    const poisonQueue = `${env.brokerPrefix}.poison`;
    await ch.assertQueue(poisonQueue, { durable: true, arguments: { ...durableQueueArgs(env.brokerPrefix), 'x-delivery-limit': 2 } });
    await ch.bindQueue(poisonQueue, n.events, 'poison');
    let deliveries = 0;
    const consumer = new Consumer<AnalyzePayload>(conn, publisher, {
      queue: poisonQueue,
      def: messages.analyze,
      prefetch: 1,
      handler: async (e) => {
        if (e.payload.text === 'refuse') throw new RefusedMessageError('bad signature');
        deliveries++;
        throw new Error('boom');
      },
    });
    await consumer.start();
    await publisher.publish(messages.analyze, 'poison', envelope(messages.analyze, analyzePayload('refuse')));
    await publisher.publish(messages.analyze, 'poison', envelope(messages.analyze, analyzePayload('poison')));
    const dead = await deadLetters(2);
    expect(dead.map((d) => String(d.reason))).toContain('bad signature');
    expect(dead.some((d) => d.body.includes('"poison"'))).toBe(true);
    expect(deliveries).toBe(3);
    await consumer.stop();
  });

  it('rejects a durable publish nobody can receive', async () => {
    await expect(
      publisher.publish(messages.reply, 'dev.nobody', envelope(messages.reply, {} as never)),
    ).rejects.toBeInstanceOf(UnroutableError);
  });
});
