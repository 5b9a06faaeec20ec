import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildScheduler, type Scheduler } from '../../services/scheduler/src/app.js';
import { parseSchedulerConfig } from '../../services/scheduler/src/config.js';
import { json } from '../support/http-stub.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { launchChromium, pageWidth, shot, signedInContext, startWeb, type WebServer } from './browser.js';

/**
 * The schedules page as a shop owner uses it (issue 15 item 3): a Korean
 * phrase previewed as the next runs in KST, an unknown phrase refused in
 * Korean, the room picked from the bot's rooms, the schedule saved; a
 * scheduler (its clock moved to the first period) fires it, the phone
 * reads the `scheduleMessage`, and the page lists the run and the
 * missed-fire policy. Then the schedule is edited (its form starts from
 * its cron, rooms and input): a new timing phrase shows the new label and
 * next runs, on a desktop and on a phone (390x844, no sideways scroll).
 */
describe('schedules page (Chromium)', () => {
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let phone: Phone;
  let scheduler: Scheduler;
  let tenant: TenantClient;
  let now = Date.now();

  beforeAll(async () => {
    stack = await startStack('e2e-schedules', { '/open': json({ text: '🌅 오늘도 문 열었습니다' }) });
    web = await startWeb(stack.api.port);
    tenant = await TenantClient.signup(stack.api, 'schedules@shop.example', '김사장');
    const bot = await tenant.ok('POST', '/bots', { name: 'SCHED.e2e' });
    await tenant.ok('POST', '/commands', { command: '개점', target: { type: 'http', url: stack.stub.url('/open') } });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'e2e-sched-phone', secretKey: bot.secretKey, salt: bot.salt });
    await tenant.approveDevice(bot.id, 'e2e-sched-phone');
    phone.sendMessage({ room: '단골방', channelId: '4242', text: '개점', logId: '1' });
    expect(await phone.nextReply()).toBe('🌅 오늘도 문 열었습니다');
    scheduler = buildScheduler(parseSchedulerConfig({ ...stack.env.env, SCHEDULER_HTTP_PORT: '0', SCHEDULER_TICK_MS: '60000' }), { clock: () => now });
    await scheduler.start();
    browser = await launchChromium();
    context = await signedInContext(browser, web.url, tenant);
    page = await context.newPage();
    page.on('pageerror', (err) => console.log('[page error]', err.message));
  });

  afterAll(async () => {
    phone?.destroy();
    await scheduler?.stop();
    await browser?.close();
    await web?.stop();
    await stack?.close();
  });

  it('previews a Korean phrase, refuses an unknown one in Korean, saves, fires into the room and lists the run', async () => {
    await page.goto(`${web.url}/schedules`);
    await page.getByText('아직 예약이 없습니다.').waitFor();
    expect(await page.getByTestId('missed-fire-policy').textContent()).toContain('10분');
    await page.getByTestId('schedule-new').click();
    await page.getByTestId('schedule-command').selectOption({ label: '개점' });

    await page.getByTestId('schedule-when').fill('평일 18시');
    const preview = page.getByTestId('schedule-preview');
    await preview.getByText('평일 오후 6시').waitFor();
    expect(await preview.textContent()).toContain('0 18 * * 1-5');
    expect(((await preview.textContent()) ?? '').match(/18:00/g)).toHaveLength(5);

    await page.getByTestId('schedule-when').fill('가끔 생각날 때');
    await page.getByTestId('schedule-preview-error').getByText('이해하지 못했습니다', { exact: false }).waitFor();

    await page.getByTestId('schedule-when').fill('1분마다');
    await preview.getByText('매분').waitFor();
    await page.getByLabel('단골방').check();
    await page.getByTestId('schedule-input').fill('아침 인사');
    await shot(page, 's01-schedule-form');
    await page.getByRole('button', { name: '💾 예약 저장' }).click();
    const row = page.getByTestId('schedule-row');
    await row.getByText('매분').waitFor();
    expect(await row.textContent()).toContain('단골방');

    // The scheduler's clock at the first period: the phone reads the command's reply as scheduleMessage.
    const [created] = (await stack.pool.query<{ next_fire_at: Date }>('select next_fire_at from kb_schedules')).rows;
    now = created!.next_fire_at.getTime() + 300;
    await scheduler.tick();
    const msg = await phone.nextPacket('scheduleMessage');
    expect(msg.text).toBe('🌅 오늘도 문 열었습니다');
    expect(msg.data).toMatchObject({ room: '단골방', channel_id: '4242' });

    await waitFor(async () => (await stack.pool.query(`select 1 from kb_api_logs where source = 'schedule'`)).rowCount === 1, { what: 'the fire logged' });
    await row.getByRole('button', { name: '매분' }).click();
    await page.getByTestId('schedule-fires').getByText('실행됨', { exact: false }).waitFor();
    await shot(page, 's02-schedule-fired');

    // The logs page names the call's source.
    await page.goto(`${web.url}/logs`);
    await page.getByTestId('call-source').getByText('⏰ 예약').first().waitFor();
  });

  it('edits the schedule: a new phrase shows its label and next runs; the rooms and input carried over', async () => {
    await page.goto(`${web.url}/schedules`);
    const row = page.getByTestId('schedule-row');
    await row.getByText('매분').waitFor();
    await row.getByTestId('schedule-edit').click();
    const form = row.getByTestId('schedule-edit-form');
    // The form starts from the schedule as it is: its cron (labelled in the preview), room and input.
    expect(await form.getByTestId('schedule-when').inputValue()).toBe('* * * * *');
    await form.getByTestId('schedule-preview').getByText('매분').waitFor();
    expect(await form.getByLabel('단골방').isChecked()).toBe(true);
    expect(await form.getByTestId('schedule-input').inputValue()).toBe('아침 인사');

    await form.getByTestId('schedule-when').fill('평일 18시');
    const preview = form.getByTestId('schedule-preview');
    await preview.getByText('평일 오후 6시').waitFor();
    expect(((await preview.textContent()) ?? '').match(/18:00/g)).toHaveLength(5);
    await form.getByTestId('schedule-input').fill('저녁 인사');
    await shot(page, 's03-schedule-edit');
    await form.getByRole('button', { name: '💾 변경 저장' }).click();

    // The row shows the new label and its next run at 18:00 KST; the form closed; the API stored it.
    await row.getByRole('button', { name: '평일 오후 6시' }).waitFor();
    await row.getByText(/다음: \d{4}-\d{2}-\d{2} 18:00/).waitFor();
    await form.waitFor({ state: 'detached' });
    expect(await row.textContent()).toContain('단골방');
    const [stored] = (await stack.pool.query<{ cron: string; label: string; input_text: string; next_fire_at: Date }>('select cron, label, input_text, next_fire_at from kb_schedules')).rows;
    expect(stored).toMatchObject({ cron: '0 18 * * 1-5', label: '평일 오후 6시', input_text: '저녁 인사' });
    // 18:00 KST is 09:00 UTC, on a weekday.
    expect(stored!.next_fire_at.getUTCHours()).toBe(9);
    expect([1, 2, 3, 4, 5]).toContain(new Date(stored!.next_fire_at.getTime() + 9 * 3_600_000).getUTCDay());

    // On a phone: the list and the edit form without sideways scrolling.
    const small = await signedInContext(browser, web.url, tenant, { width: 390, height: 844 });
    const phonePage = await small.newPage();
    await phonePage.goto(`${web.url}/schedules`);
    await phonePage.getByTestId('schedule-row').getByRole('button', { name: '평일 오후 6시' }).waitFor();
    await phonePage.getByTestId('schedule-edit').click();
    await phonePage.getByTestId('schedule-edit-form').getByTestId('schedule-preview').getByText('평일 오후 6시').waitFor();
    expect(await pageWidth(phonePage)).toBeLessThanOrEqual(390);
    await shot(phonePage, 's04-schedule-edit-phone');
    await small.close();
  });
});
