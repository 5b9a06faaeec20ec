import { randomBytes, randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import pg from 'pg';
import { assertReplyQueue, envelope, messages, type AnalyzeEvent, type ReplyPayload } from '@domaeka/broker';
import { SecretBox } from '@domaeka/core';
import { buildGateway, type Gateway, type GatewayOptions } from '../src/app.js';
import { parseGatewayConfig, type GatewayConfig } from '../src/config.js';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { connectPhone, type Phone, type PhoneIdentity, type PhoneOptions } from '../../../test/support/phone.js';

/** A gateway on ephemeral ports for one test env. */
export async function startGateway(
  env: TestEnv,
  opts: GatewayOptions & { config?: (c: GatewayConfig) => GatewayConfig; env?: Record<string, string> } = {},
): Promise<Gateway> {
  let config = parseGatewayConfig({ ...env.env, BRIDGE_HOST: '127.0.0.1', BRIDGE_PORT: '0', GATEWAY_HTTP_HOST: '127.0.0.1', GATEWAY_HTTP_PORT: '0', ...opts.env });
  config = { ...config, limits: { ...config.limits, deviceFlushMs: 50 } };
  if (opts.config) config = opts.config(config);
  const gw = buildGateway(config, opts);
  await gw.start();
  return gw;
}

export interface SeededBot {
  tenantId: string;
  botId: string;
  name: string;
  secretKey: string;
  salt: string;
}

/** Direct SQL access for seeding and checking rows. */
export class Db {
  readonly pool: pg.Pool;
  private readonly box: SecretBox;

  constructor(env: TestEnv) {
    this.pool = new pg.Pool({ connectionString: env.databaseUrl, max: 3 });
    this.box = new SecretBox(Buffer.from(env.secretsKeyHex, 'hex'));
  }

  async seedBot(opts: { name?: string; active?: boolean; tenantId?: string } = {}): Promise<SeededBot> {
    const tenantId = opts.tenantId ?? randomUUID();
    if (!opts.tenantId) await this.pool.query('insert into tenants (id, name) values ($1, $2)', [tenantId, 'tenant ' + tenantId.slice(0, 6)]);
    const bot: SeededBot = {
      tenantId,
      botId: randomUUID(),
      name: opts.name ?? `bot-${randomBytes(3).toString('hex')}`,
      // Phones carry keys like this one (punctuation included).
      secretKey: `k3y!@#${randomBytes(12).toString('hex')}$%^`,
      salt: `s4lt&*${randomBytes(6).toString('hex')}`,
    };
    await this.pool.query('insert into bots (id, tenant_id, name, secret_key_enc, salt_enc, is_active) values ($1, $2, $3, $4, $5, $6)', [
      bot.botId,
      tenantId,
      bot.name,
      this.box.seal(bot.secretKey),
      this.box.seal(bot.salt),
      opts.active ?? true,
    ]);
    return bot;
  }

  async device(botId: string, deviceKey: string): Promise<Record<string, any> | undefined> {
    const { rows } = await this.pool.query('select * from devices where bot_id = $1 and device_key = $2', [botId, deviceKey]);
    return rows[0];
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export function identity(bot: SeededBot, deviceID = `dev-${randomBytes(4).toString('hex')}`): PhoneIdentity {
  return { botName: bot.name, deviceID, secretKey: bot.secretKey, salt: bot.salt };
}

export async function phoneFor(gw: Gateway, opts?: PhoneOptions): Promise<Phone> {
  return connectPhone('127.0.0.1', gw.bridgePort, opts);
}

/**
 * The broker as the rest of the platform sees it: taps analyze events (a
 * queue of our own bound to `<prefix>.events`/`analyze`) and publishes
 * replies to `<prefix>.replies` with routing key `dev.<deviceId>`.
 */
export class BrokerTap {
  readonly events: AnalyzeEvent[] = [];
  private waiters = new Set<{ predicate: (e: AnalyzeEvent) => boolean; resolve: (e: AnalyzeEvent) => void }>();
  private taken = new WeakSet<AnalyzeEvent>();

  private constructor(
    private readonly model: ChannelModel,
    readonly ch: ConfirmChannel,
    private readonly prefix: string,
  ) {}

  static async open(env: TestEnv): Promise<BrokerTap> {
    const model = await amqp.connect(env.amqpUrl);
    const ch = await model.createConfirmChannel();
    const tap = new BrokerTap(model, ch, env.brokerPrefix);
    await ch.assertExchange(`${env.brokerPrefix}.events`, 'direct', { durable: true });
    await ch.assertExchange(`${env.brokerPrefix}.replies`, 'direct', { durable: true });
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(q.queue, `${env.brokerPrefix}.events`, 'analyze');
    await ch.consume(q.queue, (msg) => msg && tap.onEvent(msg), { noAck: true });
    return tap;
  }

  private onEvent(msg: ConsumeMessage): void {
    const e = JSON.parse(msg.content.toString('utf8')) as AnalyzeEvent;
    this.events.push(e);
    for (const w of this.waiters) {
      if (w.predicate(e)) {
        this.waiters.delete(w);
        this.taken.add(e);
        w.resolve(e);
        return;
      }
    }
  }

  /** The next analyze event matching (not returned before). */
  nextEvent(predicate: (e: AnalyzeEvent) => boolean = () => true, timeoutMs = 10_000): Promise<AnalyzeEvent> {
    const found = this.events.find((e) => !this.taken.has(e) && predicate(e));
    if (found) {
      this.taken.add(found);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const w = {
        predicate,
        resolve: (e: AnalyzeEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`no analyze event within ${timeoutMs} ms (seen: ${this.events.map((e) => e.payload.text.slice(0, 20)).join(' | ')})`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  textsSeen(): string[] {
    return this.events.map((e) => e.payload.text);
  }

  /** Publishes a reply (confirmed) to a device's route; `id` is the envelope id (= the event id). */
  async reply(deviceId: string, payload: Partial<ReplyPayload> & { text: string }, id: string = randomUUID()): Promise<string> {
    const env = envelope(
      messages.reply,
      { botId: randomUUID(), botName: 'bot', room: '테스트방', channelId: '12345', type: 'text', media: [], ...payload } satisfies ReplyPayload,
      id,
    );
    this.ch.publish(`${this.prefix}.replies`, `dev.${deviceId}`, Buffer.from(JSON.stringify(env)), { persistent: true, messageId: id, mandatory: true });
    await this.ch.waitForConfirms();
    return id;
  }

  async replyQueueDepth(deviceId: string): Promise<number> {
    const name = await assertReplyQueue(this.ch, this.prefix, `dev.${deviceId}`);
    return (await this.ch.checkQueue(name)).messageCount;
  }

  async close(): Promise<void> {
    await this.model.close().catch(() => undefined);
  }
}

/** What every gateway test file stands on: its own env, a seeded bot, the gateway and a tap on published events. */
export interface GatewayRig {
  env: TestEnv;
  gw: Gateway;
  db: Db;
  tap: BrokerTap;
  bot: SeededBot;
  close(): Promise<void>;
}

export async function openRig(name: string, opts: Parameters<typeof startGateway>[1] = {}): Promise<GatewayRig> {
  const env = await createTestEnv(name);
  const db = new Db(env);
  const bot = await db.seedBot();
  const gw = await startGateway(env, opts);
  const tap = await BrokerTap.open(env);
  return {
    env,
    gw,
    db,
    tap,
    bot,
    async close() {
      await tap.close();
      await gw.stop();
      await db.close();
      await env.cleanup();
    },
  };
}
