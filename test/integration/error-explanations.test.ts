import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomMessageFor } from '@domaeka/core';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 16, item 5 and the 실행/저장 part of item 6, through the API with a
 * real runner (Docker): a test run of each common Python mistake answers
 * the runtime's Korean sentence with its line beside the Python message;
 * a run of code the save refuses is refused in the same words, not run;
 * a room reads the tenant's own error reply (or the polite default), never
 * a line number, while the log keeps the explanation.
 */
let stack: Stack;
let a: TenantClient;

beforeAll(async () => {
  stack = await startStack('error-explanations', {}, { runner: true });
  a = await TenantClient.signup(stack.api, 'mistakes@shop.example');
  await waitFor(() => (stack.runner!.poolReady() > 0 ? true : undefined), { what: 'a warm sandbox' });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

interface RunError {
  code: string;
  message: string;
  line?: number;
  explanation?: { message: string; hint: string | null };
}

/** POST /runs, then GET /runs/:id until it ended; one at a time (the free plan runs two at once). */
async function run(code: string, input: Record<string, unknown> = { parameters: ['화도읍'] }, commandId?: number) {
  const { runId } = await a.ok<{ runId: string }>('POST', '/runs', { code, input, ...(commandId ? { commandId } : {}) });
  return waitFor(
    async () => {
      const r = await a.ok<{ status: string; error: RunError | null; output: string }>('GET', `/runs/${runId}`);
      return r.status === 'succeeded' || r.status === 'failed' ? r : undefined;
    },
    { what: `run ${runId} finished`, timeoutMs: 30_000 },
  );
}

const MISTAKES: [what: string, code: string, errorCode: string, line: number, sentence: string][] = [
  ['missing colon', 'def handle_command(params):\n    if params["sender"] == "홍길동"\n        return "안녕"\n    return "?"\n', 'KB_ERR_LINT', 2, '2번째 줄 끝에 콜론(:)이 빠졌습니다.'],
  ['indentation', 'def handle_command(params):\nreturn "안녕"\n', 'KB_ERR_LINT', 2, '2번째 줄에 들여쓰기가 빠졌습니다.'],
  ['undefined name', 'def handle_command(params):\n    city = params["parameters"][0]\n    return cty + " 날씨"\n', 'KB_ERR_USER_EXCEPTION', 3, "3번째 줄에서 쓴 이름 'cty'가 정의되어 있지 않습니다."],
  ['int + str', 'def handle_command(params):\n    price = 3000\n    return price + "원"\n', 'KB_ERR_USER_EXCEPTION', 3, '3번째 줄에서 숫자와 문자열을 + 로 더하려고 했습니다.'],
  ['missing key in params', 'def handle_command(params):\n    return params["city"] + " 날씨"\n', 'KB_ERR_USER_EXCEPTION', 2, "2번째 줄에서 params에 없는 키 'city'를 읽었습니다."],
  ['division by zero', 'def handle_command(params):\n    count = len(params["parameters"]) - 1\n    return str(100 / count)\n', 'KB_ERR_USER_EXCEPTION', 3, '3번째 줄에서 0으로 나누었습니다.'],
];

describe('a test run of a common mistake says it in one Korean sentence with the line', () => {
  for (const [what, code, errorCode, line, sentence] of MISTAKES) {
    it(what, async () => {
      const r = await run(code);
      expect(r.status).toBe('failed');
      expect(r.error).toMatchObject({ code: errorCode, line, explanation: { message: sentence, hint: expect.any(String) } });
      // The Python message (and traceback) stay beside it for the editor.
      expect(r.error!.message).not.toBe(sentence);
    });
  }

  it('a loop that never ends: the seconds in Korean and the line that was running', async () => {
    const loop = 'def handle_command(params):\n    n = 0\n    while n >= 0:\n        n += 1\n    return str(n)\n';
    const cmd = await a.ok<{ id: number }>('POST', '/commands', { command: '반복', timeoutMs: 1000, target: { type: 'sandbox', language: 'python', code: loop } });
    const r = await run(loop, {}, cmd.id);
    expect(r.error).toMatchObject({ code: 'KB_ERR_TIMEOUT', message: '1초 안에 끝나지 않았습니다 / timed out after 1000 ms' });
    expect([3, 4]).toContain(r.error!.line);
    expect(r.error!.explanation!.message).toBe(`1초 안에 끝나지 않았습니다. 시간이 다 됐을 때 ${r.error!.line}번째 줄을 실행하고 있었습니다.${r.error!.line === 3 ? ' 반복문이 끝나지 않았을 수 있습니다.' : ''}`);
  });
});

describe('실행 and 저장 apply the same lint', () => {
  it('a run of code the save refuses is refused in the same words, and nothing of it runs', async () => {
    const code = 'import os\n\ndef handle_command(params):\n    print("실행됨")\n    os.system("id")\n    return "실행 성공"\n';
    const save = await a.call('POST', '/commands', { command: '시스템', target: { type: 'sandbox', language: 'python', code } });
    expect(save.status).toBe(400);
    expect(save.body.error.code).toBe('KB_ERR_LINT');
    const finding = save.body.error.details.findings[0] as { message: string; line: number; column: number };

    const r = await run(code);
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ code: 'KB_ERR_LINT', message: finding.message, line: finding.line });
    expect(save.body.error.message).toBe(`${finding.line}번째 줄 ${finding.column}번째 칸: ${r.error!.message}`);
    expect(r.error!.explanation!.message).toBe(`1번째 줄: ${finding.message.split(' / ')[0]}`);
    expect(r.output).toBe('');
  });

  it('clean code still runs', async () => {
    const r = await run('import os\n\ndef handle_command(params):\n    return os.environ.get("NOPE", "안녕")\n');
    expect(r).toMatchObject({ status: 'succeeded', error: null });
  });
});

