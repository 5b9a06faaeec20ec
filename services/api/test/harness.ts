import amqp, { type ChannelModel } from 'amqplib';
import pg from 'pg';
import type { LightMyRequestResponse } from 'fastify';
import { SecretBox } from '@domaeka/core';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { buildApi, type ApiServer, type BuildApiOptions } from '../src/app.js';
import { parseApiConfig, type ApiConfig } from '../src/config.js';

/** The only address tests let HTTP targets point at (EGRESS_ALLOW names it). */
export const ALLOWED_TARGET = 'http://127.0.0.1:9999/hook';

export interface Harness {
  env: TestEnv;
  config: ApiConfig;
  api: ApiServer;
  /** Direct database access for set-up (rows the gateway/dispatcher would write) and for checks. */
  db: pg.Client;
  secrets: SecretBox;
  close(): Promise<void>;
}

/** A started API on its own database and broker prefix (`opts`: e.g. a clock the test moves). */
export async function startApi(name: string, opts: BuildApiOptions = {}): Promise<Harness> {
  const env = await createTestEnv(name, { EGRESS_ALLOW: '127.0.0.1:9999' });
  const config = parseApiConfig({ ...env.env, API_PORT: '0' });
  const api = buildApi(config, opts);
  await api.start();
  const db = new pg.Client({ connectionString: env.databaseUrl });
  await db.connect();
  return {
    env,
    config,
    api,
    db,
    secrets: new SecretBox(Buffer.from(env.secretsKeyHex, 'hex')),
    async close() {
      await api.stop();
      await db.end();
      await env.cleanup();
    },
  };
}

export interface Account {
  /** Send as `cookies` in inject options. */
  cookies: Record<string, string>;
  me: { id: string; email: string; name: string; isAdmin: boolean; tenant: { id: string; name: string; plan: string } };
}

let signups = 0;

export async function signup(h: Harness, email: string, password = 'correct horse battery'): Promise<Account> {
  // Each account from its own address: signups are limited to 10 an hour per client IP.
  const n = ++signups;
  const remoteAddress = `10.77.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
  const res = await h.api.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email, password, name: email.split('@')[0] }, remoteAddress });
  if (res.statusCode !== 201) throw new Error(`signup ${email}: ${res.statusCode} ${res.body}`);
  const csrf = res.cookies.find((c) => c.name === 'kb_csrf')!.value;
  return { cookies: { kb_session: sessionCookie(res)!.value, kb_csrf: csrf }, me: res.json() };
}

export function sessionCookie(res: LightMyRequestResponse) {
  return res.cookies.find((c) => c.name === 'kb_session');
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
/** A request as a signed-in user (a browser: both cookies, the CSRF header on unsafe methods). */
export function as(h: Harness, who: Account) {
  return (method: Method, url: string, payload?: unknown) =>
    h.api.app.inject({
      method,
      url: `/api/v1${url}`,
      cookies: who.cookies,
      headers: method === 'GET' ? {} : { 'x-csrf-token': who.cookies.kb_csrf ?? '' },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
}

export interface Observed {
  messages: { routingKey: string; body: any }[];
  close(): Promise<void>;
}

/**
 * An extra exclusive queue bound to one exchange of the test's prefix, to
 * see what the API publishes (the real consumers' queues are left alone).
 */
export async function observe(h: Harness, exchangeSuffix: string, routingKey: string): Promise<Observed> {
  const conn: ChannelModel = await amqp.connect(h.env.amqpUrl);
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, `${h.env.brokerPrefix}.${exchangeSuffix}`, routingKey);
  const messages: Observed['messages'] = [];
  await ch.consume(
    queue,
    (msg) => {
      if (msg) messages.push({ routingKey: msg.fields.routingKey, body: JSON.parse(msg.content.toString('utf8')) });
    },
    { noAck: true },
  );
  return { messages, close: () => conn.close() };
}

/** Rows the gateway writes when a phone first signs a packet. */
export async function insertDevice(h: Harness, botId: string, deviceKey: string): Promise<string> {
  const { rows } = await h.db.query(
    `insert into devices (id, bot_id, device_key, client_type, client_version, device_ip, device_info, last_rtt_ms, monitoring)
     values (gen_random_uuid(), $1, $2, 'MessengerBotR', '3.3.3', '10.0.0.2', 'Galaxy S10', 42, '{"battery":88}')
     returning id`,
    [botId, deviceKey],
  );
  return rows[0].id;
}

/** Rows the dispatcher writes when a room is first seen. */
export async function insertRoom(h: Harness, botId: string, channelId: string, status = 'pending'): Promise<void> {
  await h.db.query(`insert into rooms (id, bot_id, channel_id, name, status) values (gen_random_uuid(), $1, $2, '테스트방', $3)`, [
    botId,
    channelId,
    status,
  ]);
}
