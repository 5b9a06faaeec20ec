import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { json } from '../support/http-stub.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { launchChromium, pasteCode, shot, signedInContext, startWeb, EDITOR_READY, type WebServer, waitForPage } from './browser.js';

/**
 * Issue 5's editor extras through Chromium: the pattern tried live, the
 * versions panel (diff, rollback) changing what a real phone gets, the
 * live tail showing that phone's call, and an HTTP-target command saved
 * from its form and test-called against a local stub. The tenant, its bot
 * and the approved phone are made through the API; the browser gets the
 * tenant's cookies.
 */
const versionCode = (n: number) => `def handle_command(params):\n    return "버전${n}"\n`;

describe('web editor extras (Chromium)', () => {
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let tenant: TenantClient;
  let phone: Phone;

  beforeAll(async () => {
    stack = await startStack('e2e-extras', { '/hook': json({ response: '서버가 답했어요: 화도읍 맑음' }) }, { runner: true });
    web = await startWeb(stack.api.port);
    tenant = await TenantClient.signup(stack.api, 'extras@shop.example', '김사장');
    const bot = await tenant.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', '/bots', { name: 'LOA.extras' });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'android-extras', secretKey: bot.secretKey, salt: bot.salt });
    await tenant.approveDevice(bot.id, 'android-extras');
    browser = await launchChromium();
    context = await signedInContext(browser, web.url, tenant);
    page = await context.newPage();
    page.on('pageerror', (err) => console.log('[page error]', err.message));
  });

  afterAll(async () => {
    phone?.destroy();
    await browser?.close();
    await web?.stop();
    await stack?.close();
  });

  it('tries the pattern live: 날씨 화도읍 captures 화도읍, an RE2 error is shown in Korean', async () => {
    await page.goto(`${web.url}/commands/new`);
    await page.getByRole('dialog', { name: '📋 템플릿' }).getByRole('button', { name: '빈 코드로 시작' }).click();
    await page.getByLabel('명령어', { exact: true }).fill('날씨');
    await page.getByLabel('패턴', { exact: true }).fill('^날씨\\s*(.*)');
    await page.getByLabel('시험 문장').fill('날씨 화도읍');
    const result = page.getByTestId('pattern-result');
    await result.getByText('파라미터 1: 화도읍').waitFor();
    expect(await result.textContent()).toContain('✓ 일치');
    // The captured parameters go into the test input.
    await result.getByRole('button', { name: '테스트 입력에 넣기' }).click();
    const input = JSON.parse(await page.locator('#test-input').inputValue()) as Record<string, unknown>;
    expect(input).toMatchObject({ parameters: ['화도읍'], raw_text: '날씨 화도읍', command: '날씨' });
    await shot(page, 'x1-pattern-tester');

    await page.getByLabel('패턴', { exact: true }).fill('^날씨(?<=x)');
    await result.getByText(/패턴 오류/).waitFor();
    await page.getByLabel('시험 문장').fill('주문 123');
    await page.getByLabel('패턴', { exact: true }).fill('^날씨\\s*(.*)');
    await result.getByText('✗ 명령어로 시작하지 않습니다').waitFor();
  });

  it('rolls back in the versions panel, and the phone gets the old answer; the live tail shows the calls', async () => {
    await page.goto(`${web.url}/commands/new`);
    await page.getByRole('dialog', { name: '📋 템플릿' }).getByRole('button', { name: '빈 코드로 시작' }).click();
    await page.getByLabel('명령어', { exact: true }).fill('버전');
    await waitForPage(page, EDITOR_READY);
    await pasteCode(page, versionCode(1));
    await page.getByTestId('lint-status').getByText('문법 검사 통과').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '💾 저장' }).click();
    await page.getByTestId('save-status').getByText('저장됨: 버전 1').waitFor({ timeout: 30_000 });
    await pasteCode(page, versionCode(2));
    await page.getByTestId('lint-status').getByText('문법 검사 통과').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '💾 저장' }).click();
    await page.getByTestId('save-status').getByText('저장됨: 버전 2').waitFor({ timeout: 30_000 });

    // The live tail listens before the phone speaks.
    await page.getByRole('tab', { name: '📡 실시간 호출' }).click();
    const tail = page.getByTestId('live-tail');
    await tail.getByText('기다리는 중').waitFor();

    phone.sendMessage({ room: '단골방', channelId: '5151', text: '버전 확인', sender: '김민수', logId: '7001' });
    expect(await phone.nextReply()).toBe('버전2');
    const first = tail.getByTestId('tail-call').filter({ hasText: '버전2' });
    await first.waitFor();
    expect(await first.textContent()).toContain('버전 확인');
    expect(await first.textContent()).toContain('단골방');
    await shot(page, 'x2-live-tail');

    await page.getByRole('button', { name: '🕘 버전' }).click();
    const panel = page.getByTestId('versions-panel');
    await panel.getByTestId('version-item').first().waitFor();
    expect(await panel.getByTestId('version-item').allTextContents()).toEqual([expect.stringMatching(/v2\s*현재/), expect.stringMatching(/v1/)]);
    // v1 is picked (the one before the current): its line against the editor's.
    await panel.locator('[data-testid="version-diff"][data-ready="true"]').waitFor({ timeout: 30_000 });
    await expect.poll(() => panel.locator('.monaco-diff-editor .line-delete, .monaco-diff-editor .char-delete').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await panel.locator('.monaco-diff-editor').textContent()).toContain('버전1');
    await shot(page, 'x3-versions-diff');

    page.once('dialog', (d) => void d.accept());
    await panel.getByRole('button', { name: '이 버전으로 되돌리기' }).click();
    await page.getByTestId('save-status').getByText('버전 1(으)로 되돌렸습니다: 이제 버전 3').waitFor();
    await expect.poll(() => page.locator('.monaco-editor .view-lines').first().textContent()).toContain('버전1');

    phone.sendMessage({ room: '단골방', channelId: '5151', text: '버전 확인', sender: '김민수', logId: '7002' });
    expect(await phone.nextReply()).toBe('버전1');
    await tail.getByTestId('tail-call').filter({ hasText: '버전1' }).waitFor();
    expect(await tail.getByTestId('tail-call').count()).toBe(2);
    await shot(page, 'x4-after-rollback');
  });

  it('saves an HTTP command from its form and test-calls it against a local server', async () => {
    await page.goto(`${web.url}/commands/new`);
    await page.getByRole('dialog', { name: '📋 템플릿' }).getByRole('button', { name: /내 서버\(HTTP\)/ }).click();
    const form = page.getByTestId('http-form');
    await form.waitFor();
    await page.getByLabel('명령어', { exact: true }).fill('서버날씨');
    await form.getByLabel('주소 (URL)').fill(stack.stub.url('/hook'));
    await form.getByRole('button', { name: '+ 헤더 추가' }).click();
    await form.getByLabel('이름 1').fill('X-Shop');
    await form.getByLabel('값 1').fill('domaeka');
    await form.getByLabel('제한 시간 (ms)').fill('3000');
    await page.getByRole('button', { name: '💾 저장' }).click();
    await page.getByTestId('save-status').getByText('저장됨: 버전 1').waitFor();
    await page.waitForURL(/\/commands\/\d+$/);
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    const saved = await tenant.ok<{ target: Record<string, unknown>; timeoutMs: number }>('GET', `/commands/${id}`);
    expect(saved).toMatchObject({ timeoutMs: 3000, target: { type: 'http', url: stack.stub.url('/hook'), method: 'POST', headers: { 'X-Shop': '********' } } });

    await page.getByRole('button', { name: '🧪 테스트 호출' }).click();
    const result = page.getByTestId('http-result');
    await result.getByTestId('http-reply').waitFor();
    expect(await result.getByTestId('http-reply').textContent()).toBe('서버가 답했어요: 화도읍 맑음');
    expect(await result.getByTestId('http-ok').textContent()).toMatch(/HTTP 200/);
    expect(await result.getByTestId('http-body').textContent()).toContain('"response"');
    const call = stack.stub.requests.at(-1)!;
    expect(call.headers['x-shop']).toBe('domaeka');
    await shot(page, 'x5-http-form');

    // Reopened: the form, not code; the stored header value stays hidden.
    await page.reload();
    await form.waitFor();
    expect(await form.getByLabel('값 1').inputValue()).toBe('********');
    expect(await page.getByTestId('save-status').textContent()).toContain('저장됨: 버전 1');
  });

  it('lists, adds and deletes secrets in ⚙ 설정 without showing a value back', async () => {
    await page.getByRole('button', { name: '⚙ 설정' }).click();
    const settings = page.getByRole('dialog', { name: '⚙ 설정' });
    const secrets = settings.getByTestId('secrets');
    await secrets.getByText('아직 비밀 값이 없습니다').waitFor();
    await secrets.getByLabel('이름 (영문 대문자, 숫자, _)').fill('WEATHER_KEY');
    await secrets.getByLabel('값', { exact: true }).fill('s3cr3t-value');
    await secrets.getByRole('button', { name: '추가' }).click();
    await secrets.getByText('WEATHER_KEY').waitFor();
    expect(await secrets.getByLabel('값', { exact: true }).inputValue()).toBe('');
    expect(await settings.textContent()).not.toContain('s3cr3t-value');
    expect(await tenant.ok<{ name: string }[]>('GET', '/secrets')).toMatchObject([{ name: 'WEATHER_KEY' }]);
    await shot(page, 'x6-secrets');
    page.once('dialog', (d) => void d.accept());
    await secrets.getByRole('button', { name: '삭제 WEATHER_KEY' }).click();
    await secrets.getByText('아직 비밀 값이 없습니다').waitFor();
  });

  it('keeps the egress allowlist in ⚙ 설정: stored as the API normalised it, a URL refused in Korean, the free plan told it is not in force', async () => {
    const settings = page.getByRole('dialog', { name: '⚙ 설정' });
    if (!(await settings.isVisible())) await page.getByRole('button', { name: '⚙ 설정' }).click();
    const egress = settings.getByTestId('egress');
    expect(await egress.getByTestId('egress-disabled').textContent()).toContain('지금 요금제(무료)에서는');
    const field = egress.getByLabel('도메인 (예: api.example.com)');
    await field.fill('API.Example.com');
    await egress.getByRole('button', { name: '추가' }).click();
    await egress.getByText('api.example.com', { exact: true }).waitFor();
    expect(await field.inputValue()).toBe('');
    await field.fill('http://x.com');
    await egress.getByRole('button', { name: '추가' }).click();
    const alert = egress.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('도메인 이름만 적습니다');
    expect(await tenant.ok('GET', '/egress')).toMatchObject({ enabled: false, domains: ['api.example.com'] });
    await shot(page, 'x7-egress');
    await egress.getByRole('button', { name: '삭제 api.example.com' }).click();
    await egress.getByText('아직 도메인이 없습니다.').waitFor();
    expect(await tenant.ok('GET', '/egress')).toMatchObject({ domains: [] });
  });
});
