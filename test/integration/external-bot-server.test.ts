import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { names, signBot, type EnvelopeOf, type ReplyPayload } from '@domaeka/broker';
import { json } from '../support/http-stub.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * An existing bot server plugs in over AMQP as broker/README.md says: its
 * own RabbitMQ user, signed `ingress.analyze` events, replies on its queue.
 */
describe('external bot server over AMQP', () => {
  let stack: Stack;
  let bot: { id: string; name: string; secretKey: string; salt: string };
  let grant: { username: string; password: string; exchange: string; routingKey: string; replyQueue: string };
  let ext: ChannelModel;
  let n: ReturnType<typeof names>;
  let tenant: TenantClient;

  beforeAll(async () => {
    stack = await startStack('ext-bot', { '/stock': (req, res) => json({ text: `재고: ${req.json?.parameters?.[0] ?? '?'} 12개` })(req, res) });
    n = names(stack.env.brokerPrefix);
    // The first account of the database: also the platform's administrator (it reads the dead letters below).
    tenant = await TenantClient.signup(stack.api, 'server@shop.example');
    bot = await tenant.ok('POST', '/bots', { name: `ext-${randomUUID().slice(0, 8)}` });
    await tenant.ok('POST', '/commands', { command: '재고', target: { type: 'http', url: stack.stub.url('/stock') } });
    grant = await tenant.ok('POST', `/bots/${bot.id}/broker-user`);
    ext = await amqp.connect(`amqp://${grant.username}:${encodeURIComponent(grant.password)}@127.0.0.1:5672`);
    ext.on('error', () => undefined);
  });

  afterAll(async () => {
    await ext?.close().catch(() => undefined);
    if (grant) execFileSync('rabbitmqctl', ['-q', 'delete_user', grant.username]);
    await stack?.close();
  });

  function event(text: string, opts: { logId?: string; signature?: string; timestamp?: number } = {}) {
    const auth = { clientType: 'MyBotServer', botName: bot.name, deviceUUID: 'server-1', macAddress: 'unknown', ipAddress: 'unknown', timestamp: opts.timestamp ?? Date.now() };
    return {
      id: randomUUID(),
      type: 'ingress.analyze',
      version: 1,
      occurredAt: new Date().toISOString(),
      payload: {
        botName: bot.name,
        room: '서버방',
        channelId: 'srv-1',
        sender: '홍길동',
        text,
        logId: opts.logId ?? randomUUID(),
        auth: { ...auth, signature: opts.signature ?? signBot(auth, bot.secretKey, bot.salt) },
      },
    };
  }

  async function publish(ch: ConfirmChannel, exchange: string, body: unknown): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      ch.publish(exchange, 'analyze', Buffer.from(JSON.stringify(body)), { persistent: true }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** The refusal reasons as the platform's administrator sees them (the API moves `<prefix>.dead` into kb_dead_letters). */
  async function deadReasons(count: number): Promise<string[]> {
    const page = await waitFor(async () => {
      const p = await tenant.ok<{ items: { reason: string; detail: string | null }[] }>('GET', '/admin/dead-letters?status=pending');
      return p.items.length >= count ? p : null;
    }, { what: 'dead letters' });
    expect(page.items.every((d) => d.reason === 'rejected')).toBe(true);
    return page.items.map((d) => String(d.detail));
  }

  it('gets the reply to a signed event on its own queue', async () => {
    const ch = await ext.createConfirmChannel();
    const ev = event('재고 사과');
    await publish(ch, grant.exchange, ev);
    const reply = await new Promise<EnvelopeOf<ReplyPayload>>((resolve) => {
      void ch.consume(grant.replyQueue, (m) => {
        if (!m) return;
        ch.ack(m);
        resolve(JSON.parse(m.content.toString()) as EnvelopeOf<ReplyPayload>);
      });
    });
    expect(reply.id).toBe(ev.id);
    expect(reply.payload).toMatchObject({ room: '서버방', channelId: 'srv-1', type: 'text', text: '재고: 사과 12개' });
    await ch.close();
  });

  it('dead-letters unsigned, stale and schema-invalid events with the reason', async () => {
    const ch = await ext.createConfirmChannel();
    await publish(ch, grant.exchange, event('재고 배', { signature: '0'.repeat(64) }));
    await publish(ch, grant.exchange, event('재고 배', { timestamp: Date.now() - 6 * 60_000 }));
    const invalid = event('재고 배') as any;
    delete invalid.payload.channelId;
    await publish(ch, grant.exchange, invalid);
    const reasons = await deadReasons(3);
    expect(reasons).toEqual(expect.arrayContaining(['bad_signature', 'stale_timestamp', expect.stringContaining('channelId')]));
    await ch.close();
  });

  it('cannot publish or read anything else', async () => {
    const denied = async (fn: (ch: ConfirmChannel) => Promise<unknown>) => {
      const ch = await ext.createConfirmChannel();
      ch.on('error', () => undefined);
      const closed = new Promise<string>((resolve) => ch.once('close', () => resolve('closed')));
      const outcome = await Promise.race([fn(ch).then(() => 'allowed', (e: Error) => (/ACCESS_REFUSED|403|closed/i.test(e.message) ? 'denied' : e.message)), closed]);
      return outcome === 'closed' ? 'denied' : outcome;
    };
    expect(await denied((ch) => publish(ch, n.events, event('재고 사과')))).toBe('denied');
    expect(await denied((ch) => ch.get(n.dispatchQueue))).toBe('denied');
    expect(await denied((ch) => ch.get(n.deadQueue))).toBe('denied');
    expect(await denied((ch) => ch.assertQueue('mine'))).toBe('denied');
  });
});
