import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import type { Phone } from '../../../test/support/phone.js';
import type { Gateway } from '../src/app.js';
import { identity, openRig, phoneFor, type Db, type GatewayRig, type SeededBot } from './helpers.js';

/**
 * The per-bot cap and the signing deadline, with the gateway alone (the
 * per-IP and total caps are in test/security/h13-3-gateway.test.ts).
 * Two connections per bot, a 1.5 s signing deadline.
 */
let rig: GatewayRig;
let gw: Gateway;
let db: Db;
let bot: SeededBot;
const phones: Phone[] = [];

beforeAll(async () => {
  rig = await openRig('gw-caps', { env: { GATEWAY_MAX_CONNECTIONS_PER_BOT: '2', GATEWAY_SIGN_DEADLINE_MS: '1500' } });
  ({ gw, db, bot } = rig);
});

afterAll(async () => {
  for (const p of phones) p.destroy();
  await rig?.close();
});

async function phone(opts: { autoPong?: boolean } = {}): Promise<Phone> {
  const p = await phoneFor(gw, opts);
  phones.push(p);
  return p;
}

async function metric(name: string, reason: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
  const m = new RegExp(`^${name}\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('connection caps per bot', () => {
  it('refuses a third handshake when both of the bot\'s connections signed, but lets a signed device reconnect', async () => {
    const other = await db.seedBot();
    const d1 = identity(other, 'cap-d1');
    const first = await phone();
    await first.handshake(d1);
    const second = await phone();
    await second.handshake(identity(other, 'cap-d2'));
    await waitFor(() => gw.stats().countedConnections >= 2, { what: 'both counted' });

    const third = await phone();
    const hs = await third.handshake(identity(other, 'cap-d3'));
    expect(hs).toMatchObject({ success: false, message: '이 봇의 연결 수가 한도에 도달했습니다 (connection limit of this bot reached)' });
    expect(third.packets.find((p) => p.event === 'error')?.data).toMatchObject({ code: 'TOO_MANY_CONNECTIONS' });
    await third.waitClosed();
    expect(await db.device(other.botId, 'cap-d3')).toBeUndefined();
    expect(gw.stats().refused.cap_bot).toBe(1);
    expect(await metric('gateway_connections_refused_total', 'cap_bot')).toBe(1);

    // cap-d1 again (its old socket might be dead unnoticed): admitted, signs, replaces the old one.
    const again = await phone();
    expect(await again.handshake(d1)).toMatchObject({ success: true });
    await first.waitClosed();
    expect(first.packets.find((p) => p.event === 'error')?.data.code).toBe('REPLACED');
    expect(again.closed).toBe(false);
  });

  it('evicts the oldest connection that never signed to make room on a full bot', async () => {
    const [u1, u2] = [await phone({ autoPong: false }), await phone({ autoPong: false })];
    await u1.handshake(identity(bot, 'cap-u1'));
    await u2.handshake(identity(bot, 'cap-u2'));
    expect(gw.stats().unsignedConnections).toBe(2);

    const real = await phone();
    expect(await real.handshake(identity(bot, 'cap-real'))).toMatchObject({ success: true });
    await u1.waitClosed();
    expect(u1.packets.find((p) => p.event === 'error')?.data.message).toMatch(/^이 봇에 인증되지 않은 연결이 가득 차/);
    await waitFor(async () => (await db.device(bot.botId, 'cap-real')) !== undefined, { what: 'the real phone counted' });
    expect(gw.stats().refused.cap_bot_evicted).toBe(1);
    expect(u2.closed).toBe(false);
  });
});

describe('signing deadline', () => {
  it('keeps a phone that answers no ping but sends a signed message in time, and closes the one that signs nothing', async () => {
    const fresh = await db.seedBot();
    const quiet = await phone({ autoPong: false });
    const silent = await phone({ autoPong: false });
    await quiet.handshake(identity(fresh, 'dl-quiet'));
    await silent.handshake(identity(fresh, 'dl-silent'));
    quiet.sendMessage({ room: '방', channelId: '1', text: '안녕', logId: 'dl-1' });
    await silent.waitClosed();
    const deadlines = gw.stats().refused.sign_deadline ?? 0;
    expect(deadlines).toBeGreaterThanOrEqual(1);
    expect(silent.packets.find((p) => p.event === 'error')?.data).toMatchObject({ code: 'SIGN_TIMEOUT' });
    expect(await metric('gateway_connections_refused_total', 'sign_deadline')).toBe(deadlines);
    // The quiet phone is past the same deadline, still open and counted.
    expect(quiet.closed).toBe(false);
    expect(await db.device(fresh.botId, 'dl-quiet')).toMatchObject({ status: 'pending' });
    await waitFor(() => gw.stats().unsignedConnections === 0, { what: 'no unsigned connection left' });
    const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(text).toMatch(/^gateway_connections_unsigned\{[^}]*\} 0$/m);
  });
});
