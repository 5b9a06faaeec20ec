import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPhone, type Phone, type PhoneIdentity } from '../support/phone.js';
import { json } from '../support/http-stub.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Acceptance, end to end: a scripted phone speaking bridge v3.3 over TCP,
 * the management API, the gateway and the dispatcher on the real broker and
 * database, and the tenant's HTTP API (a local stub).
 */
describe('phone → gateway → dispatcher → tenant API → room', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let bot: { id: string; name: string; secretKey: string; salt: string };
  const phones: Phone[] = [];
  let logSeq = 1000;

  const identity = (deviceID: string): PhoneIdentity => ({ botName: bot.name, deviceID, secretKey: bot.secretKey, salt: bot.salt });

  async function phone(deviceID: string): Promise<Phone> {
    const p = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    phones.push(p);
    await p.handshake(identity(deviceID));
    return p;
  }

  beforeAll(async () => {
    stack = await startStack('phone-path', {
      '/weather': (req, res) => {
        const place = (req.json?.parameters?.[0] as string | undefined) ?? '?';
        json({ success: true, response: { type: 'text', text: `🌤️ ${place} 날씨: 맑음, 15°C`, buttons: [{ label: '자세히 보기', url: 'https://weather.example/' + encodeURIComponent(place) }] }, error: null, processing_time: 3 })(req, res);
      },
      '/orders': (req, res) => json({ text: `주문 ${String(req.json?.parameters?.join(','))} 조회됨` })(req, res),
      '/tenant-b': json({ text: 'B 테넌트의 답' }),
    });
    tenant = await TenantClient.signup(stack.api, 'owner@shop.example');
    bot = await tenant.ok('POST', '/bots', { name: 'LOA.i' });
    await tenant.ok('POST', '/commands', { command: '날씨', pattern: '^날씨\\s+(\\S+)', target: { type: 'http', url: stack.stub.url('/weather') } });
    await tenant.ok('POST', '/commands', { command: '주문 조회', target: { type: 'http', url: stack.stub.url('/orders') } });
  });

  afterAll(async () => {
    for (const p of phones) p.destroy();
    await stack?.close();
  });

  it('keeps a new phone pending with no reply, and answers it after approval', async () => {
    const p = await phone('android-main');
    const first = String(logSeq++);
    p.sendMessage({ room: '테스트방', channelId: '12345', text: '날씨 화도읍', logId: first });
    const verdict = await stack.done(() => true, 'verdict on the pending phone');
    expect(verdict.status).toBe('ignored');
    expect(p.replies()).toEqual([]);

    const devices = await tenant.ok<any[]>('GET', `/bots/${bot.id}/devices`);
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ status: 'pending' });

    await tenant.approveDevice(bot.id, 'android-main');
    p.sendMessage({ room: '테스트방', channelId: '12345', text: '날씨 화도읍', logId: String(logSeq++) });
    const reply = await p.nextPacket('messageResponse');
    expect(reply.text).toBe('🌤️ 화도읍 날씨: 맑음, 15°C\n자세히 보기: https://weather.example/%ED%99%94%EB%8F%84%EC%9D%8D');
    expect(reply.data).toMatchObject({ room: '테스트방', channel_id: '12345', message_type: 'text', content_encoding: 'base64' });

    const sent = stack.stub.requests.find((r) => r.path === '/weather')!;
    expect(sent.json).toMatchObject({
      command: '날씨',
      parameters: ['화도읍'],
      raw_text: '날씨 화도읍',
      room: '테스트방',
      channel_id: '12345',
      metadata: { device_id: 'android-main', bot: 'LOA.i' },
    });
    expect(sent.json.metadata.event_id).toMatch(/^[0-9a-f-]{36}$/);

    // The reply is published while its log row is stored (both before the ack): the row may land a moment later.
    const row = await waitFor(async () => (await tenant.ok<{ items: any[] }>('GET', '/logs')).items.find((l) => l.eventId === sent.json.metadata.event_id), {
      what: 'the call in the log',
    });
    expect(row).toMatchObject({ statusCode: 200 });
    expect(typeof row.responseTimeMs).toBe('number');
  });

  it('answers the legacy analyze form and multi-word commands the same way', async () => {
    const p = await phone('android-legacy');
    await tenant.approveDevice(bot.id, 'android-legacy');
    p.sendLegacyAnalyze({ room: '주문방', channelId: '777', text: '주문 조회 1234', logId: String(logSeq++) });
    expect(await p.nextReply()).toBe('주문 1234 조회됨');
  });

  it('answers once when two phones of one bot relay the same chat message', async () => {
    const a = await phone('android-a');
    const b = await phone('android-b');
    await tenant.approveDevice(bot.id, 'android-a');
    await tenant.approveDevice(bot.id, 'android-b');
    const logId = String(logSeq++);
    const before = stack.doneEvents.length;
    a.sendMessage({ room: '같은방', channelId: '555', text: '날씨 서울', logId });
    b.sendMessage({ room: '같은방', channelId: '555', text: '날씨 서울', logId });
    await stack.done((d) => stack.doneEvents.indexOf(d) >= before + 1, 'both relays decided');
    const verdicts = stack.doneEvents.slice(before).map((d) => d.status).sort();
    expect(verdicts).toEqual(['duplicate', 'replied']);
    const winner = a.replies().length ? a : b;
    await winner.nextPacket('messageResponse');
    expect(a.replies().length + b.replies().length).toBe(1);
    const { rows } = await stack.pool.query(`select count(*)::int as n from kb_api_logs l join kb_outbox o on o.event_id = l.event_id where o.log_id = $1`, [logId]);
    expect(rows[0].n).toBe(1);
  });

  it("never answers tenant A's rooms with tenant B's commands", async () => {
    const other = await TenantClient.signup(stack.api, 'other@shop.example', '다른 상점');
    await other.ok('POST', '/commands', { command: '재고', target: { type: 'http', url: stack.stub.url('/tenant-b') } });
    const p = await phone('android-iso');
    await tenant.approveDevice(bot.id, 'android-iso');
    const logId = String(logSeq++);
    const before = stack.doneEvents.length;
    p.sendMessage({ room: '테스트방', channelId: '12345', text: '재고 사과', logId });
    const verdict = await stack.done((d) => stack.doneEvents.indexOf(d) >= before, 'verdict');
    expect(verdict.status).toBe('no_match');
    expect(stack.stub.requests.some((r) => r.path === '/tenant-b')).toBe(false);
    expect(p.replies()).toEqual([]);
  });

  it('returns the reply to POST /messages?wait=1 from a bot server', async () => {
    const res = await tenant.call('POST', '/messages?wait=1', { botName: 'LOA.i', room: '웹방', channelId: 'web-1', sender: '홍길동', text: '날씨 부산' });
    expect(res.status).toBe(200);
    expect(res.body.reply).toEqual({ type: 'text', text: expect.stringContaining('🌤️ 부산 날씨') });
    const later = await tenant.ok('GET', `/messages/${res.body.eventId}`);
    expect(later).toMatchObject({ eventId: res.body.eventId, status: 'replied' });
  });
});
