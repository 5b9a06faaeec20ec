import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { EDITOR_READY, launchChromium, pageWidth, pasteCode, shot, signedInContext, startWeb, type WebServer, waitForPage } from './browser.js';

/**
 * Issue 16's rough edges of the editor (items 1 and 6): the tab's title
 * follows the command's name once saved, ⏹ stops a test run (and says what
 * that does and does not do), a rollback's version is labelled, the
 * pattern tester says in plain Korean why "날씨좀 알려줘" is not the
 * command, and on a 390x844 phone the editor fits the screen (chips
 * included), 실행 brings the result into view, and the versions dialog
 * fits with its ✕. Real platform with a Docker sandbox runner in-process,
 * web/server.js in front.
 */
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SLOW = 'import time\n\ndef handle_command(params):\n    print("시작", flush=True)\n    time.sleep(4)\n    return "늦은 답"\n';

describe('editor edges (Chromium)', () => {
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let shop: TenantClient;
  let context: BrowserContext;
  let page: Page;
  let commandUrl = '';

  beforeAll(async () => {
    stack = await startStack('e2e-editor-phone', {}, { runner: true });
    web = await startWeb(stack.api.port);
    browser = await launchChromium();
    shop = await TenantClient.signup(stack.api, 'editor-phone@shop.example', '편집가게');
    context = await signedInContext(browser, web.url, shop, DESKTOP);
    page = await context.newPage();
    page.on('pageerror', (err) => console.log('[page error]', err.message));
  });

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await stack?.close();
  });

  const lintOk = (p: Page) => p.getByTestId('lint-status').getByText('문법 검사 통과').waitFor({ timeout: 30_000 });

  it('names the tab after the command once saved, and again after a rename', async () => {
    await page.goto(`${web.url}/commands/new`);
    await page.getByRole('dialog', { name: '📋 템플릿' }).getByRole('button', { name: /날씨/ }).click();
    await waitForPage(page, EDITOR_READY);
    expect(await page.title()).toBe('새 명령어 · 도매까');
    await lintOk(page);
    await page.getByRole('button', { name: '💾 저장' }).click();
    await page.getByTestId('save-status').getByText('저장됨: 버전 1').waitFor({ timeout: 30_000 });
    await page.waitForURL(/\/commands\/\d+$/);
    commandUrl = page.url();
    await expect.poll(() => page.title()).toBe('날씨 · 도매까');

    // Renamed: the title follows the name as saved, not as typed.
    await page.getByLabel('명령어', { exact: true }).fill('날씨알림');
    expect(await page.title()).toBe('날씨 · 도매까');
    await page.getByRole('button', { name: '💾 저장' }).click();
    await page.getByTestId('save-status').getByText('저장됨: 버전 2').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.title()).toBe('날씨알림 · 도매까');
    await page.getByLabel('명령어', { exact: true }).fill('날씨');
    await page.getByRole('button', { name: '💾 저장' }).click();
    await page.getByTestId('save-status').getByText('저장됨: 버전 3').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.title()).toBe('날씨 · 도매까');
  });

  it('stops a running test run with ⏹ 중지, saying the result is dropped and the sandbox code runs out its time', async () => {
    await pasteCode(page, SLOW);
    await expect.poll(() => page.locator('.monaco-editor .view-lines').textContent()).toContain('time.sleep(4)');
    await lintOk(page);
    expect(await page.getByTestId('run-stop').count(), 'no stop button while nothing runs').toBe(0);
    await page.getByRole('button', { name: '▶ 실행' }).click();
    await page.getByTestId('run-output').getByText('시작').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '⏹ 중지' }).click();
    const stopped = page.getByTestId('run-stopped');
    await stopped.waitFor({ timeout: 15_000 });
    expect(await stopped.textContent()).toContain('실행을 멈췄습니다. 이 실행의 결과는 버립니다.');
    expect(await page.getByTestId('run-status').textContent()).toContain('늦어도 명령어의 제한 시간이 되면 끝납니다');
    // What it printed before the stop stays; the late answer never shows.
    expect(await page.getByTestId('run-output').textContent()).toBe('시작\n');
    expect(await page.getByRole('button', { name: '▶ 실행' }).isEnabled()).toBe(true);
    expect(await page.getByTestId('run-stop').count()).toBe(0);
    await shot(page, 'e01-run-stopped');
    await stack.api.services.runs.settle();
    expect(await page.getByTestId('run-reply').count()).toBe(0);
    expect(await page.getByTestId('run-stopped').count()).toBe(1);
  });

  it('labels a rollback’s version with the version it restored', async () => {
    // The stopped program is unsaved: rolling back to v1 replaces it (the question says so; accepted).
    await page.getByRole('button', { name: '🕘 버전' }).click();
    const panel = page.getByTestId('versions-panel');
    await panel.getByTestId('version-item').filter({ hasText: 'v1' }).click();
    page.once('dialog', (d) => void d.accept());
    await panel.getByRole('button', { name: '이 버전으로 되돌리기' }).click();
    await page.getByTestId('save-status').getByText('버전 1(으)로 되돌렸습니다: 이제 버전 4').waitFor();
    await page.getByRole('button', { name: '🕘 버전' }).click();
    const newest = panel.getByTestId('version-item').first();
    await newest.getByText('되돌림: v1에서').waitFor();
    expect(await newest.textContent()).toMatch(/^v4/);
    // Ordinary saves carry no such label; times are Korean.
    expect(await panel.getByTestId('version-restored').count()).toBe(1);
    expect(await newest.textContent()).toMatch(/\d{1,2}월 \d{1,2}일 \d{2}:\d{2}/);
    await shot(page, 'e02-versions-rollback-label');
    await panel.getByRole('button', { name: '닫기' }).click();
  });

  it('explains why "날씨좀 알려줘" is not the command', async () => {
    const sample = page.getByLabel('시험 문장');
    await sample.fill('날씨좀 알려줘');
    const hint = page.getByTestId('pattern-hint');
    await hint.waitFor();
    expect(await hint.textContent()).toBe("'날씨좀'은 명령어 '날씨'와 다릅니다: 명령어 뒤에 띄어쓰기가 필요합니다 (예: 날씨 좀 알려줘)");
    await sample.fill('오늘 날씨 알려줘');
    await expect.poll(() => hint.textContent()).toBe("메시지는 명령어 '날씨'로 시작해야 합니다: 지금은 '오늘'이 먼저 옵니다");
    await shot(page, 'e03-pattern-hint');
    await sample.fill('날씨 화도읍');
    await page.getByTestId('pattern-param').first().waitFor();
    expect(await page.getByTestId('pattern-hint').count()).toBe(0);
  });

  it('fits a 390x844 phone: chips on screen, the result brought into view after 실행, the versions dialog with its ✕', async () => {
    const phoneScreen = await signedInContext(browser, web.url, shop, PHONE);
    const p = await phoneScreen.newPage();
    await p.goto(commandUrl);
    await waitForPage(p, EDITOR_READY);
    const chip = p.getByTestId('pattern-param').first();
    await chip.waitFor();
    expect(await pageWidth(p)).toBeLessThanOrEqual(390);
    const chipBox = (await chip.boundingBox())!;
    expect(chipBox.x + chipBox.width, 'the parameter chip inside the screen').toBeLessThanOrEqual(390);
    for (const name of ['▶ 실행', '💾 저장', '🕘 버전', '⚙ 설정']) expect(await p.getByRole('button', { name }).isVisible(), name).toBe(true);
    await shot(p, 'e04-phone-editor');

    await p.getByLabel('시험 문장').fill('날씨좀 알려줘');
    await p.getByTestId('pattern-hint').waitFor();
    expect(await pageWidth(p)).toBeLessThanOrEqual(390);
    await shot(p, 'e05-phone-pattern-hint');
    await p.getByLabel('시험 문장').fill('날씨 화도읍');

    // 실행 from the top of the page: the result (below the code) scrolls into view.
    await lintOk(p);
    expect(await p.evaluate('window.scrollY')).toBe(0);
    await p.getByRole('button', { name: '▶ 실행' }).click();
    await p.getByTestId('run-ok').waitFor({ timeout: 30_000 });
    await expect
      .poll(() => p.evaluate(`(() => { const r = document.querySelector('[data-testid="run-ok"]').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()`))
      .toBe(true);
    expect(await pageWidth(p)).toBeLessThanOrEqual(390);
    await shot(p, 'e06-phone-run-result');

    // The versions dialog inside the screen, its ✕ visible and working.
    await p.evaluate('window.scrollTo(0, 0)');
    await p.getByRole('button', { name: '🕘 버전' }).click();
    const dialog = p.getByTestId('versions-panel');
    await dialog.getByTestId('version-item').first().waitFor();
    const box = (await dialog.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(box.y + box.height).toBeLessThanOrEqual(844);
    const close = dialog.getByRole('button', { name: '닫기' });
    const closeBox = (await close.boundingBox())!;
    expect(closeBox.x + closeBox.width).toBeLessThanOrEqual(390);
    expect(closeBox.y).toBeGreaterThanOrEqual(0);
    await shot(p, 'e07-phone-versions');
    await close.click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await phoneScreen.close();
  });
});
