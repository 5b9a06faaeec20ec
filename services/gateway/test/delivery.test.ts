import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Phone } from '../../../test/support/phone.js';
import { waitFor } from '../../../test/support/wait.js';
import type { Gateway } from '../src/app.js';
import { identity, openRig, phoneFor, type BrokerTap, type Db, type GatewayRig, type SeededBot } from './helpers.js';

let rig: GatewayRig;
let gw: Gateway;
let db: Db;
let tap: BrokerTap;
let bot: SeededBot;

beforeAll(async () => {
  rig = await openRig('gw-delivery');
  ({ gw, db, tap, bot } = rig);
});

afterAll(async () => {
  await rig?.close();
});

/** Handshakes and waits until the connection counts (its pong was signed and its reply consumer runs). */
async function signedPhone(deviceKey?: string): Promise<{ phone: Phone; deviceKey: string; deviceId: string }> {
  const phone = await phoneFor(gw);
  const id = identity(bot, deviceKey);
  await phone.handshake(id);
  const row = await waitFor(() => db.device(bot.botId, id.deviceID));
  // The phone's first message is published only after its connection counts: its event proves the consumer is up.
  phone.sendMessage({ room: '방', channelId: '1', text: `hello from ${id.deviceID}` });
  await tap.nextEvent((e) => e.payload.text === `hello from ${id.deviceID}`);
  return { phone, deviceKey: id.deviceID, deviceId: row.id };
}

describe('reply delivery', () => {
  it('writes a reply as messageResponse with Base64 text, room and channel_id filled', async () => {
    const { phone, deviceId } = await signedPhone();
    await tap.reply(deviceId, { room: '테스트방', channelId: '12345', text: '화도읍 날씨: 맑음 ☀️\n최고 21도' });
    const p = await phone.nextPacket('messageResponse');
    expect(p.data).toMatchObject({ room: '테스트방', channel_id: '12345', message_type: 'text', content_encoding: 'base64', timezone: 'Asia/Seoul' });
    expect(p.data.message_positions).toEqual([0, p.raw.length]);
    expect(p.text).toBe('화도읍 날씨: 맑음 ☀️\n최고 21도');
    expect(new Date(p.data.timestamp).toISOString()).toBe(p.data.timestamp);
    await phone.close();
  });

  it('writes images as Base64 raw items with their positions, then the caption', async () => {
    const { phone, deviceId } = await signedPhone();
    const img1 = Buffer.from('fake-png-1').toString('base64');
    const img2 = Buffer.from('fake-png-number-2').toString('base64');
    await tap.reply(deviceId, { type: 'image', text: '차트', media: [{ format: 'png', data: img1 }, { format: 'png', data: img2 }], mediaWaitMs: 4000 });
    const media = await phone.nextPacket('messageResponse');
    expect(media.data).toMatchObject({ message_type: 'image', message_format: 'png', media_wait_time: 4000, channel_id: '12345', room: '테스트방' });
    expect(media.data.message_positions).toEqual([0, img1.length, img1.length + img2.length]);
    expect(media.raw).toBe(img1 + img2);
    expect(await phone.nextReply()).toBe('차트');
    await phone.close();
  });

  it('writes the same reply id once', async () => {
    const { phone, deviceId } = await signedPhone();
    const id = randomUUID();
    await tap.reply(deviceId, { text: '한 번만' }, id);
    expect(await phone.nextReply()).toBe('한 번만');
    await tap.reply(deviceId, { text: '한 번만' }, id);
    await tap.reply(deviceId, { text: '다음 답' });
    expect(await phone.nextReply()).toBe('다음 답');
    expect(phone.replies()).toEqual(['한 번만', '다음 답']);
    expect(gw.stats().repliesDuplicate).toBeGreaterThanOrEqual(1);
    await phone.close();
  });

  it('keeps replies for an offline device in its queue and delivers them after it reconnects', async () => {
    const { phone, deviceKey, deviceId } = await signedPhone();
    await phone.close();
    await waitFor(() => gw.registry.holder(deviceId) === undefined, { what: 'gateway noticed the disconnect' });

    await tap.reply(deviceId, { text: '없는 동안 온 답 1' });
    await tap.reply(deviceId, { text: '없는 동안 온 답 2' });
    // Nobody takes them while the phone is away.
    expect(await waitFor(async () => ((await tap.replyQueueDepth(deviceId)) === 2 ? 2 : undefined))).toBe(2);

    const back = await phoneFor(gw);
    await back.handshake(identity(bot, deviceKey));
    expect(await back.nextReply()).toBe('없는 동안 온 답 1');
    expect(await back.nextReply()).toBe('없는 동안 온 답 2');
    await back.close();
  });

  it('an unsigned second connection of the same device gets none of its replies and does not disconnect it', async () => {
    const { phone, deviceKey, deviceId } = await signedPhone();
    const intruder = await phoneFor(gw, { autoPong: false });
    expect(await intruder.handshake(identity(bot, deviceKey))).toMatchObject({ success: true });
    await intruder.nextPacket('ping');

    await tap.reply(deviceId, { text: '진짜 기기에게' });
    expect(await phone.nextReply()).toBe('진짜 기기에게');
    // The real phone is still connected and served.
    phone.sendMessage({ room: '방', channelId: '1', text: 'still here' });
    await tap.nextEvent((e) => e.payload.text === 'still here');
    await tap.reply(deviceId, { text: '두 번째 답' });
    expect(await phone.nextReply()).toBe('두 번째 답');

    expect(phone.closed).toBe(false);
    expect(intruder.replies()).toEqual([]);
    expect(intruder.closed).toBe(false);
    await intruder.close();
    await phone.close();
  });

  it('a newer signed connection of the device replaces the older one and takes its replies', async () => {
    const { phone: old, deviceKey, deviceId } = await signedPhone();
    const fresh = await phoneFor(gw);
    await fresh.handshake(identity(bot, deviceKey));
    expect((await old.nextPacket('error')).data.code).toBe('REPLACED');
    await old.waitClosed();
    await tap.reply(deviceId, { text: '새 연결로' });
    expect(await fresh.nextReply()).toBe('새 연결로');
    expect(old.replies()).toEqual([]);
    await fresh.close();
  });
});
