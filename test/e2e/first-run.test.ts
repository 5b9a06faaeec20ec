import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { json } from '../support/http-stub.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { launchChromium, pageWidth, shot, signedInContext, startWeb, type WebServer } from './browser.js';

/**
 * Issue 16, item 1 and the logs page: a new shop's home page shows the
 * first-run checklist (봇 만들기 -> 명령어 -> 폰 연결 -> 첫 답장), and each
 * step ticks itself while the page stays open, as the shop does it
 * elsewhere (the API, a scripted phone). Then the logs page takes new
 * calls live (and holds them while paused), an unknown address is the
 * Korean 404 inside the menu, and home and logs fit a 390x844 phone.
 * Real platform: API, gateway and dispatcher in-process (the command is an
 * HTTP target: a stub answers), web/server.js in front.
 */
const DEVICE = 'android-first-run-01';
const MENU = '오늘의 메뉴: 김치찌개';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

describe('first run (Chromium)', () => {
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let shop: TenantClient;
  let phone: Phone | null = null;

  beforeAll(async () => {
    stack = await startStack('e2e-first-run', { '/menu': json({ response: MENU }) });
    web = await startWeb(stack.api.port);
    browser = await launchChromium();
    shop = await TenantClient.signup(stack.api, 'first-run@shop.example', '처음가게');
    context = await signedInContext(browser, web.url, shop, DESKTOP);
    page = await context.newPage();
    page.on('pageerror', (err) => console.log('[page error]', err.message));
  });

  afterAll(async () => {
    phone?.destroy();
    await browser?.close();
    await web?.stop();
    await stack?.close();
  });

  const step = (id: string) => page.getByTestId(`step-${id}`);
  const done = async (id: string) => (await step(id).getAttribute('data-done')) === 'true';

  it('ticks the checklist live as the shop makes a bot, a command, connects a phone and gets its first reply', async () => {
    await page.goto(`${web.url}/`);
    const steps = page.getByTestId('first-steps');
    await steps.waitFor();
    // The list below stays as it was: no command yet.
    await page.getByText('아직 명령어가 없습니다').waitFor();
    for (const id of ['bot', 'command', 'phone', 'reply']) expect(await done(id), id).toBe(false);
    expect(await steps.textContent()).toContain('0 / 4 완료');
    // The step to do now leads to where it is done.
    expect(await step('bot').getAttribute('aria-current')).toBe('step');
    expect(await step('bot').getByRole('link', { name: '봇 만들러 가기' }).getAttribute('href')).toBe('/bots');
    await shot(page, 'f01-checklist-new');

    // Each step done elsewhere ticks here, the page never reloaded.
    const bot = await shop.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', '/bots', { name: '처음가게봇' });
    await expect.poll(() => done('bot'), { timeout: 15_000 }).toBe(true);
    expect(await step('phone').getByRole('link', { name: '폰 연결하러 가기' }).getAttribute('href')).toBe(`/bots/${bot.id}`);

    const cmd = await shop.ok<{ id: number }>('POST', '/commands', { command: '메뉴', target: { type: 'http', url: stack.stub.url('/menu') } });
    await expect.poll(() => done('command'), { timeout: 15_000 }).toBe(true);
    // The list under the checklist shows the new command too.
    await page.getByRole('link', { name: '메뉴', exact: true }).waitFor();
    expect(await step('command').textContent()).toContain('명령어가 있습니다');

    // The phone handshakes: waiting for approval is not connected, and the step says where to approve.
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    expect((await phone.handshake({ botName: bot.name, deviceID: DEVICE, secretKey: bot.secretKey, salt: bot.salt })).success).toBe(true);
    const waiting = step('phone').getByRole('link', { name: /승인을 기다리는 폰 1대/ });
    await waiting.waitFor({ timeout: 15_000 });
    expect(await waiting.getAttribute('href')).toBe(`/bots/${bot.id}`);
    expect(await done('phone')).toBe(false);
    await shot(page, 'f02-checklist-phone-pending');
    await shop.approveDevice(bot.id, DEVICE);
    await expect.poll(() => done('phone'), { timeout: 15_000 }).toBe(true);
    expect(await step('reply').textContent()).toContain('"메뉴"처럼 보내 보세요');

    // The room's first message: answered, and the last step ticks.
    phone.sendMessage({ room: '단골방', channelId: '7101', text: '메뉴', sender: '김손님' });
    expect(await phone.nextReply(undefined, 30_000)).toBe(MENU);
    await expect.poll(() => done('reply'), { timeout: 15_000 }).toBe(true);
    expect(await step('reply').textContent()).toMatch(/첫 답장: \d{1,2}월 \d{1,2}일 \d{2}:\d{2}/);
    await steps.getByRole('status').getByText('준비가 끝났습니다').waitFor();
    expect(await steps.getAttribute('data-complete')).toBe('true');
    await shot(page, 'f03-checklist-done');
    expect(cmd.id).toBeGreaterThan(0);

    // Done is done: the next visit shows the commands alone.
    await page.reload();
    await page.getByRole('link', { name: '메뉴', exact: true }).waitFor();
    expect(await page.getByTestId('first-steps').count()).toBe(0);
  });

  it('puts new calls on top of the logs page as they happen, and holds them while paused', async () => {
    await page.goto(`${web.url}/logs`);
    const rows = page.getByTestId('log-row');
    await rows.first().waitFor();
    const before = await rows.count();
    const live = page.getByTestId('logs-live');
    await expect.poll(() => live.getAttribute('data-live'), { timeout: 15_000 }).toBe('true');

    phone!.sendMessage({ room: '단골방', channelId: '7101', text: '메뉴 두 번째', sender: '이손님' });
    await phone!.nextReply(undefined, 30_000);
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(before + 1);
    expect(await rows.first().textContent()).toContain('메뉴 두 번째');
    await shot(page, 'f04-logs-live');

    // Paused: the call is counted, not shown; resuming brings it.
    await live.getByRole('button', { name: '⏸ 일시정지' }).click();
    phone!.sendMessage({ room: '단골방', channelId: '7101', text: '메뉴 세 번째', sender: '박손님' });
    await phone!.nextReply(undefined, 30_000);
    await live.getByText('일시정지됨: 새 호출 1건').waitFor({ timeout: 15_000 });
    expect(await rows.count()).toBe(before + 1);
    await live.getByRole('button', { name: '▶ 이어 보기' }).click();
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(before + 2);
    expect(await rows.first().textContent()).toContain('메뉴 세 번째');
    // Times in Korean: month and day in words, 24-hour clock to the second.
    expect(await rows.first().getByRole('button').textContent()).toMatch(/^\d{1,2}월 \d{1,2}일 \d{2}:\d{2}:\d{2}$/);
  });

  it('answers an unknown address with the Korean 404 inside the menu', async () => {
    await page.goto(`${web.url}/no/such/page`);
    await page.getByRole('heading', { name: '찾을 수 없는 페이지입니다' }).waitFor();
    const nav = page.getByRole('navigation', { name: '주 메뉴' });
    expect(await nav.getByRole('link', { name: '로그' }).isVisible()).toBe(true);
    expect(await page.title()).toContain('찾을 수 없는 페이지입니다');
    await shot(page, 'f05-not-found-in-layout');
  });

  it('fits a 390x844 phone: the checklist, home and logs without sideways scrolling', async () => {
    // A new shop: the checklist.
    const phoneScreen = await signedInContext(browser, web.url, await TenantClient.signup(stack.api, 'first-run-phone@shop.example', '폰가게'), PHONE);
    const p = await phoneScreen.newPage();
    await p.goto(`${web.url}/`);
    await p.getByTestId('first-steps').waitFor();
    expect(await pageWidth(p)).toBeLessThanOrEqual(390);
    expect(await p.getByTestId('step-bot').getByRole('link', { name: '봇 만들러 가기' }).isVisible()).toBe(true);
    await shot(p, 'f06-phone-checklist');

    // The shop with its calls: home (commands table) and logs.
    const mine = await signedInContext(browser, web.url, shop, PHONE);
    const q = await mine.newPage();
    await q.goto(`${web.url}/`);
    await q.getByRole('link', { name: '메뉴', exact: true }).waitFor();
    expect(await pageWidth(q)).toBeLessThanOrEqual(390);
    await shot(q, 'f07-phone-home');
    await q.goto(`${web.url}/logs`);
    await q.getByTestId('log-row').first().waitFor();
    await expect.poll(() => q.getByTestId('logs-live').getAttribute('data-live'), { timeout: 15_000 }).toBe('true');
    expect(await pageWidth(q)).toBeLessThanOrEqual(390);
    await shot(q, 'f08-phone-logs');
    await q.goto(`${web.url}/no/such/page`);
    await q.getByRole('heading', { name: '찾을 수 없는 페이지입니다' }).waitFor();
    expect(await pageWidth(q)).toBeLessThanOrEqual(390);
    await shot(q, 'f09-phone-not-found');
    await phoneScreen.close();
    await mine.close();
  });
});
