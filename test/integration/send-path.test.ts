import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomMessageFor } from '@domaeka/core';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 15 item 4, messages from code: a command's Python calls
 * `send("공지방", ...)`; the room it was asked in gets its reply, the other
 * room the sent message (as the phone reads any reply: by room name), each
 * delivery a kb_api_logs row with source `send`. A room the tenant's bots
 * do not have is logged, not raised; a call that fails sends nothing; past
 * the plan's messages a day nothing more goes out and the row says why.
 */
const NOTICE = `
from domaeka import send

def handle_command(params):
    text = params["parameters"][0]
    send("공지방", "📢 " + text)
    if text == "실패":
        raise ValueError("일부러")
    send("없는방", "아무도 못 받음")
    return "공지방에 알렸어요"
`;

/** This file's database: the free plan sends this many a day. */
const PER_DAY = 3;

describe('code sends messages to its rooms (domaeka.send)', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let phone: Phone;
  let tenantId: string;
  let logSeq = 9100;
  const say = (room: string, channelId: string, text: string) => phone.sendMessage({ room, channelId, text, sender: '사장님', logId: String(logSeq++) });
  const reply = (room: string) => phone.nextReply((_t, p) => p.data.room === room);
  const sendRows = async () =>
    (
      await stack.pool.query<{ channel_id: string | null; request_data: string; response_data: string | null; error_code: string | null }>(
        `select channel_id, request_data, response_data, error_code from kb_api_logs where tenant_id = $1 and source = 'send' order by id`,
        [tenantId],
      )
    ).rows;

  beforeAll(async () => {
    stack = await startStack('send-path', {}, { runner: true });
    await stack.pool.query(`update plans set sends_per_day = $1 where id = 'free'`, [PER_DAY]);
    tenant = await TenantClient.signup(stack.api, 'send@shop.example');
    tenantId = (await tenant.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id;
    const bot = await tenant.ok('POST', '/bots', { name: 'LOA.send' });
    await tenant.ok('POST', '/commands', { command: '공지', pattern: '^공지\\s+(\\S+)', target: { type: 'sandbox', language: 'python', code: NOTICE } });
    await tenant.ok('POST', '/commands', { command: '핑', target: { type: 'reply', text: '퐁' } });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'android-send', secretKey: bot.secretKey, salt: bot.salt });
    await tenant.approveDevice(bot.id, 'android-send');
    // The bot knows the notice room once a message came from it.
    say('공지방', '5001', '핑');
    expect(await reply('공지방')).toBe('퐁');
  });

  afterAll(async () => {
    phone?.destroy();
    await stack?.close();
  });

  it('the asking room gets the reply, the named room the message; each delivery is logged, an unknown room too', async () => {
    say('직원방', '5002', '공지 내일휴무');
    expect(await reply('직원방')).toBe('공지방에 알렸어요');
    expect(await reply('공지방')).toBe('📢 내일휴무');
    const rows = await waitFor(async () => ((await sendRows()).length >= 2 ? sendRows() : undefined), { what: 'the two send rows' });
    expect(rows.map((r) => [r.channel_id, r.error_code, r.response_data && JSON.parse(r.response_data).text])).toEqual([
      ['5001', null, '📢 내일휴무'],
      [null, 'KB_ERR_SEND_NO_ROOM', null],
    ]);
    expect(JSON.parse(rows[1]!.request_data)).toMatchObject({ room: '없는방', text: '아무도 못 받음' });
  });

  it('a call that fails sends nothing', async () => {
    const before = (await sendRows()).length;
    say('직원방', '5002', '공지 실패');
    expect(await reply('직원방')).toBe(roomMessageFor('KB_ERR_USER_EXCEPTION'));
    // The next call's delivery comes after: had the failed call sent, its row would be first.
    say('직원방', '5002', '공지 둘째');
    expect(await reply('공지방')).toBe('📢 둘째');
    const rows = await waitFor(async () => ((await sendRows()).length >= before + 2 ? sendRows() : undefined), { what: 'the next rows' });
    expect(JSON.parse(rows[before]!.request_data)).toMatchObject({ room: '공지방', text: '📢 둘째' });
  });

  it("past the plan's messages a day nothing more goes out, and the row says why", async () => {
    // Two delivered so far (PER_DAY = 3): one more reaches the room, the next is refused.
    say('직원방', '5002', '공지 셋째');
    expect(await reply('공지방')).toBe('📢 셋째');
    say('직원방', '5002', '공지 넷째');
    expect(await reply('직원방')).toBe('공지방에 알렸어요');
    const rows = await waitFor(
      async () => {
        const all = await sendRows();
        return all.some((r) => r.error_code === 'KB_ERR_SEND_LIMIT') ? all : undefined;
      },
      { what: 'the refused delivery' },
    );
    expect(rows.filter((r) => r.error_code === null)).toHaveLength(PER_DAY);
    expect(phone.replies().filter((t) => t === '📢 넷째')).toEqual([]);
  });
});
