import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestEnv } from '../../../test/support/env.js';
import type { Phone } from '../../../test/support/phone.js';
import { waitFor } from '../../../test/support/wait.js';
import type { Gateway } from '../src/app.js';
import { identity, openRig, phoneFor, type BrokerTap, type Db, type GatewayRig, type SeededBot } from './helpers.js';

let rig: GatewayRig;
let env: TestEnv;
let gw: Gateway;
let db: Db;
let tap: BrokerTap;
let bot: SeededBot;
/** A well-behaved phone that must be served while others misbehave. */
let bystander: Phone;
let bystanderDeviceId: string;
let round = 0;

beforeAll(async () => {
  // A short handshake limit so the timeout case does not take 10 s.
  rig = await openRig('gw-garbage', { config: (c) => ({ ...c, limits: { ...c.limits, handshakeTimeoutMs: 1000 } }) });
  ({ env, gw, db, tap, bot } = rig);
  bystander = await phoneFor(gw);
  const id = identity(bot);
  await bystander.handshake(id);
  bystanderDeviceId = (await waitFor(() => db.device(bot.botId, id.deviceID))).id;
});

afterAll(async () => {
  await bystander?.close();
  await tap?.close();
  await gw?.stop();
  await db?.close();
  await env?.cleanup();
});

/** The bystander still gets its messages published and its replies written. */
async function bystanderServed(): Promise<void> {
  const text = `bystander ${++round}`;
  bystander.sendMessage({ room: '방', channelId: '1', text });
  await tap.nextEvent((e) => e.payload.text === text);
  await tap.reply(bystanderDeviceId, { text: `re: ${text}` });
  expect(await bystander.nextReply()).toBe(`re: ${text}`);
}

async function openPhone(): Promise<Phone> {
  const phone = await phoneFor(gw);
  await phone.handshake(identity(bot));
  return phone;
}

describe('garbage and limits', () => {
  it('refuses a 2 MiB line with an error packet and closes; others are served throughout', async () => {
    const phone = await openPhone();
    const huge = JSON.stringify({ event: 'message', data: { room: 'x', channel_id: '1', auth: phone.auth() } }) + 'A'.repeat(2 * 1024 * 1024) + '\n';
    phone.sendRaw(huge);
    await bystanderServed();
    const err = await phone.nextPacket('error');
    expect(err.data.code).toBe('LINE_TOO_LONG');
    await phone.waitClosed();
    await bystanderServed();
    expect(gw.stats().rejected.line_too_long).toBe(1);
  });

  it('answers non-JSON garbage and broken JSON with error packets and keeps serving good packets', async () => {
    const phone = await openPhone();
    phone.sendRaw('GET / HTTP/1.1\r\n');
    expect((await phone.nextPacket('error')).data.code).toBe('INVALID_PACKET');
    phone.sendRaw(Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x7d, 0x0a]));
    expect((await phone.nextPacket('error')).data.code).toBe('INVALID_PACKET');
    phone.sendRaw('{"event":"message","data":{"room":}\n');
    expect((await phone.nextPacket('error')).data.code).toBe('INVALID_PACKET');
    phone.sendRaw('[1,2,3]\n');
    expect((await phone.nextPacket('error')).data.code).toBe('INVALID_PACKET');
    phone.sendRaw('{"event":"teleport","data":{"to":"mars"}}\n'); // unknown events are ignored
    phone.sendMessage({ room: '방', channelId: '1', text: 'after the garbage' });
    await tap.nextEvent((e) => e.payload.text === 'after the garbage');
    expect(phone.closed).toBe(false);
    await bystanderServed();
    await phone.close();
  });

  it('closes a connection that keeps sending garbage', async () => {
    const phone = await openPhone();
    phone.sendRaw('garbage\n'.repeat(50));
    expect((await phone.nextPacket('error', (p) => p.data.code === 'TOO_MANY_ERRORS')).data.code).toBe('TOO_MANY_ERRORS');
    await phone.waitClosed();
    await bystanderServed();
  });

  it('refuses invalid Base64 and a text over 65,000 characters; nothing is published for them', async () => {
    const phone = await openPhone();
    phone.sendMessage({ room: '방', channelId: '1', text: 'bad b64', raw: '7JWI64WV!!!' });
    expect((await phone.nextPacket('error')).data.code).toBe('INVALID_BASE64');
    phone.sendMessage({ room: '방', channelId: '1', text: 'not utf8', raw: Buffer.from([0xc3, 0x28, 0xa0, 0xa1]).toString('base64') });
    expect((await phone.nextPacket('error')).data.code).toBe('INVALID_BASE64');
    phone.sendMessage({ room: '방', channelId: '1', text: '가'.repeat(65_001) });
    expect((await phone.nextPacket('error')).data.code).toBe('TEXT_TOO_LONG');
    phone.sendLegacyAnalyze({ room: '방', channelId: '1', text: 'x'.repeat(65_001) });
    expect((await phone.nextPacket('error')).data.code).toBe('TEXT_TOO_LONG');
    phone.sendMessage({ room: '방', channelId: null, text: 'no channel' });
    expect((await phone.nextPacket('error')).data.code).toBe('INVALID_FIELD');
    // Exactly at the limit passes.
    phone.sendMessage({ room: '방', channelId: '1', text: '나'.repeat(65_000) });
    await tap.nextEvent((e) => e.payload.text.length === 65_000);
    expect(tap.textsSeen().some((t) => t === 'bad b64' || t === 'not utf8' || t === 'no channel' || t.length > 65_000)).toBe(false);
    await bystanderServed();
    await phone.close();
  });

  it('closes a connection that never handshakes within the limit, and one that sends garbage first', async () => {
    const silent = await phoneFor(gw);
    const early = await phoneFor(gw);
    early.sendRaw('hello?\n');
    expect((await early.nextPacket('error')).data.code).toBe('INVALID_PACKET');
    await early.waitClosed();
    // The handshake limit (10 s in production, 1 s here): closed with an error packet.
    expect((await silent.nextPacket('error')).data.code).toBe('HANDSHAKE_TIMEOUT');
    await silent.waitClosed();
    await bystanderServed();
  });
});
