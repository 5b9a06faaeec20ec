import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { EDITOR_READY, launchChromium, logInThroughUI, PASSWORD, pageWidth, pasteCode, shot, signUpThroughUI, startWeb, TIMER_CODE, WATCH_RUN, type WebServer, waitForPage } from './browser.js';
import { downloadText, JourneyMeter, scriptSettings } from './journey-meter.js';

/**
 * Issue 5's journey through Chromium, the way a shop owner meets the
 * platform: sign up, start 날씨 from its template, watch a slower program's
 * output and CPU/memory arrive live, save 날씨, create a bot and read its key
 * and salt off the page, connect a (scripted) phone with them, approve it
 * with 승인, and the room's `날씨 화도읍` gets its answer. The call shows in
 * the editor's live tail, on the logs page, on the usage page, and on the
 * administrator's live dashboard (a second browser context). Then the same
 * pages on a 390x844 phone screen. Real platform: API, gateway, dispatcher
 * and a Docker sandbox runner in-process, web/server.js in front.
 *
 * Then issue 16's journey, counted: a new shop from the landing page to the
 * first reply on its phone, following the checklist, with a no-code reply
 * (영업시간) as its first command and the phone set up from the downloaded,
 * pre-filled bridge script. It prints one JSON line (clicks, typed fields,
 * the product's own waiting time) and holds it to <= 10 clicks and nothing
 * typed on the phone.
 */
const OWNER = { name: '김사장', email: 'journey-owner@shop.example' };
const ADMIN_EMAIL = 'ops@domaeka.example';
const DEVICE = 'android-journey-01';

