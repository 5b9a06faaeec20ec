import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names, routingKeys, type DevicePresencePayload, type EnvelopeOf } from '@domaeka/broker';
import { json } from '../support/http-stub.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 16: the message that arrives while a new phone awaits approval. It
 * used to be lost (the dispatcher ignores a pending phone's events). Now the
 * dispatcher keeps the command and sends it on once the owner approves the
 * phone, and the room gets its answer once. A blocked phone's kept messages are never
 * answered. And the gateway tells the platform when a phone's connection
 * starts and stops counting (`device.presence`, the bot page's live step).
 */
describe('a pending phone: its first message answered once approved', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let bot: { id: string; name: string; secretKey: string; salt: string };
  const phones: Phone[] = [];
  const presence: DevicePresencePayload[] = [];
  let logSeq = 5000;
  const weather = (place: string) => `🌤️ ${place} 날씨: 맑음`;

  async function phone(deviceID: string): Promise<Phone> {
    const p = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    phones.push(p);
    await p.handshake({ botName: bot.name, deviceID, secretKey: bot.secretKey, salt: bot.salt });
    return p;
  }

  /** Sends a room message and waits for the dispatcher's verdict on it. */
  async function say(p: Phone, text: string, channelId = 'room-1') {
    const logId = String(logSeq++);
    const before = stack.doneEvents.length;
    p.sendMessage({ room: '단골방', channelId, text, logId });
    await stack.done((d) => stack.doneEvents.indexOf(d) >= before, `verdict on "${text}"`);
    return logId;
  }

  async function rowsOf(logId: string): Promise<{ outbox: number; logs: number }> {
    const { rows } = await stack.pool.query(
      `select (select count(*)::int from kb_outbox where log_id = $1) as outbox,
              (select count(*)::int from kb_api_logs l join kb_outbox o on o.event_id = l.event_id where o.log_id = $1) as logs`,
      [logId],
    );
    return rows[0];
  }

  beforeAll(async () => {
    stack = await startStack('pending-phone', {
      '/weather': (req, res) => json({ text: weather(String(req.json?.parameters?.[0] ?? '?')) })(req, res),
    });
    tenant = await TenantClient.signup(stack.api, 'owner@pending.example');
    bot = await tenant.ok('POST', '/bots', { name: '대기폰봇' });
    await tenant.ok('POST', '/commands', { command: '날씨', pattern: '^날씨\\s+(\\S+)', target: { type: 'http', url: stack.stub.url('/weather') } });
    const q = await stack.channel.assertQueue('', { exclusive: true, autoDelete: true });
    await stack.channel.bindQueue(q.queue, names(stack.env.brokerPrefix).telemetry, routingKeys.devicePresenceAll);
    await stack.channel.consume(q.queue, (m) => m && presence.push((JSON.parse(m.content.toString()) as EnvelopeOf<DevicePresencePayload>).payload), { noAck: true });
  });

  afterAll(async () => {
    for (const p of phones) p.destroy();
    await stack?.close();
  });

  it('keeps the message of a pending phone unanswered, then answers it once when the phone is approved', async () => {
    const p = await phone('android-new');
    const online = await waitFor(() => presence.find((e) => e.deviceKey === 'android-new' && e.online), { what: 'device.presence online' });
    expect(online).toMatchObject({ botId: bot.id, status: 'pending' });

    const first = await say(p, '날씨 화도읍');
    expect(stack.doneEvents.at(-1)!.status).toBe('ignored');
    await say(p, '안녕하세요 (not a command)');
    expect(p.replies()).toEqual([]);
    expect(await rowsOf(first)).toEqual({ outbox: 0, logs: 0 });

    await tenant.approveDevice(bot.id, 'android-new');
    expect(await p.nextReply()).toBe(weather('화도읍'));
    await waitFor(async () => (await rowsOf(first)).logs === 1 || undefined, { what: 'the kept message logged' });

    // Approving again finds nothing kept; a new message is answered as usual, and the kept one was answered once.
    await tenant.ok('POST', `/bots/${bot.id}/devices/android-new/approve`);
    const later = await say(p, '날씨 서울');
    expect(await p.nextReply((t) => t === weather('서울'))).toBe(weather('서울'));
    expect(p.replies()).toEqual([weather('화도읍'), weather('서울')]);
    expect(await rowsOf(first)).toEqual({ outbox: 1, logs: 1 });
    expect(await rowsOf(later)).toEqual({ outbox: 1, logs: 1 });
  });

  it('never answers what a blocked phone relayed while it was pending', async () => {
    const p = await phone('android-blocked');
    await waitFor(() => presence.find((e) => e.deviceKey === 'android-blocked' && e.online), { what: 'device.presence online' });
    const kept = await say(p, '날씨 부산', 'room-2');
    const deviceId = (await tenant.ok<any[]>('GET', `/bots/${bot.id}/devices`)).find((d) => d.deviceKey === 'android-blocked').id;
    const keeps = () => stack.dispatcher.held.devicesOf(bot.id).map((d) => d.deviceId);
    expect(keeps()).toContain(deviceId);
    await tenant.ok('POST', `/bots/${bot.id}/devices/android-blocked/block`);
    await waitFor(() => !keeps().includes(deviceId), { what: 'the dispatcher heard of the block' });
    // Unblocked later: what it relayed while pending went with the block.
    await tenant.ok('POST', `/bots/${bot.id}/devices/android-blocked/approve`);
    await say(p, '날씨 대구', 'room-2');
    expect(await p.nextReply()).toBe(weather('대구'));
    expect(p.replies()).toEqual([weather('대구')]);
    expect(await rowsOf(kept)).toEqual({ outbox: 0, logs: 0 });
  });

  it('says when a counted connection ends', async () => {
    const p = await phone('android-leaving');
    await waitFor(() => presence.find((e) => e.deviceKey === 'android-leaving' && e.online), { what: 'online' });
    await p.close();
    const gone = await waitFor(() => presence.find((e) => e.deviceKey === 'android-leaving' && !e.online), { what: 'offline' });
    expect(gone).toMatchObject({ botId: bot.id, status: 'pending' });
    expect(gone.tenantId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
