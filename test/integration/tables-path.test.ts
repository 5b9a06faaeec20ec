import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomMessageFor } from '@domaeka/core';
import { tenantSchemaName } from '@domaeka/tenant-data';
import { adminDatabaseUrl } from '../support/env.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Acceptance (issue 15, tables): the 재고 journey by code. Commands in
 * tenant Python keep a stock sheet in the tenant's own table with `from
 * domaeka import db`, created through the API (the lint lets `domaeka` in)
 * and answered in the room through the whole path (phone -> gateway ->
 * dispatcher -> runner -> container -> the runner's data socket ->
 * PostgreSQL, the tenant's schema): "재고 사과" answers from the table,
 * "입고 사과 10" changes it, the next "재고 사과" shows the new number. Past
 * the plan's table quota the room hears the platform's Korean text, the
 * log the reason, and nothing stored before is lost.
 */
const STOCK = `
from domaeka import db

def handle_command(params):
    parts = params["raw_text"].split()
    이름 = parts[1] if len(parts) > 1 else ""
    db.execute("create table if not exists 재고 (이름 text primary key, 수량 int not null default 0)")
    rows = db.query("select 수량 from 재고 where 이름 = $1", [이름])
    return f"{이름}: {rows[0]['수량']}개" if rows else f"{이름}: 재고 없음"
`;

const RESTOCK = `
from domaeka import db

def handle_command(params):
    _, 이름, 수량 = params["raw_text"].split()
    db.execute("create table if not exists 재고 (이름 text primary key, 수량 int not null default 0)")
    rows = db.query(
        "insert into 재고 (이름, 수량) values ($1, $2) on conflict (이름) do update set 수량 = 재고.수량 + excluded.수량 returning 수량",
        [이름, int(수량)],
    )
    return f"{이름} {수량}개 입고: 지금 {rows[0]['수량']}개"
`;

/** Three thousand rows of a made-up sheet: over this file's lowered quota. */
const BULK = `
from domaeka import db

def handle_command(params):
    db.execute("insert into 재고 (이름, 수량) select '상품' || g || md5(g::text), g from generate_series(1, 3000) g")
    return "대량 입고 완료"
`;

/** The free plan's table quota, lowered for this file's database: the sheet fits, three thousand more rows do not. */
const MAX_BYTES = 96 * 1024;

describe('phone → … → runner → the tenant table → room', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let tenantId = '';
  let phone: Phone;
  let logSeq = 9000;
  const say = async (text: string) => {
    phone.sendMessage({ room: '가게방', channelId: '5151', text, sender: '사장님', logId: String(logSeq++) });
    return phone.nextReply();
  };

  beforeAll(async () => {
    stack = await startStack('tables-path', {}, { runner: true });
    // Before any message, so no cache holds the plan's old quota.
    await stack.pool.query(`update plans set db_max_bytes = $1 where id = 'free'`, [MAX_BYTES]);
    tenant = await TenantClient.signup(stack.api, 'stock@shop.example');
    tenantId = (await tenant.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id;
    const bot = await tenant.ok('POST', '/bots', { name: 'LOA.stock' });
    await tenant.ok('POST', '/commands', { command: '재고', target: { type: 'sandbox', language: 'python', code: STOCK } });
    await tenant.ok('POST', '/commands', { command: '입고', target: { type: 'sandbox', language: 'python', code: RESTOCK } });
    await tenant.ok('POST', '/commands', { command: '대량입고', target: { type: 'sandbox', language: 'python', code: BULK } });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'android-stock', secretKey: bot.secretKey, salt: bot.salt });
    await tenant.approveDevice(bot.id, 'android-stock');
  });

  afterAll(async () => {
    phone?.destroy();
    await stack?.close();
    // The tenant's role is the cluster's: it goes with the test's database.
    if (tenantId) {
      const admin = new pg.Client({ connectionString: adminDatabaseUrl('postgres') });
      await admin.connect();
      await admin.query(`drop role if exists ${tenantSchemaName(tenantId)}`).catch(() => undefined);
      await admin.end();
    }
  });

  it('"재고 사과" answers from the table, "입고 사과 10" changes it, the next "재고 사과" shows the new number', async () => {
    expect(await say('재고 사과')).toBe('사과: 재고 없음');
    expect(await say('입고 사과 10')).toBe('사과 10개 입고: 지금 10개');
    expect(await say('재고 사과')).toBe('사과: 10개');
    expect(await say('입고 사과 5')).toBe('사과 5개 입고: 지금 15개');
    expect(await say('재고 사과')).toBe('사과: 15개');
    // The rows are in the tenant's own schema.
    const rows = await stack.pool.query(`select 이름, 수량 from ${tenantSchemaName(tenantId)}.재고`);
    expect(rows.rows).toEqual([{ 이름: '사과', 수량: 15 }]);
  });

  it("tells the room and the editor in Korean when the plan's table space is full; what was stored stays", async () => {
    expect(await say('대량입고')).toBe(roomMessageFor('KB_ERR_STORAGE_QUOTA'));
    const row = await waitFor(async () => (await stack.pool.query(`select error_message from kb_api_logs where error_code = 'KB_ERR_STORAGE_QUOTA'`)).rows[0], {
      what: 'the refused call in the log',
    });
    expect(row.error_message).toMatch(/^저장 공간이 가득 찼습니다: 표는 모두 합쳐 96 KiB까지 저장할 수 있습니다/);
    expect(await say('재고 사과')).toBe('사과: 15개');
    expect(await say('입고 배 3')).toBe('배 3개 입고: 지금 3개');

    // The editor's test run of the same code reads the Korean reason and the line.
    const { runId } = await tenant.ok<{ runId: string }>('POST', '/runs', { code: BULK, input: { raw_text: '대량입고' } });
    const run = await waitFor(async () => {
      const r = await tenant.ok<{ status: string; error: { code: string; message: string; line?: number } | null }>('GET', `/runs/${runId}`);
      return r.status === 'succeeded' || r.status === 'failed' ? r : undefined;
    }, { what: 'the test run to finish' });
    expect(run).toMatchObject({ status: 'failed', error: { code: 'KB_ERR_STORAGE_QUOTA', line: 5 } });
    expect(run.error!.message).toMatch(/^저장 공간이 가득 찼습니다: 표는 모두 합쳐 96 KiB까지 저장할 수 있습니다. 이번 변경은 저장되지 않았습니다 \/ storage quota reached/);
    expect(await say('재고 배')).toBe('배: 3개');
  });
});
