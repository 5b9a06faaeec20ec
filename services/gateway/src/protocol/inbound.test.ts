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
  it('reads both forms and marks pre-3.3 clients for legacy replies', () => {
    const v33 = readHandshake(packet('{"event":"handshake","data":{"clientType":"MessengerBotR","botName":"LOA.i","version":"3.3.3","deviceID":"d1","deviceIP":"1.2.3.4","deviceInfo":"x"}}'));
    expect(v33).toMatchObject({ botName: 'LOA.i', deviceID: 'd1', version: '3.3.3', legacyReplies: false });
    expect(readHandshake(packet('{"botName":"LOA.i","version":"3.2.2","deviceID":"d1"}'))?.legacyReplies).toBe(true);
    expect(readHandshake(packet('{"event":"handshake","data":{"botName":"LOA.i","version":"3.2.1","deviceID":"d1"}}'))?.legacyReplies).toBe(true);
  });
  it('requires botName, version and deviceID', () => {
    expect(readHandshake(packet('{"event":"handshake","data":{"botName":"LOA.i","deviceID":"d1"}}'))).toBeNull();
    expect(readHandshake(packet('{"event":"handshake","data":{"botName":"","version":"3.3.3","deviceID":"d1"}}'))).toBeNull();
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

describe('replayDiscriminator', () => {
  it('uses log_id, else a hash of the content', () => {
    expect(replayDiscriminator(packet('{"event":"message","data":{"log_id":"5"}}QQ=='))).toBe('l:5');
    const a = replayDiscriminator(packet('{"event":"message","data":{}}QQ=='));
    const b = replayDiscriminator(packet('{"event":"message","data":{}}Qg=='));
    expect(a).not.toBe(b);
    expect(replayDiscriminator(packet('{"event":"pong","data":{}}'))).toBe('');
  });
});
