/**
 * The compose smoke's second journey (scripts/deploy/compose-smoke.sh): an existing bot server
 * plugs in over AMQP. The shop asks the web origin for a bot-server broker login, which the API
 * container makes through RabbitMQ's management API (RABBITMQ_MANAGEMENT_URL: it has no
 * rabbitmqctl); the "server" logs in on the published AMQP port with it, publishes a signed
 * `ingress.analyze` event and reads the reply on its own queue. Deleting the bot deletes the login:
 * the same credentials are refused afterwards.
 *
 *   SMOKE_WEB_PORT=3000 SMOKE_AMQP_PORT=5672 node --import tsx scripts/deploy/smoke-bot-server.ts
 *
 * Exit 0 with the reply printed; 1 with what was missing.
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { signBot } from '@domaeka/broker';
import { TenantClient } from '../../test/support/tenant-client.js';

const webPort = Number(process.env.SMOKE_WEB_PORT ?? 3000);
const amqpPort = Number(process.env.SMOKE_AMQP_PORT ?? 5672);
const host = process.env.SMOKE_HOST ?? '127.0.0.1';
const REPLY_TIMEOUT_MS = 60_000;

function step(text: string): void {
  console.log(`[smoke-bot-server] ${text}`);
}
function fail(text: string): never {
  console.error(`[smoke-bot-server] FAIL: ${text}`);
  process.exit(1);
}

const suffix = Date.now().toString(36);
const tenant = await TenantClient.signup({ port: webPort }, `server-${suffix}@compose.example`, '봇서버 상점');
const bot = await tenant.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', '/bots', { name: `서버봇-${suffix}` });
await tenant.ok('POST', '/commands', { command: '영업시간', target: { type: 'reply', text: '{sender}님, 오늘은 10시부터 20시까지 영업합니다' } });
const grant = await tenant.ok<{ username: string; password: string; exchange: string; routingKey: string; replyQueue: string }>('POST', `/bots/${bot.id}/broker-user`);
step(`broker login ${grant.username} made through the API (management API in the container)`);

const url = `amqp://${encodeURIComponent(grant.username)}:${encodeURIComponent(grant.password)}@${host}:${amqpPort}`;
const conn = await amqp.connect(url);
conn.on('error', () => undefined);
const ch = await conn.createConfirmChannel();
const auth = { clientType: 'MyBotServer', botName: bot.name, deviceUUID: 'smoke-server', macAddress: 'unknown', ipAddress: 'unknown', timestamp: Date.now() };
const event = {
  id: randomUUID(),
  type: 'ingress.analyze',
  version: 1,
  occurredAt: new Date().toISOString(),
  payload: { botName: bot.name, room: '서버방', channelId: 'srv-1', sender: '홍길동', text: '영업시간', logId: randomUUID(), auth: { ...auth, signature: signBot(auth, bot.secretKey, bot.salt) } },
};
const reply = new Promise<{ id: string; payload: { text?: string } }>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no reply on ${grant.replyQueue} within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
  void ch.consume(grant.replyQueue, (m) => {
    if (!m) return;
    ch.ack(m);
    clearTimeout(timer);
    resolve(JSON.parse(m.content.toString()) as { id: string; payload: { text?: string } });
  });
});
await new Promise<void>((resolve, reject) =>
  ch.publish(grant.exchange, grant.routingKey, Buffer.from(JSON.stringify(event)), { persistent: true }, (err) => (err ? reject(err) : resolve())),
);
const got = await reply.catch((err: Error) => fail(err.message));
const want = '홍길동님, 오늘은 10시부터 20시까지 영업합니다';
if (got.id !== event.id || got.payload.text !== want) fail(`reply ${JSON.stringify(got)}, want id ${event.id} and text ${JSON.stringify(want)}`);
step(`reply on ${grant.replyQueue}: ${got.payload.text}`);
await conn.close();

const del = await tenant.call('DELETE', `/bots/${bot.id}`);
if (del.status !== 204) fail(`DELETE /bots/${bot.id} answered ${del.status}: ${JSON.stringify(del.body)}`);
const refused = await amqp.connect(url).then(
  async (c) => {
    await c.close();
    return false;
  },
  (err: Error) => /ACCESS_REFUSED|403/i.test(err.message),
);
if (!refused) fail('the deleted bot\'s broker login still logs in');
step('bot deleted: its broker login is refused now');
step('OK: a bot server got its reply over AMQP through the compose deployment');
process.exit(0);