describe('what the room reads when the code fails', () => {
  const BROKEN = 'def handle_command(params):\n    total = 0\n    return str(100 / total)\n';
  const phones: Phone[] = [];
  let logSeq = 9000;

  afterAll(() => {
    for (const p of phones) p.destroy();
  });

  /** A tenant with a bot, an approved phone and the broken command; `errorReply` set before the room's first call. */
  async function shop(email: string, botName: string, errorReply: string | null) {
    const t = await TenantClient.signup(stack.api, email);
    if (errorReply !== null) expect((await t.ok('PUT', '/error-reply', { errorReply })).errorReply).toBe(errorReply.trim());
    const bot = await t.ok('POST', '/bots', { name: botName });
    await t.ok('POST', '/commands', { command: '계산', target: { type: 'sandbox', language: 'python', code: BROKEN } });
    const phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    phones.push(phone);
    await phone.handshake({ botName: bot.name, deviceID: `android-${botName}`, secretKey: bot.secretKey, salt: bot.salt });
    await t.approveDevice(bot.id, `android-${botName}`);
    return { t, phone };
  }

  it('the polite default, without a line number; the log keeps the Korean explanation and the line', async () => {
    const { t, phone } = await shop('default-reply@shop.example', 'LOA.default', null);
    expect(await t.ok('GET', '/error-reply')).toEqual({ errorReply: null, defaultReply: roomMessageFor('KB_ERR_USER_EXCEPTION'), maxChars: 200 });
    phone.sendMessage({ room: '손님방', channelId: '501', text: '계산', logId: String(logSeq++) });
    const reply = await phone.nextReply();
    expect(reply).toBe(roomMessageFor('KB_ERR_USER_EXCEPTION'));
    expect(reply).not.toMatch(/줄|line|Error/);
    const log = await waitFor(async () => (await t.ok<{ items: any[] }>('GET', '/logs')).items[0], { what: 'the failed call in the log' });
    expect(log.errorCode).toBe('KB_ERR_USER_EXCEPTION');
    expect(log.errorMessage).toMatch(/^3번째 줄에서 0으로 나누었습니다\. .*\nZeroDivisionError: division by zero\nTraceback/s);
    expect(log.errorMessage).toContain('File "<tenant>", line 3, in handle_command');
  });

  it("the tenant's own words when it set them", async () => {
    const own = '  지금은 계산이 어려워요. 가게로 전화 주세요! ☎️  ';
    const { phone } = await shop('own-reply@shop.example', 'LOA.own', own);
    phone.sendMessage({ room: '손님방', channelId: '502', text: '계산', logId: String(logSeq++) });
    expect(await phone.nextReply()).toBe(own.trim());
  });

  it('refuses an error reply that is too long or holds control characters', async () => {
    const long = await a.call('PUT', '/error-reply', { errorReply: '가'.repeat(201) });
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe('KB_ERR_VALIDATION');
    expect((await a.call('PUT', '/error-reply', { errorReply: '안녕\u0007' })).status).toBe(400);
    expect((await a.ok('PUT', '/error-reply', { errorReply: '   ' })).errorReply).toBeNull();
  });
});
