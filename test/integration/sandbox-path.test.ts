import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomMessageFor } from '@domaeka/core';
import { MIN_RUN_MS } from '@domaeka/broker';
import { CALL_OVERHEAD_MS } from '../../services/dispatcher/src/targets/sandbox-target.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Acceptance: a weather-like command written in Python (no network) is
 * created through the API and answers in the room through the whole path:
 * phone -> gateway -> dispatcher -> runner -> container -> phone. With no
 * runner alive the room hears KB_ERR_NO_RUNNER's Korean text once the call
 * waited for a runner as long as its deadline allowed.
 */
const WEATHER = `
from datetime import datetime
from zoneinfo import ZoneInfo

FORECAST = {"화도읍": ("맑음", 15), "서울": ("흐림", 12)}

def handle_command(params):
    place = params["parameters"][0] if params.get("parameters") else "서울"
    sky, temp = FORECAST.get(place, ("알 수 없음", 0))
    hour = datetime.now(ZoneInfo("Asia/Seoul")).hour
    print("weather for", place, "at", hour)
    return {
        "success": True,
        "response": {"type": "text", "text": f"🌤️ {place} 날씨: {sky}, {temp}°C",
                     "buttons": [{"label": "자세히 보기", "url": "https://weather.example/"}]},
        "error": None,
        "processing_time": 1,
    }
`;

/** Module state: a premium tenant's dedicated container keeps it, an ephemeral run starts over every time. */
const VISITS = `
visits = 0

def handle_command(params):
    global visits
    visits += 1
    return f"{params['sender']}님, {visits}번째 방문입니다"
`;

const execFileP = promisify(execFile);

