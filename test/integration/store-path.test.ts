import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomMessageFor } from '@domaeka/core';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Acceptance (issue 15, the store): a points card in tenant Python that
 * counts per sender with `from domaeka import store`, created through the
 * API (the runner's lint lets `domaeka` in), answers in the room through
 * the whole path (phone -> gateway -> dispatcher -> runner -> container,
 * the container -> the runner's data socket -> PostgreSQL): "포인트: 1",
 * then "포인트: 2". The count lives in the database, not the container
 * (free plan: every call a fresh container). Past the plan's store quota
 * the room hears the platform's Korean text and the editor's test run the
 * Korean reason; nothing stored before is lost.
 */
const POINTS = `
from domaeka import store

def handle_command(params):
    n = store.incr("포인트:" + params["sender"])
    return f"포인트: {n}"
`;

/** A new key per message: fills the store. */
const DIARY = `
from domaeka import store

def handle_command(params):
    n = len(store.keys("기록:"))
    store.set(f"기록:{n}", params["raw_text"])
    return f"기록 {n + 1}개"
`;

/** The free plan's keys, lowered for this file's database: two senders' points and two diary entries. */
const MAX_KEYS = 4;

describe('phone → … → runner → the store → room', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let phone: Phone;
  let logSeq = 7000;
  const say = async (text: string, sender = '김단골') => {
    phone.sendMessage({ room: '단골방', channelId: '4242', text, sender, logId: String(logSeq++) });
    return phone.nextReply();
  };

  beforeAll(async () => {
    stack = await startStack('store-path', {}, { runner: true });
    // Before any message, so no cache holds the plan's old quota.
    await stack.pool.query(`update plans set store_max_keys = $1 where id = 'free'`, [MAX_KEYS]);
    tenant = await TenantClient.signup(stack.api, 'points@shop.example');
    const bot = await tenant.ok('POST', '/bots', { name: 'LOA.points' });
    await tenant.ok('POST', '/commands', { command: '포인트', target: { type: 'sandbox', language: 'python', code: POINTS } });
    await tenant.ok('POST', '/commands', { command: '기록', target: { type: 'sandbox', language: 'python', code: DIARY } });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'android-points', secretKey: bot.secretKey, salt: bot.salt });
    await tenant.approveDevice(bot.id, 'android-points');
  });

  afterAll(async () => {
    phone?.destroy();
    await stack?.close();
  });

  it('"포인트" answers "포인트: 1", then "포인트: 2", counted per sender in the database', async () => {
    expect(await say('포인트')).toBe('포인트: 1');
    expect(await say('포인트')).toBe('포인트: 2');
    expect(await say('포인트', '새손님')).toBe('포인트: 1');
    const me = await tenant.ok<{ tenant: { id: string } }>('GET', '/me');
    const rows = await stack.pool.query(`select key, value from kb_store where tenant_id = $1 order by key`, [me.tenant.id]);
    expect(rows.rows).toEqual([
      { key: '포인트:김단골', value: 2 },
      { key: '포인트:새손님', value: 1 },
    ]);
    // The free plan runs every call in a fresh container: the count is the store's, not module state.
    expect(stack.runner!.dedicated()).toHaveLength(0);
  });

  it("tells the room and the editor in Korean when the plan's store is full; what was stored stays", async () => {
    expect(await say('기록 하나')).toBe('기록 1개');
    expect(await say('기록 둘')).toBe('기록 2개');
    expect(await say('기록 셋')).toBe(roomMessageFor('KB_ERR_STORAGE_QUOTA'));
    expect(roomMessageFor('KB_ERR_STORAGE_QUOTA')).toBe('저장 공간이 가득 찼습니다. 관리자에게 문의해 주세요.');
    const row = await waitFor(async () => (await stack.pool.query(`select error_code, error_message from kb_api_logs where error_code = 'KB_ERR_STORAGE_QUOTA'`)).rows[0], {
      what: 'the refused call in the log',
    });
    expect(row.error_message).toMatch(/^저장 공간이 가득 찼습니다: 키는 4개까지 저장할 수 있습니다/);
    // Nothing lost: the diary and the points are there, and a key that exists still counts on.
    expect(await say('포인트')).toBe('포인트: 3');

    const { runId } = await tenant.ok<{ runId: string }>('POST', '/runs', { code: DIARY, input: { raw_text: '기록 넷' } });
    const run = await waitFor(async () => {
      const r = await tenant.ok<{ status: string; error: { code: string; message: string; line?: number } | null }>('GET', `/runs/${runId}`);
      return r.status === 'succeeded' || r.status === 'failed' ? r : undefined;
    }, { what: 'the test run to finish' });
    expect(run).toMatchObject({ status: 'failed', error: { code: 'KB_ERR_STORAGE_QUOTA', line: 6 } });
    expect(run.error!.message).toMatch(/^저장 공간이 가득 찼습니다: 키는 4개까지 저장할 수 있습니다 \/ storage quota reached: at most 4 keys/);
  });
});
