import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, messages } from '@domaeka/broker';
import type { TestEnv } from '../../../test/support/env.js';
import { waitFor } from '../../../test/support/wait.js';
import type { Gateway } from '../src/app.js';
import { identity, openRig, phoneFor, type BrokerTap, type Db, type GatewayRig, type SeededBot } from './helpers.js';

let rig: GatewayRig;
let env: TestEnv;
let gw: Gateway;
let db: Db;
let tap: BrokerTap;
let bot: SeededBot;

beforeAll(async () => {
  rig = await openRig('gw-handshake');
  ({ env, gw, db, tap, bot } = rig);
});

afterAll(async () => {
  await rig?.close();
});

describe('handshake', () => {
  it('answers handshakeComplete, pings at once, and records the device as pending only after its first signed packet', async () => {
    const phone = await phoneFor(gw, { autoPong: false });
    const id = identity(bot);
    const hs = await phone.handshake(id);
    expect(hs).toMatchObject({ success: true, approved: false, message: '승인 대기 중 (pending approval)', timezone: 'Asia/Seoul', message_positions: [0, 0] });
    expect(typeof hs.server_version).toBe('string');
    expect(new Date(hs.timestamp).toISOString()).toBe(hs.timestamp);

    const ping = await phone.nextPacket('ping');
    expect(ping.data.bot_name).toBe(bot.name);
    expect(ping.data.server_timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    // The handshake is not signed: nothing is recorded for it.
    expect(await db.device(bot.botId, id.deviceID)).toBeUndefined();

    phone.sendMessage({ room: '테스트방', channelId: '12345', text: '날씨 화도읍', logId: '9876543210', sender: '홍길동', userHash: 'abc123' });
    const ev = await tap.nextEvent((e) => e.payload.deviceKey === id.deviceID);
    const row = await db.device(bot.botId, id.deviceID);
    expect(row).toMatchObject({ status: 'pending', client_type: 'MessengerBotR', client_version: '3.3.3' });
    expect(ev.type).toBe('analyze');
    expect(ev.payload).toEqual({
      source: 'phone',
      botId: bot.botId,
      botName: bot.name,
      deviceId: row!.id,
      deviceKey: id.deviceID,
      room: '테스트방',
      channelId: '12345',
      sender: '홍길동',
      senderHash: 'abc123',
      text: '날씨 화도읍',
      isGroupChat: true,
      isMention: false,
      logId: '9876543210',
      sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      replyRoute: `dev.${row!.id}`,
    });
    // The device's reply queue exists before its first event went out.
    expect(await tap.replyQueueDepth(row!.id)).toBe(0);
    await phone.close();
  });

  it('handles packets pipelined right behind the handshake (a phone flushing its offline queue)', async () => {
    const phone = await phoneFor(gw, { autoPong: false });
    const id = identity(bot);
    await phone.handshake(id, { wait: false });
    phone.sendMessage({ room: '방', channelId: '5', text: 'queued 1' });
    phone.sendLegacyAnalyze({ room: '방', channelId: '5', text: 'queued 2' });
    phone.sendMessage({ room: '방', channelId: '5', text: 'queued 3' });
    expect((await phone.nextPacket('handshakeComplete')).data.success).toBe(true);
    for (const text of ['queued 1', 'queued 2', 'queued 3']) await tap.nextEvent((e) => e.payload.text === text && e.payload.deviceKey === id.deviceID);
    const order = tap.events.filter((e) => e.payload.deviceKey === id.deviceID).map((e) => e.payload.text);
    expect(order).toEqual(['queued 1', 'queued 2', 'queued 3']);
    await phone.close();
  });

  it('answers approved:true once the device is approved', async () => {
    const id = identity(bot);
    const first = await phoneFor(gw);
    await first.handshake(id);
    await waitFor(() => db.device(bot.botId, id.deviceID), { what: 'device row after the pong' });
    await first.close();
    await db.pool.query(`update devices set status = 'approved' where bot_id = $1 and device_key = $2`, [bot.botId, id.deviceID]);
    const again = await phoneFor(gw);
    expect(await again.handshake(id)).toMatchObject({ success: true, approved: true });
    await again.close();
  });

  it('stores round-trip time and monitoring from the pong', async () => {
    const phone = await phoneFor(gw, { monitoring: { total_memory: 1024, memory_usage: 300.5, memory_percent: 29.3, message_queue_size: 2, active_rooms: 7 } });
    const id = identity(bot);
    await phone.handshake(id);
    const row = await waitFor(async () => {
      const r = await db.device(bot.botId, id.deviceID);
      return r?.last_rtt_ms !== null && r?.monitoring ? r : undefined;
    });
    expect(row.last_rtt_ms).toBeGreaterThanOrEqual(0);
    expect(row.monitoring).toEqual({ total_memory: 1024, memory_usage: 300.5, memory_percent: 29.3, message_queue_size: 2, active_rooms: 7 });
    await phone.close();
  });

  it('accepts the pre-3.3 client: top-level handshake, `ping` as pong, legacy `analyze`, replies with data.text', async () => {
    const phone = await phoneFor(gw, { autoPong: 'legacy' });
    const id = identity(bot);
    expect(await phone.handshake({ ...id, version: '3.2.2' }, { legacy: true })).toMatchObject({ success: true });
    phone.sendLegacyAnalyze({ room: '옛날방', channelId: '777', text: '주문 조회 1234', logId: 'L-1', isMention: true, userHash: 'u1' });
    const ev = await tap.nextEvent((e) => e.payload.deviceKey === id.deviceID);
    expect(ev.payload).toMatchObject({ room: '옛날방', channelId: '777', text: '주문 조회 1234', logId: 'L-1', isMention: true, senderHash: 'u1', source: 'phone' });
    await waitFor(async () => (await db.device(bot.botId, id.deviceID))?.last_rtt_ms !== null, { what: 'legacy ping answer recorded' });

    await tap.reply(ev.payload.deviceId!, { room: '옛날방', channelId: '777', text: '주문 1234: 배송 중' });
    const reply = await phone.nextPacket('messageResponse');
    // A pre-3.3 phone parses the whole line as JSON: no raw part.
    expect(reply.raw).toBe('');
    expect(reply.data).toMatchObject({ room: '옛날방', channel_id: '777', text: '주문 1234: 배송 중' });
    await phone.close();
  });

  it('refuses unknown and disabled bots and malformed handshakes with success:false, then closes', async () => {
    const unknown = await phoneFor(gw);
    const a = await unknown.handshake({ ...identity(bot), botName: 'no-such-bot' });
    expect(a).toMatchObject({ success: false, approved: false });
    expect(a.message).toContain('unknown bot');
    await unknown.waitClosed();

    const disabled = await db.seedBot({ active: false });
    const off = await phoneFor(gw);
    expect(await off.handshake(identity(disabled))).toMatchObject({ success: false });
    await off.waitClosed();

    const malformed = await phoneFor(gw);
    malformed.sendRaw(JSON.stringify({ event: 'handshake', data: { botName: bot.name } }) + '\n');
    const m = await malformed.nextPacket('handshakeComplete');
    expect(m.data).toMatchObject({ success: false });
    await malformed.waitClosed();
    expect(gw.stats().rejected).toMatchObject({ unknown_bot: 1, bot_disabled: 1, bad_handshake: 1 });
  });

  it('closes a connection whose first line is not a handshake', async () => {
    const phone = await phoneFor(gw);
    phone.sendRaw(JSON.stringify({ event: 'message', data: { room: 'x' } }) + 'AAAA\n');
    const err = await phone.nextPacket('error');
    expect(err.data.code).toBe('HANDSHAKE_REQUIRED');
    await phone.waitClosed();
  });

  it('drops a bot from its cache on a `changed` event: connections of a disabled bot close at their next packet', async () => {
    const other = await db.seedBot();
    const phone = await phoneFor(gw);
    const id = identity(other);
    await phone.handshake(id);
    phone.sendMessage({ room: '방', channelId: '1', text: 'while active' });
    await tap.nextEvent((e) => e.payload.text === 'while active');

    await db.pool.query('update bots set is_active = false where id = $1', [other.botId]);
    const change = envelope(messages.changed, { entity: 'bot', tenantId: other.tenantId, botId: other.botId });
    tap.ch.publish(`${env.brokerPrefix}.changes`, 'changed', Buffer.from(JSON.stringify(change)));
    // Each probe is a real packet; once the change arrived, the next one ends the connection.
    let n = 0;
    await waitFor(() => {
      if (!phone.closed) phone.sendMessage({ room: '방', channelId: '1', text: `probe ${++n}` });
      return phone.closed;
    }, { intervalMs: 50, what: 'connection closed after the bot was disabled' });
    expect(phone.packets.some((p) => p.event === 'error' && p.data.code === 'BOT_DISABLED')).toBe(true);
    expect((await phoneFor(gw).then((p) => p.handshake(id)))).toMatchObject({ success: false });
  });

  it('serves /healthz, /readyz and /metrics on the ops port', async () => {
    const base = `http://127.0.0.1:${gw.httpPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { broker: true, database: true } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('gateway_analyze_published_total');
    expect(metrics).toMatch(/gateway_rejected_packets_total\{reason="unknown_bot",service="gateway"\} 1/);
  });
});
