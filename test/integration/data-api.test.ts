import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantSchemaName } from '@domaeka/tenant-data';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { dropTenantRoles } from '../support/tenant-roles.js';

/**
 * Issue 15 item 2 over the API (the 데이터 page's routes): the 재고 sheet
 * uploaded as CSV (UTF-8 and CP949) and .xlsx, previewed with Korean
 * headers and type guesses, imported into the tenant's own table, listed,
 * paged, edited by primary key, exported as the same CSV; another tenant
 * sees none of it; hostile names are refused; an import over the plan's
 * quota changes nothing; the store's keys count in its quota. Acceptance:
 * "재고 사과" in a room answers from the uploaded sheet.
 */
const CSV = '품목,수량,단위\r\n사과,12,개\r\n배,"1,200",박스\r\n"귤, 제주",7,"봉지\n(큰)"\r\n';
const STOCK = `
from domaeka import db

def handle_command(params):
    이름 = params["raw_text"].split()[1]
    rows = db.query("select 수량, 단위 from 재고 where 품목 = $1", [이름])
    return f"{이름}: {rows[0]['수량']}{rows[0]['단위']}" if rows else f"{이름}: 재고 없음"
`;

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');

describe('the 데이터 API: sheets in, rows edited, sheets out', () => {
  let stack: Stack;
  let a: TenantClient;
  let b: TenantClient;
  const tenantIds: string[] = [];
  let phone: Phone;

  beforeAll(async () => {
    stack = await startStack('data-api', {}, { runner: true });
    a = await TenantClient.signup(stack.api, 'data-a@shop.example');
    b = await TenantClient.signup(stack.api, 'data-b@shop.example');
    for (const t of [a, b]) tenantIds.push((await t.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id);
  });

  afterAll(async () => {
    phone?.destroy();
    await stack?.close();
    await dropTenantRoles(tenantIds);
  });

  const exportOf = async (t: TenantClient, name: string, format = 'csv') =>
    stack.api.app.inject({ method: 'GET', url: `/api/v1/data/tables/${encodeURIComponent(name)}/export?format=${format}`, headers: { cookie: t.cookie } });

  it('previews a UTF-8 CSV with Korean headers and guessed types, imports it, lists, pages, edits and exports the same CSV', async () => {
    const preview = await a.ok('POST', '/data/import/preview', { filename: '재고.csv', content: b64(CSV) });
    expect(preview).toEqual({
      encoding: 'utf-8',
      columns: [{ name: '품목', type: 'text' }, { name: '수량', type: 'integer' }, { name: '단위', type: 'text' }],
      rows: [['사과', '12', '개'], ['배', '1,200', '박스'], ['귤, 제주', '7', '봉지\n(큰)']],
      total: 3,
    });
    expect(await a.ok('POST', '/data/import', { filename: '재고.csv', content: b64(CSV), table: '재고', mode: 'create', columns: preview.columns, primaryKey: true })).toEqual({
      table: '재고',
      mode: 'create',
      inserted: 3,
    });
    const list = await a.ok('GET', '/data/tables');
    expect(list.tables).toEqual([
      {
        name: '재고',
        columns: [
          { name: '품목', type: 'text', nullable: false, primaryKey: true },
          { name: '수량', type: 'bigint', nullable: true, primaryKey: false },
          { name: '단위', type: 'text', nullable: true, primaryKey: false },
        ],
        rows: 3,
        bytes: expect.any(Number),
      },
    ]);
    expect(list.quota).toMatchObject({ dbMaxBytes: 5 * 1024 * 1024, usedBytes: expect.any(Number) });
    expect(list.quota.usedBytes).toBeGreaterThan(0);

    const rows = await a.ok('GET', `/data/tables/${encodeURIComponent('재고')}/rows?offset=0&limit=2`);
    expect(rows).toMatchObject({ total: 3, rows: [['귤, 제주', 7, '봉지\n(큰)'], ['배', 1200, '박스']] });

    await a.ok('PATCH', `/data/tables/${encodeURIComponent('재고')}/rows`, { key: { 품목: '사과' }, values: { 수량: 30 } });
    expect((await a.call('POST', `/data/tables/${encodeURIComponent('재고')}/rows`, { values: { 품목: '딸기', 수량: 5, 단위: '팩' } })).status).toBe(201);
    await a.ok('DELETE', `/data/tables/${encodeURIComponent('재고')}/rows`, { key: { 품목: '딸기' } });

    const csv = await exportOf(a, '재고');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(csv.rawPayload.subarray(3).toString('utf8')).toBe('품목,수량,단위\r\n"귤, 제주",7,"봉지\n(큰)"\r\n배,1200,박스\r\n사과,30,개\r\n');

    const xlsx = await exportOf(a, '재고', 'xlsx');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    expect(book.worksheets[0]!.getRow(4).values).toEqual([undefined, '사과', 30, '개']);
  });

  it('reads a CP949 CSV and an .xlsx made in Excel, and appends and replaces', async () => {
    const cp949 = iconv.encode('품목,수량,단위\r\n포도,3,송이\r\n', 'cp949');
    const p = await a.ok('POST', '/data/import/preview', { filename: 'stock.csv', content: b64(cp949) });
    expect(p).toMatchObject({ encoding: 'cp949', columns: [{ name: '품목' }, { name: '수량', type: 'integer' }, { name: '단위' }], rows: [['포도', '3', '송이']] });
    await a.ok('POST', '/data/import', { filename: 'stock.csv', content: b64(cp949), table: '재고2', mode: 'create' });
    await a.ok('POST', '/data/import', { filename: 'stock.csv', content: b64(cp949), table: '재고2', mode: 'append' });
    expect((await a.ok('GET', `/data/tables/${encodeURIComponent('재고2')}/rows`)).total).toBe(2);
    // No primary key: read and add only, said in Korean.
    const edit = await a.call('PATCH', `/data/tables/${encodeURIComponent('재고2')}/rows`, { key: { 품목: '포도' }, values: { 수량: 1 } });
    expect(edit.status).toBe(409);
    expect(edit.body.error).toMatchObject({ code: 'KB_ERR_TABLE_READ_ONLY', message: expect.stringMatching(/기본 키가 없어/) });

    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('시트1');
    sheet.addRow(['품목', '수량', '단위']);
    sheet.addRow(['수박', 2, '통']);
    sheet.addRow(['참외', 11, '개']);
    const file = Buffer.from(await book.xlsx.writeBuffer());
    const px = await a.ok('POST', '/data/import/preview', { filename: '재고.xlsx', content: b64(file) });
    expect(px).toMatchObject({ encoding: 'xlsx', columns: [{ name: '품목', type: 'text' }, { name: '수량', type: 'integer' }, { name: '단위', type: 'text' }], total: 2 });
    await a.ok('POST', '/data/import', { filename: '재고.xlsx', content: b64(file), table: '재고2', mode: 'replace' });
    expect((await a.ok('GET', `/data/tables/${encodeURIComponent('재고2')}/rows`)).rows).toEqual([['수박', 2, '통'], ['참외', 11, '개']]);

    const bad = await a.call('POST', '/data/import/preview', { filename: 'x.csv', content: b64(Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x00])) });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/인코딩/);
  });

  it("tenant B sees none of A's tables and cannot read or change them; hostile names are refused", async () => {
    expect((await b.ok('GET', '/data/tables')).tables).toEqual([]);
    for (const [method, url, body] of [
      ['GET', `/data/tables/${encodeURIComponent('재고')}/rows`, undefined],
      ['PATCH', `/data/tables/${encodeURIComponent('재고')}/rows`, { key: { 품목: '사과' }, values: { 수량: 0 } }],
      ['DELETE', `/data/tables/${encodeURIComponent('재고')}/rows`, { key: { 품목: '사과' } }],
    ] as const) {
      const r = await b.call(method, url, body);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('KB_ERR_TABLE_NOT_FOUND');
    }
    expect((await exportOf(b, '재고')).statusCode).toBe(404);
    const aSchema = tenantSchemaName(tenantIds[0]!);
    for (const name of ['pg_class', `${aSchema}.재고`, '재고"; drop table 재고; --', 'kb_store', '../재고']) {
      const r = await b.call('GET', `/data/tables/${encodeURIComponent(name)}/rows`);
      expect(r.status, name).toBe(404);
    }
    // A column name that is not the table's, even from A itself.
    const col = await a.call('POST', `/data/tables/${encodeURIComponent('재고')}/rows`, { values: { '수량" = 0; --': 1 } });
    expect(col.status).toBe(400);
    expect(col.body.error.message).toMatch(/열 .*이\(가\) 없습니다/);
    for (const table of ['pg_class', `${aSchema}.재고`, 'a"b', 'public.plans']) {
      const r = await b.call('POST', '/data/import', { filename: 'x.csv', content: b64(CSV), table, mode: 'create' });
      expect(r.status, table).toBe(400);
      expect(r.body.error.message).toMatch(/쓸 수 없습니다/);
    }
    const header = await b.call('POST', '/data/import', { filename: 'x.csv', content: b64('a"b,c\n1,2\n'), table: '표', mode: 'create' });
    expect(header.status).toBe(400);
    // A's rows are as A left them.
    expect((await a.ok('GET', `/data/tables/${encodeURIComponent('재고')}/rows`)).total).toBe(3);
  });

  it('an import over the plan\'s table quota is refused in Korean and changes nothing', async () => {
    await stack.pool.query(`update plans set db_max_bytes = $1 where id = 'free'`, [128 * 1024]);
    try {
      const lines = ['품목,수량,단위', ...Array.from({ length: 5000 }, (_, i) => `상품${i}-${'가'.repeat(30)},${i},개`)];
      const r = await a.call('POST', '/data/import', { filename: 'big.csv', content: b64(lines.join('\n')), table: '재고', mode: 'append' });
      expect(r.status, JSON.stringify(r.body)).toBe(409);
      expect(r.body.error).toMatchObject({ code: 'KB_ERR_STORAGE_QUOTA', message: expect.stringMatching(/^저장 공간이 가득 찼습니다: 표는 모두 합쳐 128 KiB까지/) });
      const fresh = await a.call('POST', '/data/import', { filename: 'big.csv', content: b64(lines.join('\n')), table: '큰표', mode: 'create' });
      expect(fresh.body.error.code).toBe('KB_ERR_STORAGE_QUOTA');
      const list = await a.ok('GET', '/data/tables');
      expect(list.tables.map((t: { name: string }) => t.name).sort()).toEqual(['재고', '재고2']);
      expect(list.tables.find((t: { name: string }) => t.name === '재고').rows).toBe(3);
    } finally {
      await stack.pool.query(`update plans set db_max_bytes = $1 where id = 'free'`, [5 * 1024 * 1024]);
    }
  });

  it("store keys: listed, set and deleted in the plan's quota, counted in kb_store_usage", async () => {
    await a.ok('PUT', `/data/store/${encodeURIComponent('포인트:김철수')}`, { value: 12 });
    await a.ok('PUT', `/data/store/${encodeURIComponent('공지')}`, { value: { 제목: '휴무' }, ttlSec: 3600 });
    const list = await a.ok('GET', `/data/store?prefix=${encodeURIComponent('포인트:')}`);
    expect(list).toMatchObject({ total: 1, keys: [{ key: '포인트:김철수', value: 12 }], quota: { usedKeys: 2 } });
    expect((await b.ok('GET', '/data/store')).total).toBe(0);
    // B's key of the same name is B's own: A's stays as it was.
    await b.ok('PUT', `/data/store/${encodeURIComponent('포인트:김철수')}`, { value: 'B의 값' });
    expect((await a.ok('GET', `/data/store?prefix=${encodeURIComponent('포인트:')}`)).keys[0].value).toBe(12);
    expect((await b.call('DELETE', `/data/store/${encodeURIComponent('포인트:김철수')}`)).status).toBe(204);
    expect((await b.call('DELETE', `/data/store/${encodeURIComponent('공지')}`)).status).toBe(404);
    await stack.pool.query(`update plans set store_max_keys = 2 where id = 'free'`);
    try {
      const full = await a.call('PUT', '/data/store/third', { value: 1 });
      expect(full.status).toBe(409);
      expect(full.body.error).toMatchObject({ code: 'KB_ERR_STORAGE_QUOTA', message: expect.stringMatching(/^저장 공간이 가득 찼습니다: 키는 2개까지/) });
    } finally {
      await stack.pool.query(`update plans set store_max_keys = 1000 where id = 'free'`);
    }
    expect((await a.call('DELETE', `/data/store/${encodeURIComponent('공지')}`)).status).toBe(204);
    const usage = await stack.pool.query(`select keys from kb_store_usage where tenant_id = $1`, [tenantIds[0]]);
    expect(usage.rows[0].keys).toBe(1);
  });

  it('"재고 사과" in a room answers from the uploaded sheet', async () => {
    const bot = await a.ok('POST', '/bots', { name: 'LOA.data' });
    await a.ok('POST', '/commands', { command: '재고', target: { type: 'sandbox', language: 'python', code: STOCK } });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'android-data', secretKey: bot.secretKey, salt: bot.salt });
    await a.approveDevice(bot.id, 'android-data');
    phone.sendMessage({ room: '가게방', channelId: '6161', text: '재고 사과', sender: '사장님', logId: '7001' });
    expect(await phone.nextReply()).toBe('사과: 30개');
  });
});