describe('the journey (Chromium)', () => {
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let owner: BrowserContext;
  let editor: Page;
  let page: Page;
  let phone: Phone | null = null;
  let botUrl = '';
  let adminState: Awaited<ReturnType<BrowserContext['storageState']>> | undefined;

  beforeAll(async () => {
    stack = await startStack('e2e-journey', {}, { runner: true });
    // The first account on a fresh database is the administrator: made before anyone signs up in the browser.
    await TenantClient.signup(stack.api, ADMIN_EMAIL, '운영팀');
    web = await startWeb(stack.api.port);
    browser = await launchChromium();
    owner = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'ko-KR', permissions: ['clipboard-read', 'clipboard-write'] });
    editor = await owner.newPage();
    editor.on('pageerror', (err) => console.log('[page error]', err.message));
  });

  afterAll(async () => {
    phone?.destroy();
    await browser?.close();
    await web?.stop();
    await stack?.close();
  });

  it('signs up, streams a run live, saves 날씨, connects and approves a phone, answers the room, and shows the call everywhere', async () => {
    await signUpThroughUI(editor, web.url, OWNER);

    // 날씨 from the template picker.
    await editor.getByRole('link', { name: '+ 새 명령어' }).click();
    const picker = editor.getByRole('dialog', { name: '📋 템플릿' });
    await picker.getByRole('button', { name: /날씨/ }).click();
    await expect.poll(() => editor.getByLabel('명령어', { exact: true }).inputValue()).toBe('날씨');
    await waitForPage(editor, EDITOR_READY);
    await editor.getByTestId('lint-status').getByText('문법 검사 통과').waitFor({ timeout: 30_000 });

    // A print-sleep-print program: its first line and a CPU/memory figure show before it ends.
    await pasteCode(editor, TIMER_CODE);
    await expect.poll(() => editor.locator('.monaco-editor .view-lines').textContent()).toContain('time.sleep(1)');
    await editor.getByTestId('lint-status').getByText('문법 검사 통과').waitFor({ timeout: 30_000 });
    await editor.evaluate(WATCH_RUN);
    await editor.getByRole('button', { name: '▶ 실행' }).click();
    await editor.getByTestId('run-live').waitFor({ timeout: 30_000 });
    await shot(editor, 'j01-run-live');
    await editor.getByTestId('run-ok').waitFor({ timeout: 30_000 });
    const seen = (await editor.evaluate('window.__kbSeen')) as Record<string, number>;
    expect(seen.output, 'the first line before the result').toBeLessThan(seen.result!);
    expect(seen.live, 'a CPU/memory figure before the result').toBeLessThan(seen.result!);
    expect(await editor.getByTestId('run-output').textContent()).toBe('첫 줄\n둘째 줄\n');

    // Back to the 날씨 template's code, and saved.
    await editor.getByRole('button', { name: '📋 템플릿' }).click();
    await picker.getByRole('button', { name: /날씨/ }).click();
    await expect.poll(() => editor.locator('.monaco-editor .view-lines').textContent()).not.toContain('time.sleep(1)');
    await editor.getByTestId('lint-status').getByText('문법 검사 통과').waitFor({ timeout: 30_000 });
    await editor.keyboard.press('ControlOrMeta+s');
    await editor.getByTestId('save-status').getByText('저장됨: 버전 1').waitFor({ timeout: 30_000 });
    await editor.waitForURL(/\/commands\/\d+$/);
    const commandId = Number(new URL(editor.url()).pathname.split('/').pop());

    // The editor's 📡 tail stays open while a second tab does the rest.
    await editor.getByRole('tab', { name: '📡 실시간 호출' }).click();
    const tail = editor.getByTestId('live-tail');
    await tail.waitFor();

    // A bot: its key and salt are on the page once.
    page = await owner.newPage();
    page.on('pageerror', (err) => console.log('[page error]', err.message));
    await page.goto(`${web.url}/bots`);
    await page.getByText('아직 봇이 없습니다').waitFor();
    await page.getByRole('textbox', { name: '봇 이름', exact: true }).fill('우리가게봇');
    await page.getByRole('button', { name: '만들기', exact: true }).click();
    const secretBox = page.getByTestId('bot-secret');
    await secretBox.waitFor();
    const botName = await page.getByTestId('secret-bot-name').inputValue();
    const secretKey = await page.getByTestId('secret-secret-key').inputValue();
    const salt = await page.getByTestId('secret-salt').inputValue();
    expect(botName).toBe('우리가게봇');
    expect(secretKey).toMatch(/^[0-9a-f]{64}$/);
    expect(salt).toMatch(/^[0-9a-f]{32}$/);
    // Host and port as the page shows them: the port is the one the gateway reports it listens on (here a free one, not 1490).
    const port = page.getByTestId('secret-port');
    await expect.poll(() => port.inputValue()).toBe(String(stack.gateway.bridgePort));
    const host = await page.getByTestId('secret-host').inputValue();
    expect(host).toBe('127.0.0.1');
    await shot(page, 'j02-bot-created');

    // The phone connects with what the page showed, and shows up pending.
    phone = await connectPhone(host, Number(await port.inputValue()));
    const hello = await phone.handshake({ botName, deviceID: DEVICE, secretKey, salt });
    expect(hello.success).toBe(true);
    await page.getByTestId('pending-badge').getByText('승인 대기 1').waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: '복사했습니다, 닫기' }).click();
    await page.getByRole('link', { name: '우리가게봇' }).click();
    await page.waitForURL(/\/bots\/[0-9a-f-]{36}$/);
    botUrl = page.url();
    const row = page.locator(`[data-testid="device-row"][data-device="${DEVICE}"]`);
    await row.getByText('승인 대기').waitFor();
    // The round trip and the phone's memory arrive with its first pong.
    await expect.poll(async () => row.textContent(), { timeout: 20_000 }).toMatch(/\d+ \/ \d+ MB/);
    await shot(page, 'j03-bot-pending');
    await row.getByRole('button', { name: `${DEVICE} 승인` }).click();
    await row.getByText('승인됨').waitFor();
    expect(await page.getByTestId('pending-badge').count()).toBe(0);

    // The room asks; the phone carries the answer back.
    phone.sendMessage({ room: '단골방', channelId: '7001', text: '날씨 화도읍', sender: '김민수' });
    const reply = await phone.nextReply(undefined, 30_000);
    expect(reply).toContain('화도읍');

    // The room shows on the bot page (approved: rooms are not approved by hand by default).
    await page.getByTestId('rooms').getByText('단골방').waitFor({ timeout: 10_000 });
    await shot(page, 'j04-bot-approved');

    // The editor's live tail: the room's text and the reply.
    const call = tail.getByTestId('tail-call').first();
    await call.waitFor({ timeout: 15_000 });
    expect(await call.textContent()).toContain('날씨 화도읍');
    expect(await call.textContent()).toContain('화도읍');
    await editor.bringToFront();
    await shot(editor, 'j05-live-tail');

    // The logs page (filtered to the command from its address), and the call's detail.
    await page.goto(`${web.url}/logs?commandId=${commandId}`);
    const logRow = page.getByTestId('log-row').first();
    await logRow.waitFor();
    const rowText = await logRow.textContent();
    for (const s of ['날씨', '단골방', '김민수', '날씨 화도읍', '성공']) expect(rowText).toContain(s);
    expect(await page.getByLabel('명령어').inputValue()).toBe(String(commandId));
    await shot(page, 'j06-logs');
    await logRow.getByRole('button').click();
    const detail = page.getByTestId('log-detail');
    await detail.getByTestId('log-request').getByText('화도읍').first().waitFor();
    expect(await detail.getByTestId('log-response').textContent()).toContain('화도읍');
    await shot(page, 'j07-log-detail');
    await detail.getByRole('button', { name: '닫기' }).click();
    // A filter that matches nothing, then back.
    await page.getByLabel('검색 (요청 내용)').fill('없는말');
    await page.getByRole('button', { name: '검색', exact: true }).click();
    await page.getByText('조건에 맞는 호출이 없습니다').waitFor();
    await page.getByRole('button', { name: '초기화' }).click();
    await page.getByTestId('log-row').first().waitFor();

    // Usage: today's room call and test runs against the free plan.
    await page.goto(`${web.url}/usage`);
    await page.getByTestId('usage-room').getByText('1 / 100회').waitFor();
    expect(await page.getByTestId('usage-test').textContent()).toMatch(/[1-9]\d* \/ 200회/);
    await page.getByTestId('usage-chart').waitFor();
    await shot(page, 'j08-usage');

    // Not an administrator: the dashboard is a Korean 403.
    await page.goto(`${web.url}/admin`);
    await page.getByText('403: 관리자만 볼 수 있는 화면입니다.').waitFor();

    // The administrator, in a browser of their own, sees the call live.
    const ops = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ko-KR' });
    const dash = await ops.newPage();
    dash.on('pageerror', (err) => console.log('[page error]', err.message));
    await logInThroughUI(dash, web.url, ADMIN_EMAIL, '/admin');
    await dash.getByRole('heading', { name: '관리자 대시보드' }).waitFor();
    await dash.getByTestId('live-status').getByText('● 실시간 (2초마다)').waitFor({ timeout: 15_000 });
    await expect.poll(async () => Number(await dash.getByTestId('calls-per-minute').textContent()), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    const top = await dash.getByTestId('top-commands').textContent();
    expect(top).toContain('날씨');
    expect(top).toContain(OWNER.name); // whose command, by the tenant's name
    expect(Number(await dash.getByTestId('metric-phones').locator('.big').textContent())).toBeGreaterThanOrEqual(1);
    // A few live samples, so the small charts have a line to draw.
    await expect
      .poll(async () => ((await dash.locator('[data-testid="metric-calls"] polyline').getAttribute('points')) ?? '').split(' ').filter(Boolean).length, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(3);
    await shot(dash, 'j09-admin-dashboard');
    adminState = await ops.storageState();
    await ops.close();
  });

  it('fits a 390x844 phone screen: bots, logs, usage and the dashboard', async () => {
    const small = { viewport: { width: 390, height: 844 }, locale: 'ko-KR' };
    const mobile = await browser.newContext({ ...small, storageState: await owner.storageState() });
    const p = await mobile.newPage();
    await p.goto(botUrl);
    await p.locator(`[data-testid="device-row"][data-device="${DEVICE}"]`).getByText('승인됨').waitFor();
    expect(await pageWidth(p)).toBeLessThanOrEqual(390);
    await shot(p, 'j10-phone-bot');
    await p.goto(`${web.url}/bots`);
    await p.getByRole('textbox', { name: '봇 이름', exact: true }).waitFor();
    expect(await pageWidth(p)).toBeLessThanOrEqual(390);
    await p.goto(`${web.url}/logs`);
    await p.getByTestId('log-row').first().click();
    await p.getByTestId('log-detail').getByTestId('log-request').waitFor();
    expect(await pageWidth(p)).toBeLessThanOrEqual(390);
    await shot(p, 'j11-phone-log-detail');
    await p.getByTestId('log-detail').getByRole('button', { name: '닫기' }).click();
    await shot(p, 'j12-phone-logs');
    await p.goto(`${web.url}/usage`);
    await p.getByTestId('usage-chart').waitFor();
    expect(await pageWidth(p)).toBeLessThanOrEqual(390);
    await shot(p, 'j13-phone-usage');
    await mobile.close();

    const admin = await browser.newContext({ ...small, storageState: adminState });
    const d = await admin.newPage();
    await d.goto(`${web.url}/admin`);
    await d.getByTestId('top-commands').getByText('날씨').waitFor({ timeout: 15_000 });
    expect(await pageWidth(d)).toBeLessThanOrEqual(390);
    await shot(d, 'j14-phone-dashboard');
    await admin.close();
  });

  it('issue 16: a new shop from the landing page to its first reply in <= 10 clicks, nothing typed on the phone', async () => {
    const SHOP = { name: '박사장', email: 'first-reply@shop.example' };
    const BOT = '첫답장봇';
    const PHONE_ID = 'android-first-reply-01';
    const meter = new JourneyMeter();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ko-KR', acceptDownloads: true });
    const p = await ctx.newPage();
    p.on('pageerror', (err) => console.log('[page error]', err.message));

    // The landing page sends a stranger to the login page; its 회원가입 link.
    await p.goto(`${web.url}/`);
    await meter.waitFor('login page', p.waitForURL(/\/login/));
    await meter.click('회원가입 link', p.getByRole('link', { name: '회원가입' }));
    await meter.fill('이름', p.getByLabel('이름', { exact: true }), SHOP.name);
    await meter.fill('이메일', p.getByLabel('이메일'), SHOP.email);
    await meter.fill('비밀번호', p.getByLabel('비밀번호 (8자 이상)'), PASSWORD);
    await meter.click('회원가입', p.getByRole('button', { name: '회원가입' }));
    const steps = p.getByTestId('first-steps');
    await meter.waitFor('home with the checklist', steps.waitFor());
    await shot(p, 'q01-checklist');
    // An observer's tab on the home page (not the user's clicks): the checklist ticks live to its end.
    const watch = await ctx.newPage();
    await watch.goto(`${web.url}/`);
    await watch.getByTestId('first-steps').waitFor();

    // The checklist's 명령어 step: the template picker, the no-code replies first.
    await meter.click('checklist: 명령어', p.getByTestId('step-command').getByRole('link', { name: '템플릿으로 만들기' }));
    const picker = p.getByRole('dialog', { name: '📋 템플릿' });
    await meter.waitFor('template picker', picker.getByTestId('reply-templates').waitFor());
    await shot(p, 'q02-picker');
    await meter.click('🕘 영업시간', picker.getByRole('button', { name: '이 템플릿 사용: 🕘 영업시간' }));
    // The same bubble the editor shows a run's reply in: placeholders filled from the test input.
    const preview = p.getByTestId('reply-preview');
    await meter.waitFor('preview bubble', preview.waitFor());
    expect(await preview.textContent()).toContain('테스터님, 안녕하세요! 영업시간 안내드립니다.');
    expect(await p.getByLabel('명령어', { exact: true }).inputValue()).toBe('영업시간');
    expect(await p.locator('.monaco-editor').count(), 'no code anywhere').toBe(0);
    await shot(p, 'q03-reply-form');
    await meter.click('💾 저장', p.getByRole('button', { name: '💾 저장' }));
    await meter.waitFor('saved', p.getByTestId('save-status').getByText('저장됨: 버전 1').waitFor());

    // A bot, from the top menu; its key box hands out the pre-filled script.
    await meter.click('menu: 봇', p.getByRole('navigation').getByRole('link', { name: '봇', exact: true }));
    await meter.fill('봇 이름', p.getByRole('textbox', { name: '봇 이름', exact: true }), BOT);
    await meter.click('만들기', p.getByRole('button', { name: '만들기', exact: true }));
    await meter.waitFor('key box', p.getByTestId('bot-secret').waitFor());
    await shot(p, 'q04-bot-key-box');
    const script = await downloadText(p, () => meter.click('⬇ 스크립트 내려받기', p.getByTestId('secret-script-download')));
    expect(script.name).toBe('domaeka-bridge.js');
    const s = scriptSettings(script.text);
    expect(s).toMatchObject({ SERVER_HOST: '127.0.0.1', SERVER_PORT: String(stack.gateway.bridgePort), BOT_NAME: BOT });

    // The phone runs the script as handed out: every value from it, nothing typed (the device id is the phone's own).
    phone?.destroy();
    phone = await connectPhone(s.SERVER_HOST, Number(s.SERVER_PORT));
    const hello = await meter.waitFor('handshake', phone.handshake({ botName: s.BOT_NAME, deviceID: PHONE_ID, secretKey: s.SECRET_KEY, salt: s.SALT }));
    expect(hello.success).toBe(true);
    const badge = p.getByTestId('pending-phones-badge');
    await meter.waitFor('승인 대기 badge', badge.getByText('📱 승인 대기 1').waitFor({ timeout: 20_000 }));
    await meter.click('📱 승인 대기 1', badge);
    await meter.click('승인', p.getByTestId('pending-phones').getByRole('button', { name: `${BOT} ${PHONE_ID} 승인` }));
    await meter.waitFor('approved', p.getByRole('status').getByText(`${PHONE_ID} 폰을 승인했습니다.`).waitFor());

    // The room asks; the phone carries the fixed answer back.
    phone.sendMessage({ room: '동네방', channelId: 'first-reply-room', text: '영업시간', sender: '이웃' });
    const reply = await meter.waitFor('first reply', phone.nextReply(undefined, 20_000));
    expect(reply.startsWith('이웃님, 안녕하세요! 영업시간 안내드립니다.')).toBe(true);

    const report = meter.report({ phoneValuesFromScript: ['SERVER_HOST', 'SERVER_PORT', 'BOT_NAME', 'SECRET_KEY', 'SALT'] });
    console.log(JSON.stringify(report));
    expect(meter.clicks.length, meter.clicks.join(' > ')).toBeLessThanOrEqual(10);
    expect(meter.phoneTyped).toEqual([]);

    // Looked at afterwards (not part of the count): the checklist is done, and the pages fit a phone.
    await watch.locator('[data-testid="first-steps"][data-complete="true"]').getByText('🎉 준비가 끝났습니다').waitFor({ timeout: 20_000 });
    for (const id of ['bot', 'command', 'phone', 'reply']) expect(await watch.getByTestId(`step-${id}`).getAttribute('data-done')).toBe('true');
    await shot(watch, 'q05-checklist-done');
    await p.goto(`${web.url}/`);
    await p.getByRole('cell', { name: '💬 고정 답장' }).waitFor();
    await shot(p, 'q05b-list');
    const small = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'ko-KR', storageState: await ctx.storageState() });
    const m = await small.newPage();
    await m.goto(`${web.url}/`);
    await m.getByRole('cell', { name: '💬 고정 답장' }).waitFor();
    expect(await pageWidth(m)).toBeLessThanOrEqual(390);
    await shot(m, 'q06-phone-list');
    await m.goto(`${web.url}/commands/new`);
    await m.getByRole('dialog', { name: '📋 템플릿' }).getByTestId('reply-templates').waitFor();
    expect(await pageWidth(m)).toBeLessThanOrEqual(390);
    await shot(m, 'q07-phone-picker');
    await m.getByRole('button', { name: '이 템플릿 사용: 📍 위치' }).click();
    await m.getByTestId('reply-preview').waitFor();
    await m.getByRole('button', { name: '+ 버튼 추가' }).click();
    expect(await pageWidth(m)).toBeLessThanOrEqual(390);
    await shot(m, 'q08-phone-reply-form');
    await m.goto(`${web.url}/bots`);
    await m.getByRole('textbox', { name: '봇 이름', exact: true }).fill('둘째봇');
    await m.getByRole('button', { name: '만들기', exact: true }).click();
    await m.getByTestId('secret-script-download').waitFor();
    expect(await pageWidth(m)).toBeLessThanOrEqual(390);
    await shot(m, 'q09-phone-key-box');
    await small.close();
    await ctx.close();
  });
});
