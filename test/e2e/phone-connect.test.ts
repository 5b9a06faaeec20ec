import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { json } from '../support/http-stub.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { launchChromium, pageWidth, shot, signedInContext, startWeb, type WebServer } from './browser.js';

/**
 * Issue 16, items 2 and 3 in Chromium: the bot page's "폰 연결" step. A new
 * bot says "폰 기다리는 중…"; its QR code's single-use link gives the phone
 * the pre-filled bridge script once (the scripted phone connects with the
 * values read out of that script, nothing typed); the step turns green
 * live; the top menu raises "승인 대기 1"; a command the room sent while the
 * phone waited is answered once the owner approves it from the menu.
 * Screens at 1280x800 and 390x844 (no sideways scrolling). Real platform
 * in-process (API, gateway, dispatcher; the command answers from a stub),
 * web/server.js in front.
 */
const DEVICE = 'android-phone-connect-01';
const BOT = '연결테스트봇';
const ROOM = { room: '단골방', channelId: 'phone-connect-room', sender: '김손님' };
const HELLO = '어서 오세요, 도매까입니다';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** The five settings as the script's `var X = "...";` lines hold them (JSON string literals). */
function settingsOf(script: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['SERVER_HOST', 'SERVER_PORT', 'BOT_NAME', 'SECRET_KEY', 'SALT']) {
    const m = new RegExp(`^var ${name} = ("(?:[^"\\\\]|\\\\.)*");`, 'm').exec(script);
    if (!m) throw new Error(`no ${name} line in the script`);
    out[name] = JSON.parse(m[1]!) as string;
  }
  return out;
}

