import { validationError, messages, envelope } from '@domaeka/broker';
import { describe, expect, it } from 'vitest';
import { readChat, readHandshake, replayDiscriminator, versionBelow } from './inbound.js';
import { parsePacket, type InboundPacket } from './packet-codec.js';

const packet = (line: string): InboundPacket => {
  const r = parsePacket(line);
  if (!r.ok) throw new Error(r.reason);
  return r.packet;
};

describe('readHandshake', () => {
  const hs = (line: string) => {
    const r = readHandshake(packet(line));
    return r.ok ? r.hs : r;
  };
  it('reads both forms and marks pre-3.3 clients for legacy replies', () => {
    const v33 = hs('{"event":"handshake","data":{"clientType":"MessengerBotR","botName":"LOA.i","version":"3.3.3","deviceID":"d1","deviceIP":"1.2.3.4","deviceInfo":"x"}}');
    expect(v33).toMatchObject({ botName: 'LOA.i', deviceID: 'd1', version: '3.3.3', legacyReplies: false });
    expect(hs('{"botName":"LOA.i","version":"3.2.2","deviceID":"d1"}')).toMatchObject({ legacyReplies: true });
    expect(hs('{"event":"handshake","data":{"botName":"LOA.i","version":"3.2.1","deviceID":"d1"}}')).toMatchObject({ legacyReplies: true });
  });
  it('requires botName, version and deviceID', () => {
    expect(hs('{"event":"handshake","data":{"botName":"LOA.i","deviceID":"d1"}}')).toEqual({ ok: false, reason: 'bad_handshake', detail: 'version' });
    expect(hs('{"event":"handshake","data":{"botName":"","version":"3.3.3","deviceID":"d1"}}')).toEqual({ ok: false, reason: 'bad_handshake', detail: 'botName' });
  });
  it('refuses by name a botName, deviceID or version PostgreSQL cannot store (NUL, lone surrogate)', () => {
    const line = (botName: string, deviceID: string, version: string, legacy = false) => {
      const data = { botName, deviceID, version };
      return legacy ? JSON.stringify(data) : JSON.stringify({ event: 'handshake', data });
    };
    expect(hs(line('LOA\u0000i', 'd1', '3.3.3'))).toEqual({ ok: false, reason: 'unstorable_field', detail: 'botName' });
    expect(hs(line('LOA.i', 'd\u00001', '3.3.3'))).toEqual({ ok: false, reason: 'unstorable_field', detail: 'deviceID' });
    expect(hs(line('LOA.i', 'd1', '3.3.3\ud800'))).toEqual({ ok: false, reason: 'unstorable_field', detail: 'version' });
    expect(hs(line('LOA.i', '\udc00d1', '3.2.2', true))).toEqual({ ok: false, reason: 'unstorable_field', detail: 'deviceID' });
    // A well-formed pair (an emoji) is storable.
    expect(hs(line('LOA.i 😀', 'd1', '3.3.3'))).toMatchObject({ botName: 'LOA.i 😀' });
  });
  it('replaces unstorable characters in the descriptive fields instead of refusing', () => {
    const r = hs(JSON.stringify({ event: 'handshake', data: { botName: 'b', version: '3.3.3', deviceID: 'd1', clientType: 'M\u0000R', deviceIP: '\ud83d', deviceInfo: 'SM-G991N\u0000' } }));
    expect(r).toMatchObject({ clientType: 'M\uFFFDR', deviceIP: '\uFFFD', deviceInfo: 'SM-G991N\uFFFD' });
    // Cutting at the limit must not leave half of an emoji behind.
    const cut = hs(JSON.stringify({ event: 'handshake', data: { botName: 'b', version: '3.3.3', deviceID: 'd1', deviceInfo: 'x'.repeat(299) + '😀' } }));
    expect(cut).toMatchObject({ deviceInfo: 'x'.repeat(299) + '\uFFFD' });
  });
  it('compares versions', () => {
    expect(versionBelow('3.2.9', 3, 3)).toBe(true);
    expect(versionBelow('3.3.0', 3, 3)).toBe(false);
    expect(versionBelow('10.0', 3, 3)).toBe(false);
    expect(versionBelow('weird', 3, 3)).toBe(false);
  });
});

