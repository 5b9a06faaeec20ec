import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { dropTenantRoles } from '../support/tenant-roles.js';
import { launchChromium, pageWidth, shot, signedInContext, startWeb, type WebServer } from './browser.js';

/**
 * The 데이터 page as a shop owner uses it (issue 15 item 2): the 재고 sheet
 * (a CSV with Korean headers) uploaded, previewed with its column types,
 * imported as a table; a row edited, one added and deleted; the table
 * downloaded as the same CSV; a store key set; the same page on a phone
 * (390x844) without sideways scrolling. Screenshots at 1280x800 and 390x844.
 */
const CSV = '품목,수량,단위\r\n사과,12,개\r\n배,8,박스\r\n귤,7,봉지\r\n';

describe('data page (Chromium)', () => {
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let tenant: TenantClient;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    stack = await startStack('e2e-data');
    web = await startWeb(stack.api.port);
    tenant = await TenantClient.signup(stack.api, 'data-page@shop.example', '김사장');
    browser = await launchChromium();
    context = await signedInContext(browser, web.url, tenant, { width: 1280, height: 800 });
    page = await context.newPage();
    page.on('pageerror', (err) => console.log('[page error]', err.message));
  });

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    const me = tenant ? await tenant.ok<{ tenant: { id: string } }>('GET', '/me').catch(() => null) : null;
    await stack?.close();
    if (me) await dropTenantRoles([me.tenant.id]);
  });

  it('uploads the 재고 sheet with a preview and types, edits rows, downloads the same CSV, sets a store key', async () => {
    await page.goto(`${web.url}/data`);
    await page.getByRole('link', { name: '데이터' }).waitFor();
    await page.getByText('아직 표가 없습니다', { exact: false }).waitFor();
    await page.getByTestId('data-upload').click();
    await page.getByTestId('import-file').setInputFiles({ name: '재고.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    const preview = page.getByTestId('import-preview');
    await preview.getByText('사과').waitFor();
    expect(await page.getByTestId('import-summary').textContent()).toContain('전체 3행');
    const types = page.getByTestId('import-type');
    expect(await types.evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).toEqual(['text', 'integer', 'text']);
    expect(await page.getByTestId('import-table').inputValue()).toBe('재고');
    await shot(page, 'd01-data-preview');
    await page.getByTestId('import-submit').click();

    const table = page.getByTestId('table-rows');
    await table.getByText('사과').waitFor();
    expect(await page.getByTestId('data-table').first().textContent()).toContain('3행');

    // Edit 사과's 수량 to 30.
    const apple = page.getByTestId('table-row').filter({ hasText: '사과' });
    await apple.getByTestId('row-edit').click();
    // The row being edited holds inputs (no text): the table's only ones.
    await table.getByLabel('수량').fill('30');
    await table.getByTestId('row-save').click();
    await page.getByTestId('table-row').filter({ hasText: '30' }).waitFor();

    // Add 딸기, then delete it.
    await page.getByTestId('row-add').click();
    const cells = page.getByTestId('new-cell');
    await cells.nth(0).fill('딸기');
    await cells.nth(1).fill('5');
    await cells.nth(2).fill('팩');
    await page.getByTestId('row-save').click();
    const strawberry = page.getByTestId('table-row').filter({ hasText: '딸기' });
    await strawberry.waitFor();
    page.once('dialog', (d) => void d.accept());
    await strawberry.getByTestId('row-delete').click();
    await strawberry.waitFor({ state: 'detached' });
    await shot(page, 'd02-data-table');

    // The CSV download: UTF-8 with a BOM, the rows as edited.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV 내려받기' }).click()]);
    const file = await readFile((await download.path())!);
    expect(file.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(file.subarray(3).toString('utf8')).toBe('품목,수량,단위\r\n귤,7,봉지\r\n배,8,박스\r\n사과,30,개\r\n');

    // A store key, listed with its JSON value.
    await page.getByTestId('store-key').fill('공지');
    await page.getByTestId('store-value').fill('"오늘 휴무"');
    await page.getByRole('button', { name: '키 저장' }).click();
    await page.getByTestId('store-keys').getByText('"오늘 휴무"').waitFor();
    await shot(page, 'd03-data-page');
  });

  it('fits a phone (390x844) without sideways scrolling', async () => {
    const phone = await signedInContext(browser, web.url, tenant, { width: 390, height: 844 });
    const small = await phone.newPage();
    await small.goto(`${web.url}/data`);
    await small.getByTestId('data-table').first().getByRole('button', { name: '재고' }).click();
    await small.getByTestId('table-rows').getByText('사과').waitFor();
    expect(await pageWidth(small)).toBeLessThanOrEqual(390);
    await shot(small, 'd04-data-phone');
    await phone.close();
  });
});