describe('phone → gateway → dispatcher → runner → sandbox → room', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let phone: Phone;
  let logSeq = 5000;

  beforeAll(async () => {
    stack = await startStack('sandbox-path', {}, { runner: true });
    tenant = await TenantClient.signup(stack.api, 'python@shop.example');
    const bot = await tenant.ok('POST', '/bots', { name: 'LOA.py' });
    await tenant.ok('POST', '/commands', {
      command: '날씨',
      pattern: '^날씨\\s+(\\S+)',
      target: { type: 'sandbox', language: 'python', code: WEATHER },
    });
    await tenant.ok('POST', '/commands', {
      command: '고장',
      target: { type: 'sandbox', language: 'python', code: 'def handle_command(params):\n    return {}["없는 키"]\n' },
    });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'android-py', secretKey: bot.secretKey, salt: bot.salt });
    await tenant.approveDevice(bot.id, 'android-py');
  });

  afterAll(async () => {
    phone?.destroy();
    await stack?.close();
  });

  it('answers `날씨 화도읍` from tenant Python, and logs the call', async () => {
    phone.sendMessage({ room: '테스트방', channelId: '12345', text: '날씨 화도읍', logId: String(logSeq++) });
    expect(await phone.nextReply()).toBe('🌤️ 화도읍 날씨: 맑음, 15°C\n자세히 보기: https://weather.example/');

    // The reply is published while its log row is stored (both before the ack): the row may land a moment later.
    const row = await waitFor(async () => (await tenant.ok<{ items: any[] }>('GET', '/logs')).items.find((l) => l.responseData?.includes('화도읍')), {
      what: 'the call in the log',
    });
    expect(row).toMatchObject({ statusCode: null, errorCode: null });
    expect(JSON.parse(row.responseData)).toMatchObject({ type: 'text', text: '🌤️ 화도읍 날씨: 맑음, 15°C' });
    expect(JSON.parse(row.requestData)).toMatchObject({ command: '날씨', parameters: ['화도읍'], raw_text: '날씨 화도읍' });
  });

  it("tells the room politely in Korean when the tenant's code raises (no line: that is the log's)", async () => {
    phone.sendMessage({ room: '테스트방', channelId: '12345', text: '고장', logId: String(logSeq++) });
    // Issue 16: a shop's customer reads no line number; the log row keeps it with the Korean explanation.
    expect(await phone.nextReply()).toBe(roomMessageFor('KB_ERR_USER_EXCEPTION'));
    const rows = await waitFor(async () => {
      const r = await stack.pool.query(`select error_code, error_message from kb_api_logs where error_code is not null`);
      return r.rows.length ? r.rows : undefined;
    }, { what: 'the failed call in the log' });
    expect(rows[0]).toMatchObject({ error_code: 'KB_ERR_USER_EXCEPTION', error_message: expect.stringContaining('KeyError') });
    expect(rows[0].error_message).toMatch(/^2번째 줄에서 사전\(dict\)에 없는 키 '없는 키'를 읽었습니다\. /);
  });

  it("keeps module state between a premium tenant's room calls (dedicated container); a free tenant's runs start clean", async () => {
    const premium = await TenantClient.signup(stack.api, 'premium@shop.example');
    const bot = await premium.ok('POST', '/bots', { name: 'LOA.premium' });
    await premium.ok('POST', '/commands', { command: '방문', target: { type: 'sandbox', language: 'python', code: VISITS } });
    await tenant.ok('POST', '/commands', { command: '방문', target: { type: 'sandbox', language: 'python', code: VISITS } });
    // What an operator runs; the dispatcher hears of it through a `changed` event.
    const cli = await execFileP('npx', ['tsx', 'services/api/src/cli.ts', 'plan', 'premium@shop.example', 'premium'], { env: { ...process.env, ...stack.env.env } });
    expect(cli.stdout).toContain('premium');
    const phone2 = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    try {
      await phone2.handshake({ botName: bot.name, deviceID: 'android-premium', secretKey: bot.secretKey, salt: bot.salt });
      await premium.approveDevice(bot.id, 'android-premium');
      for (const n of [1, 2, 3]) {
        phone2.sendMessage({ room: '단골방', channelId: '777', text: '방문', sender: '김단골', logId: String(logSeq++) });
        expect(await phone2.nextReply()).toBe(`김단골님, ${n}번째 방문입니다`);
      }
      for (let i = 0; i < 2; i++) {
        phone.sendMessage({ room: '테스트방', channelId: '12345', text: '방문', sender: '홍길동', logId: String(logSeq++) });
        expect(await phone.nextReply()).toBe('홍길동님, 1번째 방문입니다');
      }
      const held = stack.runner!.dedicated();
      expect(held).toHaveLength(1);
      const me = await premium.ok<{ tenant: { id: string; plan: string } }>('GET', '/me');
      expect(me.tenant.plan).toBe('premium');
      expect(held[0]).toMatchObject({ tenantId: me.tenant.id, calls: 3 });
    } finally {
      phone2.destroy();
    }
  });

  it('answers KB_ERR_NO_RUNNER when no runner came back before the deadline (the call waited for one, not longer)', async () => {
    await stack.runner!.stop();
    // The dispatcher's own count of runner calls waiting now / given up at their deadline (its /metrics).
    const metric = async (pattern: RegExp) => Number(pattern.exec(await (await fetch(`http://127.0.0.1:${stack.dispatcher.httpPort}/metrics`)).text())?.[1] ?? 0);
    const waiting = () => metric(/^kb_runner_rpc_waiting(?:\{[^}]*\})? (\d+)$/m);
    const gaveUp = () => metric(/^kb_runner_rpc_waited_total\{[^}]*outcome="gave_up"[^}]*\} (\d+)$/m);
    const gaveUpBefore = await gaveUp();
    const started = Date.now();
    phone.sendMessage({ room: '테스트방', channelId: '12345', text: '날씨 서울', logId: String(logSeq++) });
    // The call waits for a runner (seen waiting before the room is answered), then its deadline gives it up.
    await waitFor(async () => (await waiting()) === 1, { what: 'the room call waiting for a runner' });
    expect(await phone.nextReply(undefined, 20_000)).toBe(roomMessageFor('KB_ERR_NO_RUNNER'));
    expect(await gaveUp()).toBe(gaveUpBefore + 1);
    expect(await waiting()).toBe(0);
    // The call (5 s timeout, deadline 7 s) waited for a runner until MIN_RUN_MS before its deadline, no sooner.
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000 + CALL_OVERHEAD_MS - MIN_RUN_MS - 100);
  });
});
