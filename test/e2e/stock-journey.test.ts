import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { dropTenantRoles } from '../support/tenant-roles.js';
import { EDITOR_READY, launchChromium, pageWidth, shot, signedInContext, startWeb, waitForPage, type WebServer } from './browser.js';

/**
 * Issue 15's 재고 journey in Chromium: a shop owner uploads the 재고 sheet
 * (CSV: 품목,수량,단위) on the 데이터 page, makes the 재고 command from the
 * "재고 (우리 가게 표)" template and the 입고 command from the "입고 / 출고"
 * template in the editor and saves both; a scripted phone (approved) sends
 * "재고 사과" (the sheet's number), "입고 사과 10" (the new total) and
 * "재고 사과" again (the new number); the 데이터 page, reloaded, shows the
 * new 수량. Real platform with a Docker sandbox runner; web/server.js in
 * front. Screens k01-k06 at 1280x800, k07 at 390x844 (no sideways scroll).
 */
const CSV = '품목,수량,단위\r\n사과,12,박스\r\n배,8,박스\r\n귤,7,봉지\r\n';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const DEVICE = 'android-stock-01';
const ROOM = { room: '우리가게', channelId: '8151', sender: '김사장' };

describe('the 재고 journey (Chromium)', () => {
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let shop: TenantClient;
  let context: BrowserContext;
  let page: Page;
  let phone: Phone | null = null;
  let tenantId: string | null = null;

  beforeAll(async () => {
    stack = await startStack('e2e-stock', {}, { runner: true });
    web = await startWeb(stack.api.port);
    shop = await TenantClient.signup(stack.api, 'stock-journey@shop.example', '김사장');
    tenantId = (await shop.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id;
    browser = await launchChromium();
    context = await signedInContext(browser, web.url, shop, DESKTOP);
    page = await context.newPage();
    page.on('pageerror', (err) => console.log('[page error]', err.message));
  });

  afterAll(async () => {
    phone?.destroy();
    await browser?.close();
    await web?.stop();
    await stack?.close();
    if (tenantId) await dropTenantRoles([tenantId]);
  });

  /** The 데이터 page's 재고 table, its 사과 row. */
  const appleRow = () => page.getByTestId('table-row').filter({ hasText: '사과' });

  /** A command from the template picker, as a user makes one: + 새 명령어, the template, 💾 저장. */
  async function fromTemplate(name: string, command: string, screen: string): Promise<void> {
    await page.goto(`${web.url}/`);
    await page.getByRole('link', { name: '+ 새 명령어' }).click();
    const picker = page.getByRole('dialog', { name: '📋 템플릿' });
    await picker.getByRole('button', { name: `이 템플릿 사용: ${name}` }).click();
    await expect.poll(() => page.getByLabel('명령어', { exact: true }).inputValue()).toBe(command);
    await waitForPage(page, EDITOR_READY);
    await expect.poll(() => page.locator('.monaco-editor .view-lines').textContent()).toContain(name.split(' ')[0]!);
    await page.getByTestId('lint-status').getByText('문법 검사 통과').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '💾 저장' }).click();
    await page.getByTestId('save-status').getByText('저장됨: 버전 1').waitFor({ timeout: 30_000 });
    await page.waitForURL(/\/commands\/\d+$/);
    await shot(page, screen);
  }

  it('uploads the 재고 sheet on the 데이터 page', async () => {
    await page.goto(`${web.url}/data`);
    await page.getByText('아직 표가 없습니다', { exact: false }).waitFor();
    await page.getByTestId('data-upload').click();
    await page.getByTestId('import-file').setInputFiles({ name: '재고.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await page.getByTestId('import-preview').getByText('사과').waitFor();
    expect(await page.getByTestId('import-table').inputValue()).toBe('재고');
    await shot(page, 'k01-stock-preview');
    await page.getByTestId('import-submit').click();
    await page.getByTestId('table-rows').getByText('사과').waitFor();
    expect(await appleRow().textContent()).toContain('12');
    await shot(page, 'k02-stock-imported');
  });

  it('makes 재고 and 입고 from their templates and saves them', async () => {
    await fromTemplate('재고 (우리 가게 표)', '재고', 'k03-stock-command-saved');
    await fromTemplate('입고 / 출고', '입고', 'k04-stock-in-command-saved');
    await page.goto(`${web.url}/`);
    for (const name of ['재고', '입고']) await page.getByRole('link', { name, exact: true }).waitFor();
    await shot(page, 'k05-commands');
  });

  it('answers 재고 사과 from the sheet, 입고 사과 10 changes it, the next 재고 사과 shows the new number', async () => {
    const bot = await shop.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', '/bots', { name: '재고가게봇' });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    expect((await phone.handshake({ botName: bot.name, deviceID: DEVICE, secretKey: bot.secretKey, salt: bot.salt })).success).toBe(true);
    await shop.approveDevice(bot.id, DEVICE);

    phone.sendMessage({ ...ROOM, text: '재고 사과' });
    expect(await phone.nextReply(undefined, 60_000)).toBe("📦 '사과' 재고\n✅ 사과: 12박스");
    phone.sendMessage({ ...ROOM, text: '입고 사과 10' });
    expect(await phone.nextReply(undefined, 60_000)).toBe('🚚 사과 10개 입고: 지금 22개');
    phone.sendMessage({ ...ROOM, text: '재고 사과' });
    expect(await phone.nextReply(undefined, 60_000)).toBe("📦 '사과' 재고\n✅ 사과: 22박스");
  });

  it('shows the new 수량 on the 데이터 page, reloaded, and on a phone without sideways scrolling', async () => {
    await page.goto(`${web.url}/data`);
    await page.reload();
    await page.getByTestId('data-table').first().getByRole('button', { name: '재고' }).click();
    await page.getByTestId('table-rows').getByText('사과').waitFor();
    expect(await appleRow().textContent()).toContain('22');
    expect(await appleRow().textContent()).not.toContain('12');
    await shot(page, 'k06-stock-after');

    const small = await signedInContext(browser, web.url, shop, PHONE);
    const p = await small.newPage();
    await p.goto(`${web.url}/data`);
    await p.getByTestId('data-table').first().getByRole('button', { name: '재고' }).click();
    const row = p.getByTestId('table-row').filter({ hasText: '사과' });
    await row.waitFor();
    expect(await row.textContent()).toContain('22');
    expect(await pageWidth(p)).toBeLessThanOrEqual(390);
    await shot(p, 'k07-stock-after-phone');
    await small.close();
  });
});
