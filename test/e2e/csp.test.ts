import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { EDITOR_READY, PASSWORD, TIMER_CODE, launchChromium, logInThroughUI, pasteCode, shot, signedInContext, startWeb, type WebServer, waitForPage } from './browser.js';

/**
 * Issue 13, hole 7: the web app now sends a Content-Security-Policy (nonce
 * scripts, Monaco's run-time styles and worker allowed, frame-ancestors
 * 'none'). Chromium walks every page and runs code in the editor; not one
 * CSP violation may be reported, and the editor must work: Monaco mounted,
 * a run's output and answer shown. Real platform with a Docker runner.
 */
describe('the web app under its CSP (Chromium)', () => {
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const violations: string[] = [];

  beforeAll(async () => {
    stack = await startStack('e2e-csp', {}, { runner: true });
    web = await startWeb(stack.api.port);
    browser = await launchChromium();
    // The first account of the database: an administrator, so /admin is a page to check too.
    const owner = await TenantClient.signup(stack.api, 'csp-owner@shop.example');
    context = await signedInContext(browser, web.url, owner);
    // Every violation the page sees, reported by the browser itself (the event fires for blocked and report-only alike).
    await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
      (window.__csp ??= []).push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);
    });`);
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    page.on('pageerror', (err) => console.log('[page error]', err.message));
  });

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await stack?.close();
  });

  const seenByPage = async () => ((await page.evaluate('window.__csp ?? []')) as string[]).concat(violations);

  it('the editor loads Monaco and runs code with the CSP on, without a violation', async () => {
    const answer = await page.goto(`${web.url}/commands/new`);
    expect(answer?.headers()['content-security-policy']).toMatch(/script-src 'self' 'nonce-[^']+'/);
    const picker = page.getByRole('dialog', { name: '📋 템플릿' });
    await picker.getByRole('button', { name: '빈 코드로 시작' }).click();
    await page.getByLabel('명령어', { exact: true }).fill('타이머');
    await waitForPage(page, EDITOR_READY);
    // Monaco's worker started (tokenising and markers need it) and its styles applied.
    await pasteCode(page, TIMER_CODE);
    await expect.poll(() => page.locator('.monaco-editor .view-lines').textContent()).toContain('time.sleep(1)');
    await page.getByTestId('lint-status').getByText('문법 검사 통과').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '▶ 실행' }).click();
    await page.getByTestId('run-ok').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('run-output').textContent()).toBe('첫 줄\n둘째 줄\n');
    expect(await page.getByTestId('run-reply').textContent()).toBe('끝');
    expect(await seenByPage()).toEqual([]);
  });

  it('every other page loads without a violation', async () => {
    for (const [path, heading] of [
      ['/', '명령어'],
      ['/bots', '봇'],
      ['/logs', '로그 (호출 기록)'],
      ['/usage', '사용량'],
      ['/admin', '관리자 대시보드'],
      ['/account', '계정'],
    ] as const) {
      const answer = await page.goto(`${web.url}${path}`);
      expect(answer?.headers()['x-frame-options'], path).toBe('DENY');
      await page.getByRole('heading', { name: heading, exact: true }).first().waitFor({ timeout: 15_000 });
      expect(await seenByPage(), path).toEqual([]);
    }
    // The watch itself works: an inline script slipped into the page is blocked and reported.
    await page.evaluate(`(() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1'; document.body.append(s); })()`);
    await expect.poll(async () => (await seenByPage()).join(' ')).toMatch(/script-src/);
    expect(await page.evaluate('window.__ran')).toBeUndefined();
  });

  // Last: it renews this browser's session (issue 13 hole 2, the password change).
  it('changes the password on 계정: a wrong one refused, then this browser stays in and another session is sent to the login page', async () => {
    // Another browser of the same owner, on the live dashboard (its socket joined the admin feed).
    const consoleBefore = violations.length;
    const other = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'ko-KR' });
    const otherPage = await other.newPage();
    await logInThroughUI(otherPage, web.url, 'csp-owner@shop.example', '/admin');
    await otherPage.getByTestId('live-status').getByText('● 실시간 (2초마다)').waitFor({ timeout: 15_000 });

    await page.goto(`${web.url}/account`);
    const form = page.getByTestId('password-change');
    const fill = async (current: string, next: string) => {
      await form.getByLabel('지금 비밀번호').fill(current);
      await form.getByLabel('새 비밀번호 (8자 이상)').fill(next);
      await form.getByLabel('새 비밀번호 확인').fill(next);
      await form.getByRole('button', { name: '비밀번호 변경' }).click();
    };
    await fill('not my password', '수국 피는 유월의 골목길');
    await expect.poll(() => form.getByRole('alert').textContent()).toBe('현재 비밀번호가 올바르지 않습니다');
    await fill(PASSWORD, 'password123');
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/^너무 흔한 비밀번호입니다/);
    await fill(PASSWORD, '수국 피는 유월의 골목길');
    await expect.poll(() => form.getByRole('status').textContent()).toBe('비밀번호를 바꿨습니다. 다른 기기와 브라우저에서는 로그아웃되었습니다.');
    expect(await form.getByRole('alert').count()).toBe(0);
    expect(await page.evaluate('window.__csp ?? []')).toEqual([]);
    await shot(page, 'account-password-changed');

    // The other session's socket is told auth:ended: that browser goes to the login page with the notice.
    await otherPage.waitForURL(/\/login\?ended=1/, { timeout: 15_000 });
    expect(await otherPage.getByTestId('auth-ended').textContent()).toBe('로그인이 끝났습니다. 다시 로그인해 주세요.');
    await shot(otherPage, 'login-after-password-change');
    // This browser goes on with its renewed session, the live dashboard too.
    await page.goto(`${web.url}/admin`);
    await page.getByTestId('live-status').getByText('● 실시간 (2초마다)').waitFor({ timeout: 15_000 });
    expect(page.url()).toBe(`${web.url}/admin`);
    expect(violations.slice(consoleBefore)).toEqual([]);
    await other.close();
  });
});
