import amqp, { type Channel, type ChannelModel } from 'amqplib';
import pino from 'pino';
import { BrokerConnection, Publisher, assertTopology, topology, type AnalyzePayload } from '@domaeka/broker';
import { createTestEnv, type TestEnv } from '../../test/support/env.js';

/**
 * What a broker test file stands on: its own prefix and database (createTestEnv), our
 * BrokerConnection with the prefix's topology declared on every (re)connect, a Publisher on it,
 * and a plain amqplib connection and channel to look at queues from outside.
 */
export interface BrokerFixture {
  env: TestEnv;
  conn: BrokerConnection;
  publisher: Publisher;
  raw: ChannelModel;
  probe: Channel;
  close(): Promise<void>;
}

export async function openBrokerFixture(name: string): Promise<BrokerFixture> {
  const env = await createTestEnv(name);
  const conn = new BrokerConnection({ url: env.amqpUrl, connectionName: `test-${name}`, logger: pino({ level: 'silent' }) });
  await conn.onReady(async () => {
    const c = await conn.createChannel();
    await assertTopology(c, topology(env.brokerPrefix));
    await c.close();
  });
  await conn.start();
  const raw = await amqp.connect(env.amqpUrl);
  const probe = await raw.createChannel();
  return {
    env,
    conn,
    publisher: new Publisher(conn, env.brokerPrefix),
    raw,
    probe,
    async close() {
      await raw.close();
      await conn.close();
      await env.cleanup();
    },
  };
}

/** A room message's analyze payload with only its text chosen. */
export function analyzePayload(text: string): AnalyzePayload {
  return {
    source: 'http',
    botId: '0191a1b2-0000-7000-8000-000000000001',
    botName: 'bot',
    deviceId: null,
    deviceKey: null,
    room: '테스트방',
    channelId: '1',
    sender: '홍길동',
    senderHash: null,
    text,
    isGroupChat: true,
    isMention: false,
    logId: null,
    sentAt: null,
    replyRoute: null,
  };
}
