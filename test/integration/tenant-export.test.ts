import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { dropTenantRoles } from '../support/tenant-roles.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 15 item 6 (tenant backup): tenant A's commands (one with two
 * versions, one HTTP with a secret reference and a literal header),
 * schedules, store keys, the 재고 table and a secret go into one export
 * file; a new tenant C imports it into its empty account, and "재고 사과"
 * in C's room answers as in A's. The secret's value and the literal header
 * are nowhere in the file; a second import is 409, a wrong file 400 in
 * Korean, and an import over the plan's store quota leaves nothing behind.
 */
const CSV = '품목,수량,단위\r\n사과,12,개\r\n배,30,박스\r\n';
const STOCK_V1 = `
def handle_command(params):
    return "준비 중"
`;
const STOCK_V2 = `
from domaeka import db, store

def handle_command(params):
    이름 = params["raw_text"].split()[1]
    가게 = store.get("가게이름", "?")
    rows = db.query("select 수량, 단위 from 재고 where 품목 = $1", [이름])
    return f"[{가게}] {이름}: {rows[0]['수량']}{rows[0]['단위']}" if rows else f"[{가게}] {이름}: 재고 없음"
`;
/** A table of other types (date, numeric, empty cells) that must come back equal. */
const LOG_CSV = '날짜,가격,메모\r\n2026-12-01,1.5,첫날\r\n2026-12-02,,\r\n';
const SECRET_VALUE = 'sk-live-9f8e7d6c5b4a-never-exported';
const LITERAL_HEADER = 'literal-header-value-3141592';

