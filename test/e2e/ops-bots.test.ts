import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { envelope, messages, names, type EnvelopeOf, type ReplyPayload } from '@domaeka/broker';
import { json } from '../support/http-stub.js';
import { connectPhone, type Phone, type PhoneIdentity } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { launchChromium, logInThroughUI, shot, signUpThroughUI, startWeb, type WebServer } from './browser.js';

/**
 * The two operator flows no other browser test clicks. A shop owner who
 * signed up in the browser rotates a bot's secret from its page (phones
 * with the old pair are refused, the new pair answers) and deletes the bot
 * (gone from the list and the API, its phones cut off). The administrator
 * (the first account) sees real dead letters on the dashboard, made through
 * the broker as admin-ops does: a reply that expired while its phone was
 * away, replayed to the phone once it is back; an event the dispatcher
 * refused, discarded. No Docker runner: the command answers from the stub.
 */
const OWNER = { name: '박사장', email: 'ops-bots-owner@shop.example' };
const ADMIN_EMAIL = 'ops-bots-admin@platform.example';
const DEVICE = 'android-ops-bots-01';
const ROOM = { room: '단골방', channelId: 'ops-bots-room', sender: '김민수' };

type DeadLetter = { id: number; status: string; reason: string; detail: string | null; queue: string | null; messageId: string | null };

/** The API as the signed-in browser reaches it (its cookies, through the web server's /api proxy, CSRF header echoed as the app does). */
async function apiAs(context: BrowserContext, webUrl: string, method: 'GET' | 'POST', path: string, data?: unknown): Promise<{ status: number; body: any }> {
  const csrf = (await context.cookies(webUrl)).find((c) => c.name === 'kb_csrf')?.value ?? '';
  const res = await context.request.fetch(`${webUrl}/api/v1${path}`, { method, data, headers: method === 'GET' ? {} : { 'x-csrf-token': csrf } });
  const text = await res.text();
  return { status: res.status(), body: text ? JSON.parse(text) : undefined };
}

/** Connects and hands shakes; returns the phone and handshakeComplete's data. */
async function phoneWith(port: number, id: PhoneIdentity, keep: Phone[]): Promise<{ phone: Phone; hello: Record<string, any> }> {
  const phone = await connectPhone('127.0.0.1', port);
  keep.push(phone);
  return { phone, hello: await phone.handshake(id) };
}

/** The phone's answer to the room's text, or null when the gateway sends an `error` first. */
async function ask(phone: Phone, text: string, timeoutMs = 5000): Promise<string | null> {
  phone.sendMessage({ ...ROOM, text });
  return Promise.race([phone.nextReply(() => true, timeoutMs), phone.nextPacket('error', () => true, timeoutMs).then(() => null)]);
}