describe('readChat', () => {
  it('reads a v3.3 message into a valid analyze payload', () => {
    const p = packet(
      '{"event":"message","data":{"room":"테스트방","channel_id":"12345","message_type":"text","content_encoding":"base64","message_positions":[0,0],"timestamp":"2025-07-21T12:12:11.000Z","sender":"홍길동","is_group_chat":true,"log_id":"98","user_hash":"abc","is_mention":false}}7JWI64WV7ZWY7IS47JqU',
    );
    const r = readChat(p, 65_000);
    expect(r).toEqual({
      ok: true,
      chat: { room: '테스트방', channelId: '12345', sender: '홍길동', senderHash: 'abc', text: '안녕하세요', isGroupChat: true, isMention: false, logId: '98', sentAt: '2025-07-21T12:12:11.000Z' },
    });
    if (!r.ok) return;
    const env = envelope(messages.analyze, {
      source: 'phone',
      botId: '0190a3c4-0000-7000-8000-000000000000',
      botName: 'LOA.i',
      deviceId: '0190a3c4-0000-7000-8000-000000000001',
      deviceKey: 'd1',
      replyRoute: 'dev.x',
      ...r.chat,
    });
    expect(validationError(messages.analyze, env)).toBeNull();
  });
  it('reads the legacy analyze form with numeric ids', () => {
    const r = readChat(packet('{"event":"analyze","data":{"room":"r","text":"주문 조회","sender":"s","isGroupChat":false,"channelId":42,"logId":7,"userHash":null,"isMention":true}}'), 65_000);
    expect(r).toMatchObject({ ok: true, chat: { channelId: '42', logId: '7', text: '주문 조회', isMention: true, senderHash: null } });
  });
  it('refuses what cannot become an event', () => {
    expect(readChat(packet('{"event":"message","data":{"room":"r","channel_id":"1"}}@@@'), 65_000)).toMatchObject({ ok: false, reason: 'invalid_base64' });
    expect(readChat(packet('{"event":"message","data":{"room":"r"}}YQ=='), 65_000)).toMatchObject({ ok: false, reason: 'missing_field' });
    expect(readChat(packet('{"event":"analyze","data":{"room":"r","channelId":"1","text":"abc"}}'), 2)).toMatchObject({ ok: false, reason: 'text_too_long' });
  });
});

describe('readChat with characters PostgreSQL cannot store', () => {
  const message = (data: Record<string, unknown>, text = '날씨 서울') =>
    packet(JSON.stringify({ event: 'message', data: { room: '방', channel_id: '1', log_id: '9', user_hash: 'h', sender: '홍길동', ...data } }) + Buffer.from(text).toString('base64'));
  const analyze = (data: Record<string, unknown>) => packet(JSON.stringify({ event: 'analyze', data: { room: '방', channelId: '1', logId: '9', userHash: 'h', sender: '홍길동', text: '날씨 서울', ...data } }));

  it('refuses by name an identifier holding NUL (v3.3 and legacy forms, ids sent as strings)', () => {
    expect(readChat(message({ room: '방\u0000' }), 65_000)).toEqual({ ok: false, reason: 'unstorable_field', detail: 'room' });
    expect(readChat(message({ channel_id: '1\u00002' }), 65_000)).toEqual({ ok: false, reason: 'unstorable_field', detail: 'channel_id' });
    expect(readChat(message({ log_id: '\u0000' }), 65_000)).toEqual({ ok: false, reason: 'unstorable_field', detail: 'log_id' });
    expect(readChat(message({ user_hash: 'a\u0000' }), 65_000)).toEqual({ ok: false, reason: 'unstorable_field', detail: 'user_hash' });
    expect(readChat(analyze({ channelId: '\u00001' }), 65_000)).toEqual({ ok: false, reason: 'unstorable_field', detail: 'channel_id' });
    expect(readChat(analyze({ logId: '9\u0000' }), 65_000)).toEqual({ ok: false, reason: 'unstorable_field', detail: 'log_id' });
  });
  it('refuses by name an identifier holding a lone surrogate', () => {
    expect(readChat(message({ room: '방\ud800' }), 65_000)).toEqual({ ok: false, reason: 'unstorable_field', detail: 'room' });
    expect(readChat(message({ channel_id: '\udfff1' }), 65_000)).toEqual({ ok: false, reason: 'unstorable_field', detail: 'channel_id' });
    expect(readChat(analyze({ userHash: '\udbff' }), 65_000)).toEqual({ ok: false, reason: 'unstorable_field', detail: 'user_hash' });
    expect(readChat(message({ room: '방 😀' }), 65_000)).toMatchObject({ ok: true, chat: { room: '방 😀' } });
  });
  it('replaces NUL and lone surrogates in the text, the sender and drops such a timestamp', () => {
    expect(readChat(message({ sender: '홍\u0000길동', timestamp: '2025\u0000' }, '날씨\u0000서울'), 65_000)).toMatchObject({
      ok: true,
      chat: { text: '날씨\uFFFD서울', sender: '홍\uFFFD길동', sentAt: null, room: '방', channelId: '1', logId: '9', senderHash: 'h' },
    });
    expect(readChat(analyze({ text: '날씨 \ud800서울', sender: '\udc00' }), 65_000)).toMatchObject({ ok: true, chat: { text: '날씨 \uFFFD서울', sender: '\uFFFD' } });
    // A nickname cut at 200 characters in the middle of an emoji.
    expect(readChat(message({ sender: 's'.repeat(199) + '😀' }), 65_000)).toMatchObject({ ok: true, chat: { sender: 's'.repeat(199) + '\uFFFD' } });
  });
});

describe('replayDiscriminator', () => {
  it('uses log_id, else a hash of the content', () => {
    expect(replayDiscriminator(packet('{"event":"message","data":{"log_id":"5"}}QQ=='))).toBe('l:5');
    const a = replayDiscriminator(packet('{"event":"message","data":{}}QQ=='));
    const b = replayDiscriminator(packet('{"event":"message","data":{}}Qg=='));
    expect(a).not.toBe(b);
    expect(replayDiscriminator(packet('{"event":"pong","data":{}}'))).toBe('');
  });
});
