import { describe, expect, it } from 'vitest';
import { decodeBase64Text, encodeReply, formatServerTimestamp, parsePacket } from './packet-codec.js';

const reply = { botId: '0', botName: 'LOA.i', room: '테스트방', channelId: '12345', type: 'text' as const, text: '스케줄입니다', media: [] };

/** Parses a server line the way the phone's script does. */
function phoneParse(line: string) {
  const t = line.trim();
  const end = t.lastIndexOf('}');
  return { packet: JSON.parse(t.slice(0, end + 1)), raw: t.slice(end + 1) };
}

describe('parsePacket', () => {
  it('takes the JSON part up to the last } and the raw part after it', () => {
    const r = parsePacket('{"event":"message","data":{"room":"a}b"}}7JWI64WV');
    expect(r).toEqual({ ok: true, packet: { event: 'message', data: { room: 'a}b' }, raw: '7JWI64WV' } });
  });
  it('reads the old top-level handshake', () => {
    const r = parsePacket('{"botName":"LOA.i","deviceID":"d","version":"3.2.2"}');
    expect(r.ok && r.packet).toEqual({ event: null, data: { botName: 'LOA.i', deviceID: 'd', version: '3.2.2' }, raw: '' });
  });
  it('refuses what is not a JSON object', () => {
    expect(parsePacket('hello')).toEqual({ ok: false, reason: 'not_json' });
    expect(parsePacket('{"a":}')).toEqual({ ok: false, reason: 'not_json' });
    expect(parsePacket('[{}]')).toEqual({ ok: false, reason: 'not_json' });
    expect(parsePacket('{"event":5}')).toEqual({ ok: false, reason: 'bad_packet' });
  });
});

describe('decodeBase64Text', () => {
  it('decodes standard Base64 of UTF-8, padded or not', () => {
    expect(decodeBase64Text('7JWI64WV7ZWY7IS47JqU')).toBe('안녕하세요');
    expect(decodeBase64Text('YQ==')).toBe('a');
    expect(decodeBase64Text('YQ')).toBe('a');
    expect(decodeBase64Text('')).toBe('');
  });
  it('refuses junk, bad padding and invalid UTF-8', () => {
    for (const bad of ['7JWI!!', 'YQ=', 'Y', 'YQ==YQ==', 'a b=', '-_-_']) expect(decodeBase64Text(bad)).toBeNull();
    expect(decodeBase64Text(Buffer.from([0xc3, 0x28]).toString('base64'))).toBeNull();
  });
});

describe('encodeReply', () => {
  it('text: Base64 raw part, positions [0, len], room and channel_id', () => {
    const line = encodeReply(reply, { legacy: false, timezone: 'Asia/Seoul' });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.split('\n')).toHaveLength(2);
    const { packet, raw } = phoneParse(line);
    expect(packet.event).toBe('messageResponse');
    expect(packet.data).toMatchObject({ room: '테스트방', channel_id: '12345', bot_name: 'LOA.i', message_type: 'text', content_encoding: 'base64', timezone: 'Asia/Seoul' });
    expect(packet.data.message_positions).toEqual([0, raw.length]);
    expect(Buffer.from(raw, 'base64').toString('utf8')).toBe('스케줄입니다');
  });
  it('text with } and newlines survives the phone parse', () => {
    const line = encodeReply({ ...reply, text: 'a}b\n{c}' }, { legacy: false, timezone: 'Asia/Seoul' });
    expect(line.split('\n')).toHaveLength(2);
    expect(Buffer.from(phoneParse(line).raw, 'base64').toString()).toBe('a}b\n{c}');
  });
  it("a schedule's message is `scheduleMessage` with the answer's shape; legacy phones get it as messageResponse", () => {
    const { packet, raw } = phoneParse(encodeReply({ ...reply, kind: 'schedule' }, { legacy: false, timezone: 'Asia/Seoul' }));
    expect(packet.event).toBe('scheduleMessage');
    expect(packet.data).toMatchObject({ room: '테스트방', channel_id: '12345', bot_name: 'LOA.i', message_type: 'text', content_encoding: 'base64' });
    expect(Buffer.from(raw, 'base64').toString('utf8')).toBe('스케줄입니다');
    expect(phoneParse(encodeReply({ ...reply, kind: 'schedule' }, { legacy: true, timezone: 'Asia/Seoul' })).packet.event).toBe('messageResponse');
  });
  it('legacy phones get data.text and no raw part', () => {
    const { packet, raw } = phoneParse(encodeReply(reply, { legacy: true, timezone: 'Asia/Seoul' }));
    expect(raw).toBe('');
    expect(packet.data.text).toBe('스케줄입니다');
  });
});

it('formats the ping timestamp the phones echo', () => {
  expect(formatServerTimestamp(Date.UTC(2025, 6, 21, 12, 12, 11, 123))).toBe('2025-07-21 12:12:11.123');
});
