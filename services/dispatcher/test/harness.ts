import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import {
  assertReplyQueue,
  envelope,
  messages,
  names,
  routingKeys,
  type AnalyzePayload,
  type BrokerConnection,
  type ChangedPayload,
  type DispatchDonePayload,
  type EnvelopeOf,
  type Publisher,
  type ReplyPayload,
} from '@domaeka/broker';
import { SecretBox, createLogger, createPool, type Pool } from '@domaeka/core';
import { connectBroker } from '@domaeka/broker';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { waitFor } from '../../../test/support/wait.js';
import { buildDispatcher, type Dispatcher } from '../src/app.js';
import { parseDispatcherConfig } from '../src/config.js';

export { json, startStub, type Stub, type StubHandler, type StubRequest } from '../../../test/support/http-stub.js';
import { startStub, type Stub, type StubHandler } from '../../../test/support/http-stub.js';

// ---------- rows, seeded directly ----------

export interface Seeded {
  tenantId: string;
  botId: string;
  botName: string;
  deviceId: string;
  deviceKey: string;
}

export class Seeder {
  constructor(
    readonly pool: Pool,
    readonly box: SecretBox,
  ) {}

  async tenant(plan = 'free'): Promise<string> {
    const id = randomUUID();
    await this.pool.query(`insert into tenants (id, name, plan_id) values ($1, $2, $3)`, [id, `테넌트-${id.slice(0, 4)}`, plan]);
    return id;
  }

  async bot(tenantId: string, opts: { manualRoomApproval?: boolean } = {}): Promise<{ id: string; name: string }> {
    const id = randomUUID();
    const name = `봇-${id.slice(0, 8)}`;
    await this.pool.query(
      `insert into bots (id, tenant_id, name, secret_key_enc, salt_enc, manual_room_approval) values ($1, $2, $3, $4, $5, $6)`,
      [id, tenantId, name, this.box.seal('secret-key'), this.box.seal('salt'), opts.manualRoomApproval ?? false],
    );
    return { id, name };
  }

  async device(botId: string, status: 'pending' | 'approved' | 'blocked' = 'approved'): Promise<{ id: string; key: string }> {
    const id = randomUUID();
    const key = `android_${id.slice(0, 8)}`;
    await this.pool.query(`insert into devices (id, bot_id, device_key, status) values ($1, $2, $3, $4)`, [id, botId, key, status]);
    return { id, key };
  }

  /** Tenant + bot + one device (approved unless said otherwise). */
  async botWithDevice(opts: { plan?: string; manualRoomApproval?: boolean; device?: 'pending' | 'approved' | 'blocked' } = {}): Promise<Seeded> {
    const tenantId = await this.tenant(opts.plan);
    const bot = await this.bot(tenantId, opts);
    const device = await this.device(bot.id, opts.device);
    return { tenantId, botId: bot.id, botName: bot.name, deviceId: device.id, deviceKey: device.key };
  }

  async command(
    tenantId: string,
    c: {
      command: string;
      pattern?: string | null;
      url?: string;
      method?: string;
      headers?: Record<string, string>;
      timeoutMs?: number;
      sandbox?: boolean;
    },
  ): Promise<string> {
    const { rows } = await this.pool.query<{ id: string }>(
      `insert into kb_commands (tenant_id, command, pattern, target_type, api_server_url, api_method, api_headers_enc, language, code, timeout)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id::text as id`,
      [
        tenantId,
        c.command,
        c.pattern ?? null,
        c.sandbox ? 'sandbox' : 'http',
        c.sandbox ? null : c.url,
        c.method ?? 'POST',
        c.headers ? this.box.seal(JSON.stringify(c.headers)) : null,
        c.sandbox ? 'python' : null,
        c.sandbox ? 'def handle_command(params):\n    return "hi"\n' : null,
        c.timeoutMs ?? 5000,
      ],
    );
    return rows[0]!.id;
  }
}

// ---------- the dispatcher in-process, plus a broker client watching what it sends ----------

export interface Harness {
  env: TestEnv;
  pool: Pool;
  seed: Seeder;
  stub: Stub;
  dispatcher: Dispatcher;
  conn: BrokerConnection;
  publisher: Publisher;
  /** Moves the dispatcher's clock (cache expiry) without sleeping. */
  advance(ms: number): void;
  /** Declares the reply queue of a route (as the gateway does) and collects what arrives (one list per route). */
  watchRoute(route: string): Promise<EnvelopeOf<ReplyPayload>[]>;
  /** Publishes an analyze event (the gateway's side); returns the event id. */
  analyze(s: Pick<Seeded, 'botId' | 'botName'> & Partial<Seeded>, p: Partial<AnalyzePayload>, id?: string): Promise<string>;
  /** Waits for the dispatch.done of an event. */
  done(eventId: string): Promise<DispatchDonePayload>;
  changed(change: ChangedPayload): void;
  close(): Promise<void>;
}