describe('tenant export and import', () => {
  let stack: Stack;
  let a: TenantClient;
  let c: TenantClient;
  const tenantIds: string[] = [];
  const phones: Phone[] = [];
  let file: any;
  let answerInA: string;

  beforeAll(async () => {
    stack = await startStack('tenant-export', { '/hook': (_req, res) => res.end('{"text":"ok"}') }, { runner: true });
    a = await TenantClient.signup(stack.api, 'export-a@shop.example', '사과가게');
    c = await TenantClient.signup(stack.api, 'export-c@shop.example', '새가게');
    for (const t of [a, c]) tenantIds.push((await t.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id);
  });

  afterAll(async () => {
    for (const p of phones) p.destroy();
    await stack?.close();
    await dropTenantRoles(tenantIds);
  });

  /** A bot with an approved phone, and its rooms known by a first message each. */
  async function botWithRooms(t: TenantClient, name: string, device: string, rooms: { room: string; channelId: string }[]) {
    const bot = await t.ok('POST', '/bots', { name });
    const phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    phones.push(phone);
    await phone.handshake({ botName: bot.name, deviceID: device, secretKey: bot.secretKey, salt: bot.salt });
    await t.approveDevice(bot.id, device);
    for (const r of rooms) phone.sendMessage({ ...r, text: '안녕하세요', sender: '사장님', logId: `${device}-${r.channelId}` });
    await waitFor(async () => (await t.ok<any[]>('GET', '/schedules/rooms')).length === rooms.length, { what: `${name} rooms known` });
    return { bot, phone };
  }

  it('exports commands with their versions, schedules, store, tables and secret names only', async () => {
    const { bot, phone } = await botWithRooms(a, 'EXPORT.a', 'phone-a', [{ room: '가게방', channelId: '6161' }, { room: '창고방', channelId: '6262' }]);
    await a.ok('POST', '/data/import', { filename: '재고.csv', content: Buffer.from(CSV).toString('base64'), table: '재고', mode: 'create', primaryKey: true });
    await a.ok('POST', '/data/import', { filename: '입고.csv', content: Buffer.from(LOG_CSV).toString('base64'), table: '입고 기록', mode: 'create' });
    await a.ok('PUT', `/data/store/${encodeURIComponent('가게이름')}`, { value: '도매까 상회' });
    await a.ok('PUT', `/data/store/${encodeURIComponent('세일')}`, { value: { pct: 10 }, ttlSec: 3600 });
    await a.ok('POST', '/secrets', { name: 'SHOP_TOKEN', value: SECRET_VALUE });
    const stock = await a.ok('POST', '/commands', { command: '재고', description: '재고 조회', target: { type: 'sandbox', language: 'python', code: STOCK_V1 } });
    await a.ok('PATCH', `/commands/${stock.id}`, { target: { type: 'sandbox', language: 'python', code: STOCK_V2 } });
    await a.ok('POST', '/commands', {
      command: '알림',
      target: { type: 'http', url: stack.stub.url('/hook'), headers: { Authorization: 'Bearer {{secret:SHOP_TOKEN}}', 'X-Shop-Key': LITERAL_HEADER } },
    });
    await a.ok('POST', '/schedules', { commandId: stock.id, phrase: '매일 오전 9시', rooms: [{ botId: bot.id, channelId: '6161' }], input: '재고 사과' });
    await a.ok('POST', '/schedules', { commandId: stock.id, phrase: '평일 18시', rooms: [{ botId: bot.id, channelId: '6262' }], input: '재고 배' });
    phone.sendMessage({ room: '가게방', channelId: '6161', text: '재고 사과', sender: '사장님', logId: 'a-1' });
    answerInA = await phone.nextReply((t) => t.includes('사과'));
    expect(answerInA).toBe('[도매까 상회] 사과: 12개');

    const res = await stack.api.app.inject({ method: 'GET', url: '/api/v1/export', headers: { cookie: a.cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toContain(`filename*=UTF-8''${encodeURIComponent('domaeka-사과가게-')}`);
    expect(res.body).not.toContain(SECRET_VALUE);
    expect(res.body).not.toContain(LITERAL_HEADER);
    file = JSON.parse(res.body);
    expect(file).toMatchObject({ format: 'domaeka-tenant-export', version: 1, tenant: { name: '사과가게' }, secrets: ['SHOP_TOKEN'] });
    const exported = file.commands.find((x: any) => x.command === '재고');
    expect(exported.versions.map((v: any) => [v.version, v.target.code])).toEqual([[1, STOCK_V1], [2, STOCK_V2]]);
    expect(exported.target.code).toBe(STOCK_V2);
    expect(file.commands.find((x: any) => x.command === '알림').target.headers).toEqual({ Authorization: 'Bearer {{secret:SHOP_TOKEN}}', 'X-Shop-Key': null });
    expect(file.schedules.map((s: any) => s.rooms)).toEqual([[{ botName: 'EXPORT.a', room: '가게방' }], [{ botName: 'EXPORT.a', room: '창고방' }]]);
    expect(file.store.map((s: any) => s.key)).toEqual(['가게이름', '세일']);
    expect(file.tables.map((t: any) => t.name)).toEqual(['입고 기록', '재고']);
    expect(file.tables[1]).toEqual(
      {
        name: '재고',
        columns: [
          { name: '품목', type: 'text', nullable: false, primaryKey: true },
          { name: '수량', type: 'bigint', nullable: true, primaryKey: false },
          { name: '단위', type: 'text', nullable: true, primaryKey: false },
        ],
        rows: [['배', 30, '박스'], ['사과', 12, '개']],
      },
    );
  });

  it('imports into an empty account: the same reply in its room, the same rows, store keys, versions; secrets to fill in', async () => {
    const { phone } = await botWithRooms(c, 'EXPORT.c', 'phone-c', [{ room: '가게방', channelId: '9191' }]);
    const res = await c.call('POST', '/import', file);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      commands: 2,
      versions: 3,
      schedules: { imported: 1, skipped: [{ command: '재고', rooms: [{ botName: 'EXPORT.a', room: '창고방' }] }] },
      storeKeys: 2,
      tables: [{ name: '입고 기록', rows: 2 }, { name: '재고', rows: 2 }],
      secretsToFill: ['SHOP_TOKEN'],
      headersToFill: [{ command: '알림', header: 'X-Shop-Key' }],
    });
    expect(res.body.message).toMatch(/가져왔습니다.*SHOP_TOKEN/);

    phone.sendMessage({ room: '가게방', channelId: '9191', text: '재고 사과', sender: '손님', logId: 'c-1' });
    expect(await phone.nextReply((t) => t.includes('사과'))).toBe(answerInA);

    const rows = await c.ok('GET', `/data/tables/${encodeURIComponent('재고')}/rows`);
    expect(rows.rows).toEqual([['배', 30, '박스'], ['사과', 12, '개']]);
    const logRows = `/data/tables/${encodeURIComponent('입고 기록')}/rows`;
    expect((await c.ok('GET', logRows)).rows).toEqual((await a.ok('GET', logRows)).rows);
    expect((await c.ok('GET', '/data/tables')).tables.map((t: any) => t.columns)).toEqual((await a.ok('GET', '/data/tables')).tables.map((t: any) => t.columns));
    const store = await c.ok('GET', '/data/store');
    expect(store.keys.map((k: any) => [k.key, k.value])).toEqual([['가게이름', '도매까 상회'], ['세일', { pct: 10 }]]);
    expect(store.keys[1].expiresAt).not.toBeNull();
    const commands = await c.ok<any[]>('GET', '/commands');
    const stock = commands.find((x) => x.command === '재고');
    expect(stock).toMatchObject({ version: 2, description: '재고 조회', target: { code: STOCK_V2 } });
    expect((await c.ok<any[]>('GET', `/commands/${stock.id}/versions`)).map((v) => v.version)).toEqual([2, 1]);
    expect(commands.find((x) => x.command === '알림').target.headers).toEqual({ Authorization: '********' });
    const schedules = (await c.ok('GET', '/schedules')).items;
    expect(schedules).toMatchObject([{ cron: '0 9 * * *', input: '재고 사과', enabled: true, rooms: [{ botName: 'EXPORT.c', room: '가게방', channelId: '9191' }] }]);
  });

  it('refuses an account that is not empty (409) and a wrong file (400), in Korean', async () => {
    const again = await c.call('POST', '/import', file);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'KB_ERR_ACCOUNT_NOT_EMPTY', message: expect.stringMatching(/빈 계정에만/) });

    const d = await TenantClient.signup(stack.api, 'export-d@shop.example');
    tenantIds.push((await d.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id);
    const broken = await d.call('POST', '/import', { format: 'domaeka-tenant-export', version: 1 });
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toMatch(/입력 값이 올바르지 않습니다/);
    const other = await d.call('POST', '/import', { ...file, format: 'someone-else' });
    expect(other.status).toBe(400);
    expect(other.body.error).toMatchObject({ code: 'KB_ERR_EXPORT_FILE', message: expect.stringMatching(/도매까 내보내기 파일이 아닙니다/) });
    const future = await d.call('POST', '/import', { ...file, version: 2 });
    expect(future.body.error.message).toMatch(/지원하지 않는 파일 버전/);

    // Over the free plan's 1000 store keys: refused, and the table made before the store part is gone again.
    const many = Array.from({ length: 1001 }, (_, i) => ({ key: `k${i}`, value: i, expiresAt: null }));
    const over = await d.call('POST', '/import', { ...file, store: many });
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('KB_ERR_STORAGE_QUOTA');
    expect(await d.ok('GET', '/commands')).toEqual([]);
    expect((await d.ok('GET', '/data/tables')).tables).toEqual([]);
    expect((await d.ok('GET', '/data/store')).total).toBe(0);
  });
});
