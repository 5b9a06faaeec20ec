import { describe, expect, it } from 'vitest';
import type { AnalyzePayload } from '@domaeka/broker';
import { HeldEvents } from './held-events.js';

const BOT = '11111111-1111-4111-8111-111111111111';
const OTHER_BOT = '22222222-2222-4222-8222-222222222222';
const command = (deviceId: string, logId: string | null, botId = BOT): AnalyzePayload => ({
  source: 'phone',
  botId,
  botName: 'bot',
  deviceId,
  deviceKey: `key-${deviceId}`,
  room: '방',
  channelId: 'c1',
  sender: '손님',
  senderHash: null,
  text: '날씨 서울',
  isGroupChat: false,
  isMention: false,
  logId,
  sentAt: null,
  replyRoute: `dev.${deviceId}`,
});

function kept(limits = { ttlMs: 600_000, perDevice: 3, maxDevices: 2 }) {
  let now = 1_000_000;
  return { h: new HeldEvents(() => now, limits), tick: (ms: number) => (now += ms) };
}

describe('HeldEvents (commands of pending phones)', () => {
  it('keeps only what can be answered once: a phone and a log id, a redelivery once', () => {
    const { h } = kept();
    expect(h.hold(command('d1', null))).toBe(false);
    expect(h.hold({ ...command('d1', '1'), deviceId: null })).toBe(false);
    expect(h.hold(command('d1', '1'))).toBe(true);
    expect(h.hold(command('d1', '1'))).toBe(true);
    expect(h.release('d1').map((m) => m.logId)).toEqual(['1']);
    expect(h.release('d1')).toEqual([]);
  });

  it('keeps the newest few per phone, for a bounded time', () => {
    const { h, tick } = kept();
    for (const id of ['1', '2', '3', '4']) h.hold(command('d1', id));
    expect(h.size).toBe(3);
    tick(599_999);
    h.hold(command('d1', '5'));
    tick(1);
    // '2'..'4' are ten minutes old now; '5' is not.
    expect(h.release('d1').map((m) => m.logId)).toEqual(['5']);
  });

  it('bounds the phones it keeps for, lists them by bot, drops a blocked one', () => {
    const { h } = kept();
    h.hold(command('d1', '1'));
    h.hold(command('d2', '2', OTHER_BOT));
    h.hold(command('d3', '3'));
    // d1 was kept longest: it went for d3.
    expect(h.release('d1')).toEqual([]);
    expect(h.devicesOf(BOT)).toEqual([{ deviceId: 'd3', botId: BOT }]);
    expect(h.devicesOf(null).map((d) => d.deviceId).sort()).toEqual(['d2', 'd3']);
    h.drop('d3');
    expect(h.devicesOf(BOT)).toEqual([]);
  });
});