describe('connecting a phone from the bot page (Chromium)', () => {
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let shop: TenantClient;
  let phone: Phone | null = null;
  let botUrl = '';

  beforeAll(async () => {
    stack = await startStack('e2e-phone-connect', { '/hello': json({ text: HELLO }) });
    web = await startWeb(stack.api.port);
    browser = await launchChromium();
    shop = await TenantClient.signup(stack.api, 'phone-connect@shop.example', '연결가게');
    await shop.ok('POST', '/commands', { command: '인사', target: { type: 'http', url: stack.stub.url('/hello') } });
  });

  afterAll(async () => {
    phone?.destroy();
    await browser?.close();
    await web?.stop();
    await stack?.close();
  });

  async function contextFor(viewport: { width: number; height: number }): Promise<BrowserContext> {
    const signedIn = await signedInContext(browser, web.url, shop);
    const storageState = await signedIn.storageState();
    await signedIn.close();
    return browser.newContext({ viewport, locale: 'ko-KR', storageState });
  }

  it('waits for the phone, hands it the filled script by QR, turns green live, and the menu approves it', async () => {
    const context = await contextFor(DESKTOP);
    const page: Page = await context.newPage();
    page.on('pageerror', (err) => console.log('[page error]', err.message));

    // A new bot, made on /bots; its page shows the connection step waiting.
    await page.goto(`${web.url}/bots`);
    await page.getByRole('textbox', { name: '봇 이름', exact: true }).fill(BOT);
    await page.getByRole('button', { name: '만들기', exact: true }).click();
    await page.getByTestId('bot-secret').waitFor();
    await page.getByRole('button', { name: '복사했습니다, 닫기' }).click();
    await page.getByRole('link', { name: BOT }).click();
    await page.waitForURL(/\/bots\/[0-9a-f-]{36}$/);
    botUrl = page.url();
    const status = page.getByTestId('phone-status');
    await status.getByText('폰 기다리는 중…').waitFor();
    expect(await status.getAttribute('data-state')).toBe('waiting');
    expect(await page.getByTestId('pending-phones-badge').count()).toBe(0);
    // The steps for MessengerBot R, in Korean.
    expect(await page.getByText('폰에서 할 일 (메신저봇R)').isVisible()).toBe(true);
    expect(await page.getByTestId('phone-steps').locator('li').count()).toBe(9);

    // 📱 QR: a single-use link on this origin, drawn as a QR code.
    await page.getByTestId('script-qr').click();
    await page.getByTestId('script-qr-code').waitFor();
    const link = (await page.getByTestId('script-link').textContent())!;
    expect(link).toMatch(new RegExp(`^${web.url}/api/v1/bridge-script/[A-Za-z0-9_-]{32}$`));
    // Opened at 127.0.0.1 here: the page warns that a phone cannot open such a link.
    expect(await page.getByTestId('script-loopback').textContent()).toContain('127.0.0.1 주소로 열었습니다');
    await shot(page, 'p01-bot-waiting-qr');

    // The phone opens it once: the script, filled with this platform's address and the bot's own key.
    const opened = await fetch(link);
    expect(opened.status).toBe(200);
    const settings = settingsOf(await opened.text());
    expect(settings).toMatchObject({ SERVER_HOST: '127.0.0.1', SERVER_PORT: String(stack.gateway.bridgePort), BOT_NAME: BOT });
    expect(settings.SECRET_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect((await fetch(link)).status).toBe(404);
    // The desktop download is the same script (signed in).
    const download = await context.request.get(`${web.url}/api/v1/bots/${botUrl.split('/').pop()}/bridge-script`);
    expect(download.headers()['content-disposition']).toBe('attachment; filename="domaeka-bridge.js"');
    expect(settingsOf(await download.text())).toEqual(settings);

    // The scripted phone connects with those values: the step turns green without a reload, the menu raises its badge.
    phone = await connectPhone(settings.SERVER_HOST!, Number(settings.SERVER_PORT));
    const hello = await phone.handshake({ botName: settings.BOT_NAME!, deviceID: DEVICE, secretKey: settings.SECRET_KEY!, salt: settings.SALT! });
    expect(hello.success).toBe(true);
    await page.locator('[data-testid="phone-status"][data-state="connected"]').waitFor({ timeout: 20_000 });
    expect(await status.textContent()).toContain('폰 연결됨');
    // Its link is spent: the QR code goes.
    expect(await page.getByTestId('script-qr-code').count()).toBe(0);
    const badge = page.getByTestId('pending-phones-badge');
    await badge.getByText('📱 승인 대기 1').waitFor();

    // The room asks while the phone waits: no answer yet.
    const before = stack.doneEvents.length;
    phone.sendMessage({ ...ROOM, text: '인사', logId: 'phone-connect-1' });
    const verdict = await stack.done((d) => stack.doneEvents.indexOf(d) >= before, 'verdict while pending');
    expect(verdict.status).toBe('ignored');
    expect(phone.replies()).toEqual([]);
    await shot(page, 'p02-bot-connected-pending');

    // Approve from the top menu; the menu says what happens to the message that waited.
    await badge.click();
    const menu = page.getByTestId('pending-phones');
    await menu.waitFor();
    expect(await menu.textContent()).toContain('기다리는 동안 이 폰이 받은 명령어');
    expect(await menu.textContent()).toContain('서버가 다시 시작되면 기다리던 명령어는 사라집니다');
    await shot(page, 'p03-pending-menu');
    await menu.getByRole('button', { name: `${BOT} ${DEVICE} 승인` }).click();
    await page.getByRole('status').getByText(`${DEVICE} 폰을 승인했습니다.`).waitFor();
    expect(await badge.count()).toBe(0);
    await page.locator(`[data-testid="device-row"][data-device="${DEVICE}"]`).getByText('승인됨').waitFor();

    // The waiting message is answered now, once; the next one as usual.
    expect(await phone.nextReply(undefined, 20_000)).toBe(HELLO);
    phone.sendMessage({ ...ROOM, text: '인사', logId: 'phone-connect-2' });
    expect(await phone.nextReply(undefined, 20_000)).toBe(HELLO);
    expect(phone.replies()).toEqual([HELLO, HELLO]);
    const { rows } = await stack.pool.query(`select log_id, count(*)::int as n from kb_outbox where log_id like 'phone-connect-%' group by log_id order by log_id`);
    expect(rows).toEqual([{ log_id: 'phone-connect-1', n: 1 }, { log_id: 'phone-connect-2', n: 1 }]);
    await status.getByText('폰 연결됨').waitFor();
    expect(await status.textContent()).not.toContain('승인을 기다립니다');
    await shot(page, 'p04-bot-connected');
    await context.close();
  });

  it('fits a 390x844 phone screen', async () => {
    const context = await contextFor(PHONE);
    const page = await context.newPage();
    await page.goto(botUrl);
    await page.getByTestId('phone-status').getByText('폰 연결됨').waitFor();
    await page.getByTestId('script-qr').click();
    await page.getByTestId('script-qr-code').waitFor();
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    await shot(page, 'p05-phone-bot');
    await context.close();
  });
});