export interface HarnessOptions {
  dispatcherEnv?: Record<string, string>;
  stub?: Record<string, StubHandler>;
  /** Rewrites the dispatcher's DATABASE_URL (e.g. through a relay the test can cut). */
  relayDatabase?: (url: string) => string;
}

export async function startHarness(name: string, opts: HarnessOptions = {}): Promise<Harness> {
  const stub = await startStub(opts.stub);
  const env = await createTestEnv(name);
  const pool = createPool(env.databaseUrl, 4);
  const box = new SecretBox(Buffer.from(env.secretsKeyHex, 'hex'));
  let now = Date.now();
  const config = parseDispatcherConfig({
    ...env.env,
    DISPATCHER_HTTP_PORT: '0',
    DISPATCHER_HTTP_HOST: '127.0.0.1',
    EGRESS_ALLOW: `127.0.0.1:${stub.port}`,
    DATABASE_URL: opts.relayDatabase ? opts.relayDatabase(env.databaseUrl) : env.databaseUrl,
    ...opts.dispatcherEnv,
  });
  const dispatcher = buildDispatcher(config, { clock: () => now });
  const logger = createLogger('dispatcher-test', 'silent');
  const { conn, publisher } = await connectBroker({ url: env.amqpUrl, prefix: env.brokerPrefix, name: `test-${name}`, logger });
  const ch: Channel = await conn.createChannel();

  const dones = new Map<string, DispatchDonePayload>();
  const watched = new Map<string, EnvelopeOf<ReplyPayload>[]>();
  const { queue: doneQueue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(doneQueue, names(env.brokerPrefix).telemetry, routingKeys.dispatchDoneAll);
  await ch.consume(
    doneQueue,
    (msg: ConsumeMessage | null) => {
      if (!msg) return;
      const e = JSON.parse(msg.content.toString('utf8')) as EnvelopeOf<DispatchDonePayload>;
      dones.set(e.payload.eventId, e.payload);
    },
    { noAck: true },
  );

  await dispatcher.start();

  return {
    env,
    pool,
    seed: new Seeder(pool, box),
    stub,
    dispatcher,
    conn,
    publisher,
    advance(ms) {
      now += ms;
    },
    async watchRoute(route) {
      // One consumer per route: a second one would take turns with the first.
      const known = watched.get(route);
      if (known) return known;
      const got: EnvelopeOf<ReplyPayload>[] = [];
      watched.set(route, got);
      const q = await assertReplyQueue(ch, env.brokerPrefix, route);
      await ch.consume(
        q,
        (msg) => {
          if (!msg) return;
          got.push(JSON.parse(msg.content.toString('utf8')) as EnvelopeOf<ReplyPayload>);
          ch.ack(msg);
        },
        { noAck: false },
      );
      return got;
    },
    async analyze(s, p, id) {
      const payload: AnalyzePayload = {
        source: 'phone',
        botId: s.botId,
        botName: s.botName,
        deviceId: s.deviceId ?? null,
        deviceKey: s.deviceKey ?? null,
        room: '테스트방',
        channelId: '12345',
        sender: '홍길동',
        senderHash: null,
        text: '',
        isGroupChat: true,
        isMention: false,
        logId: String(BigInt.asUintN(63, BigInt(`0x${randomUUID().replace(/-/g, '').slice(0, 16)}`))),
        sentAt: null,
        replyRoute: s.deviceId ? `dev.${s.deviceId}` : null,
        ...p,
      };
      const env_ = envelope(messages.analyze, payload, id);
      await publisher.publish(messages.analyze, routingKeys.analyze, env_);
      return env_.id;
    },
    done(eventId) {
      return waitFor(() => dones.get(eventId), { what: `dispatch.done of ${eventId}` });
    },
    changed(change) {
      publisher.publishTelemetry(messages.changed, routingKeys.changed, envelope(messages.changed, change));
    },
    async close() {
      await dispatcher.stop();
      await conn.close();
      await pool.end();
      await stub.close();
      await env.cleanup();
    },
  };
}

/**
 * kb_api_logs rows of an event. The reply is published while the outbox row
 * and the log row are stored (one statement), so a test that saw the reply
 * first waits until the event's outbox row is no longer pending.
 */
export async function logRows(pool: Pool, eventId: string) {
  await waitFor(
    async () => (await pool.query(`select 1 from kb_outbox where event_id = $1 and status = 'pending'`, [eventId])).rowCount === 0,
    { what: `outbox row of ${eventId} settled` },
  );
  const { rows } = await pool.query(
    `select status_code, response_time, error_code, error_message, request_data, response_data, command_id::text as command_id, tenant_id
       from kb_api_logs where event_id = $1 order by id`,
    [eventId],
  );
  return rows as {
    status_code: number | null;
    response_time: number | null;
    error_code: string | null;
    error_message: string | null;
    request_data: string | null;
    response_data: string | null;
    command_id: string | null;
    tenant_id: string;
  }[];
}
