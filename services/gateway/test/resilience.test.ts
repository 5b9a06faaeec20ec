import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { waitFor } from '../../../test/support/wait.js';
import type { Gateway } from '../src/app.js';
import { BrokerTap, Db, identity, phoneFor, startGateway, type SeededBot } from './helpers.js';

/**
 * A TCP relay in front of RabbitMQ that can cut the gateway off the broker
 * (and only it) and let it back: the broker "goes down" for this gateway
 * without touching the shared RabbitMQ other test files use.
 */
class BrokerCable {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private up = true;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => {
      if (!this.up) return client.destroy();
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  unplug(): void {
    this.up = false;
    for (const s of this.sockets) s.destroy();
  }

  plug(): void {
    this.up = true;
  }

  async close(): Promise<void> {
    this.unplug();
    await new Promise((r) => this.server.close(r));
  }
}

let env: TestEnv;
let gw: Gateway;
let db: Db;
let tap: BrokerTap;
let bot: SeededBot;
let cable: BrokerCable;

beforeAll(async () => {
  env = await createTestEnv('gw-resilience');
  db = new Db(env);
  bot = await db.seedBot();
  const amqp = new URL(env.amqpUrl);
  cable = new BrokerCable({ host: amqp.hostname, port: Number(amqp.port || 5672) });
  await cable.listen();
  amqp.host = `127.0.0.1:${cable.port}`;
  gw = await startGateway(env, {
    config: (c) => ({ ...c, amqpUrl: amqp.toString(), limits: { ...c.limits, idleTimeoutMs: 1500, pingIntervalMs: 60_000 } }),
  });
  tap = await BrokerTap.open(env);
});

afterAll(async () => {
  await tap?.close();
  await gw?.stop();
  await cable?.close();
  await db?.close();
  await env?.cleanup();
});

describe('dependencies and timers', () => {
  it('holds a message while the broker is away, keeps the phone connected, publishes it once the broker is back', async () => {
    const phone = await phoneFor(gw);
    const id = identity(bot);
    await phone.handshake(id);
    const deviceId = (await waitFor(() => db.device(bot.botId, id.deviceID))).id;
    phone.sendMessage({ room: '방', channelId: '1', text: 'before the outage' });
    await tap.nextEvent((e) => e.payload.text === 'before the outage');

    cable.unplug();
    await waitFor(() => !gw.broker.ready, { what: 'gateway saw the broker go' });
    phone.sendMessage({ room: '방', channelId: '1', text: 'during the outage', logId: 'outage-1' });
    await waitFor(() => gw.stats().publishHeld >= 1, { what: 'the event is held' });
    expect(tap.textsSeen()).not.toContain('during the outage');

    cable.plug();
    const ev = await tap.nextEvent((e) => e.payload.text === 'during the outage', 20_000);
    expect(ev.payload.logId).toBe('outage-1');
    expect(phone.closed).toBe(false);
    expect(gw.stats().publishFailed).toBe(0);

    // The reply consumer subscribed again after the reconnect.
    await tap.reply(deviceId, { text: '복구 후 답' });
    expect(await phone.nextReply(undefined, 20_000)).toBe('복구 후 답');
    await phone.close();
  }, 60_000);

  it('closes a connection that stays silent past the idle limit', async () => {
    const phone = await phoneFor(gw, { autoPong: false });
    await phone.handshake(identity(bot));
    expect((await phone.nextPacket('error')).data.code).toBe('IDLE_TIMEOUT');
    await phone.waitClosed();
  });
});
