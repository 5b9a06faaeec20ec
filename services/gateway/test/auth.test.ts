import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Phone } from '../../../test/support/phone.js';
import { waitFor } from '../../../test/support/wait.js';
import type { Gateway } from '../src/app.js';
import type { Clock } from '../src/clock.js';
import { identity, openRig, phoneFor, type BrokerTap, type Db, type GatewayRig, type SeededBot } from './helpers.js';

let rig: GatewayRig;
let gw: Gateway;
let db: Db;
let tap: BrokerTap;
let bot: SeededBot;
/** The gateway's clock: real time plus an offset the tests may move. */
let offset = 0;
const clock: Clock = { now: () => Date.now() + offset };

beforeAll(async () => {
  rig = await openRig('gw-auth', { clock });
  ({ gw, db, tap, bot } = rig);
});

afterAll(async () => {
  await rig?.close();
});

/** A phone whose connection already counts (its pong was signed) and whose devices row exists. */
async function countedPhone(deviceID?: string): Promise<{ phone: Phone; deviceKey: string; deviceId: string }> {
  const phone = await phoneFor(gw);
  const id = identity(bot, deviceID);
  await phone.handshake(id);
  const row = await waitFor(() => db.device(bot.botId, id.deviceID), { what: 'device row' });
  return { phone, deviceKey: id.deviceID, deviceId: row.id };
}

/** Sends a good message and waits for its event: everything sent before it has been handled by then. */
async function goodMessage(phone: Phone, text: string): Promise<void> {
  phone.sendMessage({ room: '방', channelId: '1', text });
  await tap.nextEvent((e) => e.payload.text === text);
}

describe('packet authentication', () => {
  it('refuses bad signature, stale timestamp, replay, other botName or deviceID; good packets on the same connection still pass', async () => {
    const { phone, deviceKey } = await countedPhone();
    const before = gw.stats().rejected;

    await goodMessage(phone, 'good 1');

    phone.sendMessage({ room: '방', channelId: '1', text: 'forged', auth: { secretKey: 'not-the-key' } });
    expect((await phone.nextPacket('error')).data.code).toBe('BAD_SIGNATURE');
    await goodMessage(phone, 'good 2');

    phone.sendMessage({ room: '방', channelId: '1', text: 'stale', auth: { timestamp: clock.now() - 5 * 60_000 - 2000 } });
    expect((await phone.nextPacket('error')).data.code).toBe('STALE_TIMESTAMP');
    phone.sendMessage({ room: '방', channelId: '1', text: 'future', auth: { timestamp: clock.now() + 5 * 60_000 + 2000 } });
    expect((await phone.nextPacket('error')).data.code).toBe('STALE_TIMESTAMP');
    await goodMessage(phone, 'good 3');

    const line = phone.sendMessage({ room: '방', channelId: '1', text: 'once', logId: 'replay-1' });
    await tap.nextEvent((e) => e.payload.text === 'once');
    phone.sendRaw(line);
    expect((await phone.nextPacket('error')).data.code).toBe('REPLAYED');
    // Same signature, other content: a second chat message in the same millisecond is not a replay.
    const sameMs = phone.auth();
    phone.sendMessage({ room: '방', channelId: '1', text: 'same ms A', logId: 'ms-a', auth: sameMs });
    phone.sendMessage({ room: '방', channelId: '1', text: 'same ms B', logId: 'ms-b', auth: sameMs });
    await tap.nextEvent((e) => e.payload.text === 'same ms A');
    await tap.nextEvent((e) => e.payload.text === 'same ms B');

    // botName / deviceID of another bot or phone, even correctly signed for them.
    phone.sendMessage({ room: '방', channelId: '1', text: 'other bot', auth: { botName: 'someone-else' } });
    expect((await phone.nextPacket('error')).data.code).toBe('BOT_MISMATCH');
    phone.sendMessage({ room: '방', channelId: '1', text: 'other device', auth: { deviceUUID: 'other-phone', deviceID: 'other-phone' } });
    expect((await phone.nextPacket('error')).data.code).toBe('DEVICE_MISMATCH');
    phone.sendMessage({ room: '방', channelId: '1', text: 'half other device', auth: { deviceID: 'other-phone' } });
    expect((await phone.nextPacket('error')).data.code).toBe('DEVICE_MISMATCH');
    phone.sendMessage({ room: '방', channelId: '1', text: 'no auth', extra: { auth: undefined } });
    expect((await phone.nextPacket('error')).data.code).toBe('MISSING_AUTH');
    await goodMessage(phone, 'good 4');

    const texts = tap.textsSeen();
    for (const bad of ['forged', 'stale', 'future', 'other bot', 'other device', 'half other device', 'no auth']) expect(texts).not.toContain(bad);
    expect(texts.filter((t) => t === 'once')).toHaveLength(1);

    const after = gw.stats().rejected;
    const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    expect([delta('bad_signature'), delta('stale_timestamp'), delta('replayed'), delta('bot_mismatch'), delta('device_mismatch'), delta('missing_auth')]).toEqual([1, 2, 1, 1, 2, 1]);
    const row = await waitFor(async () => {
      const r = await db.device(bot.botId, deviceKey);
      return r && r.rejected_packets >= 8 ? r : undefined;
    });
    expect(row.rejected_packets).toBe(8);
    await phone.close();
  });

  it('the window follows the injected clock', async () => {
    const { phone } = await countedPhone();
    offset = 4 * 60_000; // our clock runs 4 minutes ahead of the phone: still inside the window
    try {
      await goodMessage(phone, 'skewed but fine');
      offset = 6 * 60_000;
      phone.sendMessage({ room: '방', channelId: '1', text: 'skewed too far' });
      expect((await phone.nextPacket('error')).data.code).toBe('STALE_TIMESTAMP');
    } finally {
      offset = 0;
    }
    await goodMessage(phone, 'back in sync');
    expect(tap.textsSeen()).not.toContain('skewed too far');
    await phone.close();
  });

  it('accepts a packet signed before a disconnect and sent after reconnecting, once', async () => {
    const { phone, deviceKey } = await countedPhone();
    // Queued while offline: signed then, sent later on a new connection.
    const queuedAuth = phone.auth({ timestamp: Date.now() - 20_000 });
    await phone.close();

    const again = await phoneFor(gw);
    await again.handshake({ ...identity(bot, deviceKey) });
    const line = again.sendMessage({ room: '방', channelId: '1', text: 'queued while offline', logId: 'q-1', auth: queuedAuth });
    await tap.nextEvent((e) => e.payload.text === 'queued while offline');
    // The same packet again (the phone's resend, or someone replaying it on another connection) is refused.
    const third = await phoneFor(gw);
    await third.handshake({ ...identity(bot, deviceKey) });
    third.sendRaw(line);
    expect((await third.nextPacket('error')).data.code).toBe('REPLAYED');
    await again.close();
    await third.close();
  });

  it('a connection that never signs validly is not counted and records nothing', async () => {
    const phone = await phoneFor(gw, { autoPong: false });
    const id = identity(bot);
    await phone.handshake(id);
    phone.sendMessage({ room: '방', channelId: '1', text: 'unsigned attempt', auth: { secretKey: 'wrong' } });
    expect((await phone.nextPacket('error')).data.code).toBe('BAD_SIGNATURE');
    expect(await db.device(bot.botId, id.deviceID)).toBeUndefined();
    expect(tap.textsSeen()).not.toContain('unsigned attempt');
    await phone.close();
  });
});