describe('bot secret rotation and deletion, dead letters (Chromium)', () => {
  let stack: Stack;
  let web: WebServer;
  let browser: Browser;
  let admin: TenantClient;
  const phones: Phone[] = [];

  beforeAll(async () => {
    stack = await startStack('e2e-ops-bots', { '/hello': json({ text: '어서 오세요' }) });
    // The first account on a fresh database is the administrator: made before anyone signs up in the browser.
    admin = await TenantClient.signup(stack.api, ADMIN_EMAIL, '운영팀');
    web = await startWeb(stack.api.port);
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const p of phones) p.destroy();
    await browser?.close();
    await web?.stop();
    await stack?.close();
  });

  it('rotates a bot secret from its page (old pair refused, new pair answered), then deletes the bot', async () => {
    const owner = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'ko-KR' });
    const page = await owner.newPage();
    page.on('pageerror', (err) => console.log('[page error]', err.message));
    await signUpThroughUI(page, web.url, OWNER);
    // A command the room can call, answered by the stub (no sandbox needed for this).
    const cmd = await apiAs(owner, web.url, 'POST', '/commands', { command: '인사', target: { type: 'http', url: stack.stub.url('/hello') } });
    expect(cmd.status).toBe(201);

    // A bot, its first key and salt read off the page.
    await page.goto(`${web.url}/bots`);
    await page.getByText('아직 봇이 없습니다').waitFor();
    await page.getByRole('textbox', { name: '봇 이름', exact: true }).fill('교체할봇');
    await page.getByRole('button', { name: '만들기', exact: true }).click();
    await page.getByTestId('bot-secret').waitFor();
    const botName = await page.getByTestId('secret-bot-name').inputValue();
    const first = { secretKey: await page.getByTestId('secret-secret-key').inputValue(), salt: await page.getByTestId('secret-salt').inputValue() };
    expect(botName).toBe('교체할봇');
    expect(first.secretKey).toMatch(/^[0-9a-f]{64}$/);
    const port = stack.gateway.bridgePort;
    await expect.poll(() => page.getByTestId('secret-port').inputValue()).toBe(String(port));

    // A phone with that pair, approved on the bot's page, answers the room.
    const { phone, hello } = await phoneWith(port, { botName, deviceID: DEVICE, ...first }, phones);
    expect(hello.success).toBe(true);
    await page.getByRole('button', { name: '복사했습니다, 닫기' }).click();
    await page.getByRole('link', { name: botName }).click();
    await page.waitForURL(/\/bots\/[0-9a-f-]{36}$/);
    const botId = new URL(page.url()).pathname.split('/').pop()!;
    const row = page.locator(`[data-testid="device-row"][data-device="${DEVICE}"]`);
    await row.getByText('승인 대기').waitFor({ timeout: 20_000 });
    await row.getByRole('button', { name: `${DEVICE} 승인` }).click();
    await row.getByText('승인됨').waitFor();
    expect(await ask(phone, '인사', 15_000)).toBe('어서 오세요');

    // 🔑 비밀 키 교체: the confirm dialog says what will happen, then the new pair is shown once.
    await page.getByRole('button', { name: '🔑 비밀 키 교체' }).click();
    const confirmRotate = page.getByRole('dialog', { name: '비밀 키 교체' });
    await confirmRotate.waitFor();
    expect(await confirmRotate.textContent()).toContain('지금 접속한 폰은 다음 패킷부터 거부되고, 새 값을 폰에 다시 넣어야 합니다');
    await shot(page, 'o1-rotate-confirm');
    await confirmRotate.getByRole('button', { name: '비밀 키 교체' }).click();
    await page.getByRole('status').getByText('비밀 키와 솔트를 바꿨습니다').waitFor();
    const box = page.getByTestId('bot-secret');
    await box.waitFor();
    expect(await box.getByRole('heading').textContent()).toBe('🔑 비밀 키와 솔트: 지금 한 번만 보입니다');
    expect(await box.getByRole('alert').textContent()).toContain('이 화면을 떠나면 다시 볼 수 없습니다');
    const second = { secretKey: await box.getByTestId('secret-secret-key').inputValue(), salt: await box.getByTestId('secret-salt').inputValue() };
    expect(second.secretKey).toMatch(/^[0-9a-f]{64}$/);
    expect(second.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(second.secretKey).not.toBe(first.secretKey);
    expect(second.salt).not.toBe(first.salt);
    expect(await box.getByTestId('secret-bot-name').inputValue()).toBe(botName);
    await shot(page, 'o2-rotated-secret');
    // Shown once: the bot as the API gives it back carries no key.
    expect((await apiAs(owner, web.url, 'GET', `/bots/${botId}`)).body).not.toHaveProperty('secretKey');

    // The new pair answers once the gateway has heard of the change (a `changed` event, not instant).
    let current: Phone | null = null;
    await waitFor(
      async () => {
        const { phone: p } = await phoneWith(port, { botName, deviceID: DEVICE, ...second }, phones);
        if ((await ask(p, '인사')) === '어서 오세요') return (current = p);
        p.destroy();
        return null;
      },
      { what: 'a phone with the new pair answered', timeoutMs: 30_000 },
    );

    // The old pair, on a new connection: every signed packet is refused as a bad signature, nothing reaches the dispatcher.
    const { phone: old } = await phoneWith(port, { botName, deviceID: 'android-ops-bots-old', ...first }, phones);
    old.sendMessage({ ...ROOM, text: '인사', logId: 'old-pair-1' });
    const refused = await old.nextPacket('error', (e) => e.data.code === 'BAD_SIGNATURE');
    expect(refused.data.message).toBe('서명이 올바르지 않습니다 (invalid signature)');
    old.sendMessage({ ...ROOM, text: '인사', logId: 'old-pair-2' });
    await old.nextPacket('error', (e) => e.data.code === 'BAD_SIGNATURE');
    expect(old.replies()).toEqual([]);
    // A message of the new pair sent after them is answered; the old pair's never reached the dispatcher (no outbox row).
    expect(await ask(current!, '인사')).toBe('어서 오세요');
    const { rows } = await stack.pool.query(`select count(*)::int as n from kb_outbox where log_id in ('old-pair-1', 'old-pair-2')`);
    expect(rows[0].n).toBe(0);
    old.destroy();

    // Close the secret box; 🗑 봇 삭제 asks first, naming the bot, then goes back to the list.
    await box.getByRole('button', { name: '복사했습니다, 닫기' }).click();
    await page.getByRole('button', { name: '🗑 봇 삭제' }).click();
    const confirmDelete = page.getByRole('dialog', { name: '봇 삭제' });
    await confirmDelete.waitFor();
    expect(await confirmDelete.textContent()).toContain(`봇 "${botName}"을(를) 삭제할까요?`);
    await shot(page, 'o3-delete-confirm');
    await confirmDelete.getByRole('button', { name: '봇 삭제' }).click();
    await page.waitForURL((u) => u.pathname === '/bots');
    await page.getByText('아직 봇이 없습니다').waitFor();
    expect(await page.getByRole('status').textContent()).toBe(`봇 "${botName}"을(를) 삭제했습니다.`);
    expect(await page.getByRole('link', { name: botName }).count()).toBe(0);
    await shot(page, 'o4-bot-deleted');
    expect(await apiAs(owner, web.url, 'GET', '/bots')).toEqual({ status: 200, body: [] });
    expect((await apiAs(owner, web.url, 'GET', `/bots/${botId}`)).status).toBe(404);

    // The connected phone is cut off with the Korean notice at its next packet, unanswered.
    const cut = current!;
    await waitFor(
      async () => {
        if (cut.closed) return true;
        const answer = await ask(cut, '인사').catch(() => null);
        return answer === null && cut.packets.some((p) => p.event === 'error' && p.data.code === 'BOT_DISABLED');
      },
      { what: 'the connected phone cut off', timeoutMs: 30_000 },
    );
    const notice = cut.packets.find((p) => p.event === 'error' && p.data.code === 'BOT_DISABLED');
    expect(notice?.data.message).toBe('봇이 삭제되었거나 사용이 중지되었습니다 (bot removed or disabled)');
    await cut.waitClosed();

    // A phone of the deleted bot cannot hand shake, with either pair.
    for (const pair of [second, first]) {
      const { phone: p, hello: h } = await phoneWith(port, { botName, deviceID: DEVICE, ...pair }, phones);
      expect(h).toMatchObject({ success: false, approved: false, message: '등록되지 않은 봇입니다 (unknown bot)' });
      await p.waitClosed();
    }
    await owner.close();
  });

  it('shows real dead letters to the administrator with their reason; replays one to its phone, discards another', async () => {
    const n = names(stack.env.brokerPrefix);
    const shop = await TenantClient.signup(stack.api, 'ops-bots-shop@shop.example', '운영테스트 상점');
    const bot = await shop.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', '/bots', { name: `dl-${randomUUID().slice(0, 8)}` });
    const queueOf = async (name: string) => (await admin.ok<{ queues: { name: string; consumers: number }[] }>('GET', '/admin/metrics')).queues.find((q) => q.name === name);
    const pendingIds = async () => (await admin.ok<{ items: DeadLetter[] }>('GET', '/admin/dead-letters?status=pending')).items.map((d) => d.id);
    let logId = 1;
    /** A phone whose connection counts (its first signed packet), taking its replies. */
    const phone = async () => {
      const { phone: p } = await phoneWith(stack.gateway.bridgePort, { botName: bot.name, deviceID: 'android-dl', secretKey: bot.secretKey, salt: bot.salt }, phones);
      p.sendMessage({ ...ROOM, text: '안녕하세요', logId: `dl-${logId++}` });
      return p;
    };

    // The administrator's dashboard, in a browser of their own.
    const ops = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ko-KR' });
    const dash = await ops.newPage();
    dash.on('pageerror', (err) => console.log('[page error]', err.message));
    await logInThroughUI(dash, web.url, ADMIN_EMAIL, '/admin');
    await dash.getByRole('heading', { name: '관리자 대시보드' }).waitFor();
    await dash.getByRole('heading', { name: /처리 못 한 메시지 \(dead letter\)/ }).waitFor({ timeout: 15_000 });

    // A reply that comes while the phone is away and outlives its time to live.
    const away = await phone();
    const deviceId = await waitFor(async () => (await shop.ok<{ id: string; deviceKey: string }[]>('GET', `/bots/${bot.id}/devices`)).find((d) => d.deviceKey === 'android-dl')?.id, {
      what: 'the phone listed',
    });
    const queue = n.replyQueue(`dev.${deviceId}`);
    await waitFor(async () => (await queueOf(queue))?.consumers === 1 || null, { what: 'the phone taking its replies' });
    away.destroy();
    await waitFor(async () => (await queueOf(queue))?.consumers === 0 || null, { what: 'the phone gone' });
    const replyId = await publish(stack, n.replies, `dev.${deviceId}`, replyOf(bot, '늦게 도착한 답장'), { expiration: '200', type: 'reply.v1' });

    // It shows on the dashboard by itself (the live count changes), with its reason and queue.
    const table = dash.getByTestId('dead-letters');
    const expiredRow = table.locator('tbody tr', { hasText: queue });
    await expiredRow.waitFor({ timeout: 20_000 });
    expect(await expiredRow.textContent()).toContain('만료됨');
    expect(await expiredRow.textContent()).toContain('reply.v1');
    const expired = (await admin.ok<{ items: DeadLetter[] }>('GET', '/admin/dead-letters?status=pending')).items.find((d) => d.messageId === replyId)!;
    expect(expired).toMatchObject({ reason: 'expired', queue });
    await shot(dash, 'o5-dead-letter-expired');

    // The phone is back; 재전송 sends the reply to its original route and the room gets it.
    const back = await phone();
    await waitFor(async () => (await queueOf(queue))?.consumers === 1 || null, { what: 'the phone back' });
    await expiredRow.getByRole('button', { name: '재전송' }).click();
    const got = await back.nextPacket('messageResponse', (p) => p.text === '늦게 도착한 답장', 15_000);
    expect(got.data).toMatchObject({ room: ROOM.room, channel_id: ROOM.channelId });
    await expiredRow.waitFor({ state: 'detached' });
    expect(await dash.getByRole('status').textContent()).toBe(`Dead letter #${expired.id}을(를) 원래 자리로 다시 보냈습니다.`);
    expect(await pendingIds()).not.toContain(expired.id);
    expect(await admin.ok('GET', `/admin/dead-letters/${expired.id}`)).toMatchObject({ status: 'replayed' });

    // An event the dispatcher refuses (not an analyze.v1): shown as rejected with the schema it failed, then 버리기.
    const badId = randomUUID();
    await publish(stack, n.events, 'analyze', { id: badId, type: 'analyze', version: 1, payload: { nonsense: true } }, {});
    const rejectedRow = table.locator('tbody tr', { hasText: n.dispatchQueue });
    await rejectedRow.waitFor({ timeout: 20_000 });
    expect(await rejectedRow.textContent()).toMatch(/거부됨 · schema analyze\.v1/);
    const rejected = (await admin.ok<{ items: DeadLetter[] }>('GET', '/admin/dead-letters?status=pending')).items.find((d) => d.messageId === badId)!;
    expect(rejected).toMatchObject({ reason: 'rejected', queue: n.dispatchQueue });
    await shot(dash, 'o6-dead-letter-rejected');
    // 재전송 of a refused message asks first, saying why it was refused and that it would come back; 취소 keeps it.
    await rejectedRow.getByRole('button', { name: '재전송' }).click();
    const ask = dash.getByRole('dialog', { name: '거부된 메시지를 재전송할까요?' });
    await ask.waitFor();
    expect(await ask.textContent()).toMatch(/schema analyze\.v1.*같은 이유로 다시 거부되어/s);
    await ask.getByRole('button', { name: '취소' }).click();
    await ask.waitFor({ state: 'hidden' });
    expect(await pendingIds()).toContain(rejected.id);
    await rejectedRow.getByRole('button', { name: '버리기' }).click();
    await rejectedRow.waitFor({ state: 'detached' });
    expect(await dash.getByRole('status').textContent()).toContain('을(를) 버렸습니다.');
    expect(await pendingIds()).not.toContain(rejected.id);
    const discarded = await admin.ok<{ items: DeadLetter[] }>('GET', '/admin/dead-letters?status=discarded');
    expect(discarded.items.map((d) => d.id)).toContain(rejected.id);
    // Nothing else was pending: the table gives way to the Korean empty note.
    await dash.getByText('대기 중인 dead letter 가 없습니다.').waitFor();
    await shot(dash, 'o7-dead-letters-empty');
    await ops.close();
  });
});

function replyOf(bot: { id: string; name: string }, text: string): EnvelopeOf<ReplyPayload> {
  const payload: ReplyPayload = { botId: bot.id, botName: bot.name, room: ROOM.room, channelId: ROOM.channelId, type: 'text', text, media: [] };
  return envelope(messages.reply, payload, randomUUID());
}

/** Publishes as the services do (durable, confirmed); returns the message id. */
async function publish(stack: Stack, exchange: string, key: string, body: { id: string; [field: string]: unknown }, opts: { expiration?: string; type?: string }): Promise<string> {
  const ch = await stack.amqp.createConfirmChannel();
  try {
    await new Promise<void>((resolve, reject) =>
      ch.publish(exchange, key, Buffer.from(JSON.stringify(body)), { persistent: true, messageId: body.id, contentType: 'application/json', ...opts }, (err) => (err ? reject(err) : resolve())),
    );
  } finally {
    await ch.close();
  }
  return body.id;
}
