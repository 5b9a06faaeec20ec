import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertReplyQueue, envelope, messages, names, type AnalyzePayload, type EnvelopeOf, type ReplyPayload } from '@domaeka/broker';
import { buildScheduler, type Scheduler } from '../../services/scheduler/src/app.js';
import { parseSchedulerConfig } from '../../services/scheduler/src/config.js';
import { json } from '../support/http-stub.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Schedules end to end (issue 15 item 3): made over the API, fired by two
 * scheduler instances on one moved clock (no waiting for the minute), run
 * by the dispatcher, and read by a scripted phone as `scheduleMessage` in
 * the chosen room; one kb_api_logs row per fire.
 */
describe('schedules: API -> scheduler x2 -> dispatcher -> scheduleMessage', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let bot: { id: string; name: string; secretKey: string; salt: string };
  let commandId: number;
  let phone: Phone;
  const schedulers: Scheduler[] = [];
  let now = 0;
  const MINUTE = 60_000;

  const scheduleTexts = () => phone.packets.filter((p) => p.event === 'scheduleMessage').map((p) => p.text);
  const tickBoth = () => Promise.all(schedulers.map((s) => s.tick()));
  const fires = async (scheduleId: string) =>
    (await stack.pool.query<{ fire_at: Date; state: string; event_id: string; claimed_by: string }>(
      `select fire_at, state, event_id::text, claimed_by from kb_schedule_fires where schedule_id = $1 order by fire_at`,
      [scheduleId],
    )).rows;

  beforeAll(async () => {
    stack = await startStack('schedules', {
      '/notice': (req, res) => {
        const s = req.json?.metadata?.schedule as { label?: string } | undefined;
        json({ text: s ? `📢 ${String(req.json?.raw_text)} (${s.label})` : `공지 명령: ${String(req.json?.raw_text)}` })(req, res);
      },
    });
    tenant = await TenantClient.signup(stack.api, 'owner@schedule.example');
    bot = await tenant.ok('POST', '/bots', { name: 'SCHED.bot' });
    commandId = (await tenant.ok<{ id: number }>('POST', '/commands', { command: '공지', target: { type: 'http', url: stack.stub.url('/notice') } })).id;
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'sched-phone', secretKey: bot.secretKey, salt: bot.salt });
    await tenant.approveDevice(bot.id, 'sched-phone');
    // The room becomes known (and approved) the way rooms do: a message from it.
    phone.sendMessage({ room: '공지방', channelId: '777', text: '공지 안녕', logId: '1' });
    expect(await phone.nextReply()).toBe('공지 명령: 공지 안녕');
    const e = { ...stack.env.env, SCHEDULER_HTTP_PORT: '0', SCHEDULER_TICK_MS: '60000', SCHEDULER_REPUBLISH_AFTER_MS: '15000' };
    for (const id of ['sched-a', 'sched-b']) {
      const s = buildScheduler(parseSchedulerConfig(e), { clock: () => now, instanceId: id });
      await s.start();
      schedulers.push(s);
    }
  });

  afterAll(async () => {
    phone?.destroy();
    for (const s of schedulers) await s.stop().catch(() => undefined);
    await stack?.close();
  });

  it('previews phrases and cron in Korean, and refuses what it cannot read in Korean', async () => {
    const p = await tenant.ok('POST', '/schedules/preview', { phrase: '평일 18시' });
    expect(p).toMatchObject({ cron: '0 18 * * 1-5', label: '평일 오후 6시' });
    expect(p.next).toHaveLength(5);
    expect(p.nextKst.every((t: string) => t.endsWith('18:00'))).toBe(true);
    expect(await tenant.ok('POST', '/schedules/preview', { cron: '30 9 1 * *' })).toMatchObject({ label: '매월 1일 오전 9시 30분' });
    const bad = await tenant.call('POST', '/schedules/preview', { phrase: '가끔 생각날 때' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'KB_ERR_INVALID_SCHEDULE' });
    expect(bad.body.error.message).toMatch(/이해하지 못했습니다/);
    expect((await tenant.call('POST', '/schedules/preview', { cron: '0 9 30 2 *' })).body.error.message).toMatch(/오지 않는 날짜/);
  });

  it("takes only the tenant's approved rooms and its own commands", async () => {
    const choices = await tenant.ok<any[]>('GET', '/schedules/rooms');
    expect(choices).toEqual([{ botId: bot.id, botName: 'SCHED.bot', room: '공지방', channelId: '777' }]);
    const unknownRoom = await tenant.call('POST', '/schedules', { commandId, phrase: '매일 오전 9시', rooms: [{ botId: bot.id, channelId: '999' }] });
    expect(unknownRoom.status).toBe(400);
    expect(unknownRoom.body.error.message).toMatch(/승인한 방이 아닙니다/);
    const other = await TenantClient.signup(stack.api, 'other@schedule.example');
    const stolen = await other.call('POST', '/schedules', { commandId, phrase: '매일 오전 9시', rooms: [{ botId: bot.id, channelId: '777' }] });
    expect(stolen.status).toBe(404);
    expect((await tenant.call('POST', '/schedules', { commandId, phrase: '매일 오전 9시', rooms: [] })).body.error.message).toMatch(/하나 이상/);
  });

  it('fires each period exactly once across two schedulers; the phone reads scheduleMessage in the room; one log row per fire', async () => {
    const created = await tenant.ok('POST', '/schedules', { commandId, phrase: '1분마다', rooms: [{ botId: bot.id, channelId: '777' }], input: '오늘의 공지' });
    expect(created).toMatchObject({ cron: '* * * * *', label: '매분', enabled: true, input: '오늘의 공지', rooms: [{ botId: bot.id, botName: 'SCHED.bot', room: '공지방', channelId: '777' }] });
    expect(created.missedFirePolicy.ko).toMatch(/10분/);
    const first = Date.parse(created.nextFireAt);

    for (let period = 0; period < 4; period++) {
      now = first + period * MINUTE + 400;
      await tickBoth();
      await waitFor(() => scheduleTexts().length === period + 1, { what: `scheduleMessage of period ${period}` });
    }
    expect(scheduleTexts()).toEqual(Array(4).fill('📢 오늘의 공지 (매분)'));
    const msg = phone.packets.find((p) => p.event === 'scheduleMessage')!;
    expect(msg.data).toMatchObject({ room: '공지방', channel_id: '777', bot_name: 'SCHED.bot', message_type: 'text', content_encoding: 'base64' });

    const rows = await fires(created.id);
    expect(rows.map((r) => r.fire_at.getTime())).toEqual([0, 1, 2, 3].map((i) => first + i * MINUTE));
    expect(new Set(rows.map((r) => r.state))).toEqual(new Set(['published']));
    // The target got the schedule input and marker.
    const calls = stack.stub.requests.filter((r) => r.path === '/notice' && r.json?.metadata?.schedule);
    expect(calls).toHaveLength(4);
    expect(calls[0]!.json).toMatchObject({ command: '공지', raw_text: '오늘의 공지', parameters: ['오늘의', '공지'], room: '공지방', channel_id: '777' });
    expect(calls[0]!.json.metadata).toMatchObject({ source: 'schedule', schedule: { schedule_id: created.id, fire_at: new Date(first).toISOString(), label: '매분' } });
    const logs = await waitFor(async () => {
      const items = (await tenant.ok<{ items: any[] }>('GET', '/logs')).items.filter((l) => l.source === 'schedule');
      return items.length === 4 && items;
    }, { what: 'one log row per fire' });
    expect(new Set(logs.map((l: any) => l.eventId))).toEqual(new Set(rows.map((r) => r.event_id)));

    const detail = await tenant.ok('GET', `/schedules/${created.id}`);
    expect(detail.recentFires).toHaveLength(4);
    expect(detail.recentFires[0]).toMatchObject({ state: 'published', stateLabel: '실행됨', outcome: { errorCode: null } });
  });

  it('a fire claimed but never confirmed published is published again and still runs once', async () => {
    const [schedule] = (await tenant.ok('GET', '/schedules')).items;
    const [last] = (await fires(schedule.id)).slice(-1);
    const republishedBefore = stack.dispatcher.counters.republished;
    // As if its claimer died between commit and confirm, long ago.
    await stack.pool.query(`update kb_schedule_fires set state = 'claimed', claimed_at = $2 where event_id = $1`, [last!.event_id, new Date(now - 60 * MINUTE)]);
    await tickBoth();
    await waitFor(() => stack.dispatcher.counters.republished > republishedBefore, { what: 'the republished fire answered from the outbox' });
    expect((await fires(schedule.id)).find((f) => f.event_id === last!.event_id)!.state).toBe('published');
    expect(stack.stub.requests.filter((r) => r.path === '/notice' && r.json?.metadata?.schedule)).toHaveLength(4);
    const { rows } = await stack.pool.query(`select count(*)::int as n from kb_api_logs where source = 'schedule'`);
    expect(rows[0].n).toBe(4);
  });

  it('after downtime only the latest period within 10 minutes runs; older ones are recorded as skipped', async () => {
    const [schedule] = (await tenant.ok('GET', '/schedules')).items;
    const before = scheduleTexts().length;
    // A fire row from 40 days ago: history past the retention (30 days), purged by the next hourly sweep.
    await stack.pool.query(`insert into kb_schedule_fires (schedule_id, fire_at, event_id, state, claimed_at) values ($1, $2, gen_random_uuid(), 'published', $2)`, [
      schedule.id,
      new Date(now - 40 * 24 * 60 * MINUTE),
    ]);
    // The schedulers were "down" for 3 hours: 180 periods owed.
    now += 3 * 60 * MINUTE;
    await tickBoth();
    await waitFor(() => scheduleTexts().length === before + 1, { what: 'the latest missed period' });
    const detail = await tenant.ok('GET', `/schedules/${schedule.id}`);
    expect(detail.recentFires[0]).toMatchObject({ state: 'published' });
    expect(detail.recentFires[1]).toMatchObject({ state: 'skipped', stateLabel: '건너뜀 (놓친 실행)' });
    const { rows } = await stack.pool.query(`select state, count(*)::int as n from kb_schedule_fires where schedule_id = $1 group by state order by state`, [schedule.id]);
    // 5 fires (the 40-day-old row purged), 100 skipped periods recorded (the newest of 179).
    expect(rows).toEqual([
      { state: 'published', n: 5 },
      { state: 'skipped', n: 100 },
    ]);
    expect(Date.parse(detail.nextFireAt)).toBeGreaterThan(now);
  });

  it('disables, edits and deletes; another tenant cannot see it', async () => {
    const [schedule] = (await tenant.ok('GET', '/schedules')).items;
    const off = await tenant.ok('PATCH', `/schedules/${schedule.id}`, { enabled: false });
    expect(off).toMatchObject({ enabled: false, nextFireAt: null });
    const edited = await tenant.ok('PATCH', `/schedules/${schedule.id}`, { phrase: '주말 오전 10시', enabled: true, input: '주말 공지' });
    expect(edited).toMatchObject({ cron: '0 10 * * 0,6', label: '주말 오전 10시', input: '주말 공지' });
    expect(edited.nextFireAtKst).toMatch(/ 10:00$/);
    const other = await TenantClient.signup(stack.api, 'third@schedule.example');
    expect((await other.call('GET', `/schedules/${schedule.id}`)).status).toBe(404);
    expect((await other.call('DELETE', `/schedules/${schedule.id}`)).status).toBe(404);
    expect((await other.ok('GET', '/schedules')).items).toEqual([]);
    expect((await tenant.call('DELETE', `/schedules/${schedule.id}`)).status).toBe(204);
    expect((await tenant.call('GET', `/schedules/${schedule.id}`)).status).toBe(404);
  });

  it("an external bot server's room gets the schedule's message on its reply queue, marked kind: schedule", async () => {
    const route = `ext.${bot.id}`;
    const queue = await assertReplyQueue(stack.channel, stack.env.brokerPrefix, route);
    const got: EnvelopeOf<ReplyPayload>[] = [];
    await stack.channel.consume(queue, (m) => {
      if (!m) return;
      got.push(JSON.parse(m.content.toString()) as EnvelopeOf<ReplyPayload>);
      stack.channel.ack(m);
    });
    // The bot server's room becomes known the way its rooms do: a verified event from it (the verifier's output, published here).
    const payload: AnalyzePayload = {
      source: 'ingress', botId: bot.id, botName: bot.name, deviceId: null, deviceKey: 'server-1', room: '서버방', channelId: 'ext-1',
      sender: '손님', senderHash: null, text: '공지 서버', isGroupChat: true, isMention: false, logId: 'ext-log-1', sentAt: null, replyRoute: route,
    };
    stack.channel.publish(names(stack.env.brokerPrefix).events, 'analyze', Buffer.from(JSON.stringify(envelope(messages.analyze, payload))), { persistent: true });
    await waitFor(() => got.length === 1, { what: 'the answer on the bot server queue' });
    expect(got[0]!.payload).toMatchObject({ room: '서버방', text: '공지 명령: 공지 서버' });
    expect(got[0]!.payload.kind).toBeUndefined();

    const created = await tenant.ok('POST', '/schedules', { commandId, phrase: '매시 정각', rooms: [{ botId: bot.id, channelId: 'ext-1' }, { botId: bot.id, channelId: '777' }], input: '서버 공지' });
    const phoneBefore = scheduleTexts().length;
    now = Date.parse(created.nextFireAt) + 200;
    await tickBoth();
    await waitFor(() => got.length === 2, { what: 'the schedule message on the bot server queue' });
    expect(got[1]!.payload).toMatchObject({ kind: 'schedule', room: '서버방', channelId: 'ext-1', type: 'text', text: '📢 서버 공지 (매시 정각)' });
    // The same fire reached the phone's room too: two rooms, one call, one log row.
    await waitFor(() => scheduleTexts().length === phoneBefore + 1, { what: "the phone room's copy" });
    expect(scheduleTexts().at(-1)).toBe('📢 서버 공지 (매시 정각)');
    const [fire] = await fires(created.id);
    const logged = await waitFor(async () => {
      const { rows } = await stack.pool.query<{ n: number }>(`select count(*)::int as n from kb_api_logs where source = 'schedule' and event_id = $1`, [fire!.event_id]);
      return rows[0]!.n > 0 && rows[0]!.n;
    }, { what: "the fire's log row" });
    expect(logged).toBe(1);
    // Each room's copy has its own id (two rooms on one phone are two messages); neither is the fire's event id.
    expect(got[1]!.id).not.toBe(fire!.event_id);
  });
});
