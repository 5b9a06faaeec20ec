import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { EDITOR_READY, launchChromium, pageWidth, pasteCode, shot, signedInContext, startWeb, type WebServer, waitForPage } from './browser.js';

/**
 * Issue 16's errors through Chromium, as a shop owner meets them: a run's
 * mistake in one Korean sentence with its line and a hint, the traceback
 * as a block below; 실행 refusing what 저장 refuses, in the same words; the
 * red save error gone once the code changed or a version was restored;
 * the logs list in Korean labels and the detail's traceback as a block;
 * the account page's error reply. Real platform, runner in Docker.
 */
describe('errors in plain Korean (Chromium)', () => {
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let tenant: TenantClient;

  beforeAll(async () => {
    stack = await startStack('e2e-errors', {}, { runner: true });
    web = await startWeb(stack.api.port);
    tenant = await TenantClient.signup(stack.api, 'errors@shop.example', '김사장');
    browser = await launchChromium();
    context = await signedInContext(browser, web.url, tenant);
    page = await context.newPage();
    page.on('pageerror', (err) => console.log('[page error]', err.message));
  });

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await stack?.close();
  });

  const lintOk = () => page.getByTestId('lint-status').getByText('문법 검사 통과').waitFor({ timeout: 30_000 });

  it('explains a failed run in one Korean sentence with the line, a hint, and the traceback as a block', async () => {
    await page.goto(`${web.url}/commands/new`);
    await page.getByRole('dialog', { name: '📋 템플릿' }).getByRole('button', { name: '빈 코드로 시작' }).click();
    await page.getByLabel('명령어', { exact: true }).fill('계산');
    await waitForPage(page, EDITOR_READY);

    // A missing colon: the lint line under the editor says it in Korean.
    await pasteCode(page, 'def handle_command(params):\n    if params["sender"] == "홍길동"\n        return "안녕"\n    return "?"\n');
    await page.getByTestId('lint-status').getByText('줄 끝에 콜론(:)이 빠졌습니다').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('lint-status').textContent()).not.toContain('syntax error');

    await pasteCode(page, 'def handle_command(params):\n    count = len(params["parameters"]) - 1\n    return str(100 / count)\n');
    await lintOk();
    await page.getByRole('button', { name: '▶ 실행' }).click();
    const failed = page.getByTestId('run-failed');
    await failed.getByText('3번째 줄에서 0으로 나누었습니다.').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('run-hint').textContent()).toContain('0인지');
    const trace = page.getByTestId('run-trace');
    expect(await trace.evaluate((el) => el.tagName)).toBe('PRE');
    const text = (await trace.textContent()) ?? '';
    expect(text.split('\n')[0]).toBe('ZeroDivisionError: division by zero');
    expect(text).toContain('File "<tenant>", line 3, in handle_command');
    await page.locator('.monaco-editor .kb-error-line').first().waitFor();
    await shot(page, 'e1-run-explained');
  });

  it('refuses to run what it refuses to save, in the same words; the red save error goes once the code changed', async () => {
    await pasteCode(page, 'import os\n\ndef handle_command(params):\n    os.system("id")\n    return "실행 성공"\n');
    await page.getByTestId('lint-status').getByText('문제 1개').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '▶ 실행' }).click();
    const failed = page.getByTestId('run-failed');
    await failed.getByText("'os'는 환경 변수(비밀 값)를 읽는 데만 쓸 수 있습니다").waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('run-ok').count()).toBe(0);

    await page.getByRole('button', { name: '💾 저장' }).click();
    const saveError = page.getByTestId('save-status').getByRole('alert');
    await saveError.getByText("'os'는 환경 변수(비밀 값)를 읽는 데만 쓸 수 있습니다").waitFor({ timeout: 30_000 });
    await shot(page, 'e2-run-and-save-refused');

    // Fixed: the old refusal is not shown next to the new code.
    await pasteCode(page, 'def handle_command(params):\n    return "안녕"\n');
    await lintOk();
    expect(await saveError.count()).toBe(0);
    await page.getByRole('button', { name: '💾 저장' }).click();
    await page.getByTestId('save-status').getByText('저장됨: 버전 1').waitFor({ timeout: 30_000 });
  });

  it('clears a save error when a version is restored', async () => {
    await pasteCode(page, 'def handle_command(params):\n    return "둘째"\n');
    await lintOk();
    await page.getByRole('button', { name: '💾 저장' }).click();
    await page.getByTestId('save-status').getByText('저장됨: 버전 2').waitFor({ timeout: 30_000 });

    await pasteCode(page, 'import subprocess\n\ndef handle_command(params):\n    return "x"\n');
    await page.getByRole('button', { name: '💾 저장' }).click();
    const saveError = page.getByTestId('save-status').getByRole('alert');
    await saveError.getByText("'subprocess'").waitFor({ timeout: 30_000 });

    await page.getByRole('button', { name: '🕘 버전' }).click();
    const panel = page.getByTestId('versions-panel');
    await panel.getByTestId('version-item').first().waitFor();
    page.once('dialog', (d) => void d.accept());
    await panel.getByRole('button', { name: '이 버전으로 되돌리기' }).click();
    await page.getByTestId('save-status').getByText('되돌렸습니다').waitFor({ timeout: 30_000 });
    expect(await saveError.count()).toBe(0);
    await shot(page, 'e3-restored-no-stale-error');
  });

  it('shows error codes as Korean labels in the logs, and the traceback as a block in the detail', async () => {
    const me = await tenant.ok<{ tenant: { id: string } }>('GET', '/me');
    const message = "3번째 줄에서 0으로 나누었습니다. 나누기 전에 나누는 값이 0인지 확인해 주세요.\nZeroDivisionError: division by zero\nTraceback (most recent call last):\n  File \"<tenant>\", line 3, in handle_command\n    return str(100 / count)\nZeroDivisionError: division by zero (line 3)";
    await stack.pool.query(
      `insert into kb_api_logs (tenant_id, command_id, event_id, channel_id, request_data, response_data, status_code, response_time, error_code, error_message)
       values ($1, null, gen_random_uuid(), '501', '{"command":"계산","sender":"손님"}', null, null, 42, 'KB_ERR_USER_EXCEPTION', $2),
              ($1, null, gen_random_uuid(), '501', '{"command":"계산","sender":"손님"}', null, null, 5000, 'KB_ERR_TIMEOUT', '5초 안에 끝나지 않았습니다 / timed out after 5000 ms')`,
      [me.tenant.id, message],
    );
    await page.goto(`${web.url}/logs`);
    const rows = page.getByTestId('log-row');
    await rows.first().waitFor();
    const badges = await page.locator('[data-testid="log-row"] .badge').allTextContents();
    expect(badges).toEqual(expect.arrayContaining(['코드 오류', '시간 초과']));
    expect((await page.getByTestId('logs').textContent()) ?? '').not.toContain('KB_ERR_');
    await shot(page, 'e4-logs-labels');

    await rows.filter({ has: page.locator('[data-code="KB_ERR_USER_EXCEPTION"]') }).first().click();
    const detail = page.getByTestId('log-detail');
    await detail.getByTestId('log-error').getByText('3번째 줄에서 0으로 나누었습니다.').waitFor();
    const trace = detail.getByTestId('log-trace');
    expect(await trace.evaluate((el) => el.tagName)).toBe('PRE');
    expect(((await trace.textContent()) ?? '').split('\n')).toEqual(message.split('\n').slice(1));
    // A script string: it runs in the page (this file is compiled without the DOM's types).
    expect(await page.evaluate(`getComputedStyle(document.querySelector('[data-testid="log-trace"]')).whiteSpace`)).toBe('pre-wrap');
    await shot(page, 'e5-log-detail-trace');
    await detail.getByRole('button', { name: '닫기' }).click();
  });

  it("names an HTTP test call's failure in Korean words, not its code", async () => {
    await page.goto(`${web.url}/commands/new`);
    await page.getByRole('dialog', { name: '📋 템플릿' }).getByRole('button', { name: /내 서버\(HTTP\)/ }).click();
    const form = page.getByTestId('http-form');
    await form.waitFor();
    // The cloud metadata address: the egress policy refuses it before any packet leaves.
    await form.getByLabel('주소 (URL)').fill('http://169.254.169.254/latest');
    await page.getByRole('button', { name: '🧪 테스트 호출' }).click();
    const failed = page.getByTestId('http-result').getByTestId('http-failed');
    await failed.getByText('허용되지 않은 주소').waitFor({ timeout: 30_000 });
    expect(await failed.textContent()).not.toContain('KB_ERR_');
  });

  it("sets the tenant's own error reply on the account page", async () => {
    await page.goto(`${web.url}/account`);
    const form = page.getByTestId('error-reply');
    await form.getByText('기본 문장: 죄송합니다.').waitFor();
    await form.getByLabel('안내 문장 (200자까지)').fill('지금은 계산이 어려워요. 가게로 전화 주세요!');
    await form.getByRole('button', { name: '저장' }).click();
    await form.getByText('저장했습니다').waitFor();
    expect((await tenant.ok('GET', '/error-reply')).errorReply).toBe('지금은 계산이 어려워요. 가게로 전화 주세요!');
    await page.reload();
    await expect.poll(() => form.getByLabel('안내 문장 (200자까지)').inputValue()).toBe('지금은 계산이 어려워요. 가게로 전화 주세요!');
    await shot(page, 'e6-error-reply');
    // On a phone: the form fits the screen, no sideways scroll.
    await page.setViewportSize({ width: 390, height: 844 });
    await form.getByRole('button', { name: '저장' }).waitFor();
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    await shot(page, 'e6-error-reply-390');
  });
});
