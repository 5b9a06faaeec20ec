import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/http-stub.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';

/**
 * Issue 13, hole 8 (and hole 7's bot secret length): `SECA-BOT-1`, `secA-bot-1 `
 * (trailing space) and `secA-bot-1\u200b` registered beside `secA-bot-1` and phones
 * reached them; command words took zero-width and bidi-override characters; a
 * 1-character adopted bot secret was accepted. Real stack: API, gateway, dispatcher.
 */
describe('hole 8: look-alike bot names and command words; hole 7: bot secret length', () => {
  let stack: Stack;
  let a: TenantClient;
  let b: TenantClient;
  let bot: { id: string; name: string; secretKey: string; salt: string };
  const phones: Phone[] = [];

  const status = async (who: TenantClient, method: 'POST' | 'PATCH', url: string, body: unknown) => {
    const r = await who.call(method, url, body);
    return { status: r.status, code: r.body?.error?.code as string | undefined, message: r.body?.error?.message as string | undefined };
  };

  beforeAll(async () => {
    stack = await startStack('h13-names', { '/h': json({ text: '정상' }) });
    a = await TenantClient.signup(stack.api, 'h13-names-a@shop.example');
    b = await TenantClient.signup(stack.api, 'h13-names-b@shop.example');
    bot = await a.ok('POST', '/bots', { name: 'secA-bot-1' });
  });

  afterAll(async () => {
    for (const p of phones) p.destroy();
    await stack?.close();
  });

  it('refuses the three reported look-alikes (and more) beside secA-bot-1, from any tenant', async () => {
    const got: Record<string, unknown> = {};
    for (const [who, name] of [
      [b, 'SECA-BOT-1'],
      [a, 'secA-bot-1 '],
      [b, 'secA-bot-1\u200b'],
      [b, ' secA-bot-1'],
      [b, 'ｓｅｃＡ－ｂｏｔ－１'],
      [b, 'secA-bot-1\u202e'],
      [b, 'sec\u2066A-bot-1'],
      [b, 'secA\u00adbot-1'],
      [b, '\ufeffsecA-bot-1'],
    ] as const) {
      const r = await status(who, 'POST', '/bots', { name });
      got[JSON.stringify(name)] = `${r.status} ${r.code}`;
    }
    expect(got).toEqual({
      '"SECA-BOT-1"': '409 KB_ERR_BOT_NAME_TAKEN',
      '"secA-bot-1 "': '409 KB_ERR_BOT_NAME_TAKEN',
      '"secA-bot-1\u200b"': '400 KB_ERR_VALIDATION',
      '" secA-bot-1"': '409 KB_ERR_BOT_NAME_TAKEN',
      '"ｓｅｃＡ－ｂｏｔ－１"': '409 KB_ERR_BOT_NAME_TAKEN',
      '"secA-bot-1\u202e"': '400 KB_ERR_VALIDATION',
      '"sec\u2066A-bot-1"': '400 KB_ERR_VALIDATION',
      '"secA\u00adbot-1"': '400 KB_ERR_VALIDATION',
      '"\ufeffsecA-bot-1"': '400 KB_ERR_VALIDATION',
    });
    // A rename cannot take a look-alike either; the bot's own name in other case is its own.
    const other = await b.ok('POST', '/bots', { name: 'b-bot' });
    expect(await status(b, 'PATCH', `/bots/${other.id}`, { name: 'SecA-Bot-1' })).toMatchObject({ status: 409, code: 'KB_ERR_BOT_NAME_TAKEN' });
    expect(await status(b, 'PATCH', `/bots/${other.id}`, { name: 'b\u200b-bot' })).toMatchObject({ status: 400, code: 'KB_ERR_VALIDATION' });
    expect((await b.ok('PATCH', `/bots/${other.id}`, { name: 'B-Bot' })).name).toBe('B-Bot');
    // Stored as normalised (NFKC, trimmed): what a phone must send is what the API shows.
    expect((await b.ok('POST', '/bots', { name: '  ｃａｆｅ  봇 ' })).name).toBe('cafe  봇');
    const names = (await stack.pool.query('select name from bots order by created_at')).rows.map((r) => r.name);
    expect(names).toEqual(['secA-bot-1', 'B-Bot', 'cafe  봇']);
    // Korean first in the refusal.
    const refused = await status(b, 'POST', '/bots', { name: 'x\u200by' });
    expect(refused.message).toMatch(/^[가-힣]/);
  });

  it('a phone reaches only the exact registered name: a look-alike handshake is refused as an unknown bot', async () => {
    for (const [name, success] of [
      ['secA-bot-1', true],
      ['SECA-BOT-1', false],
      ['secA-bot-1 ', false],
      ['secA-bot-1\u200b', false],
    ] as const) {
      const phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
      phones.push(phone);
      const hello = await phone.handshake({ botName: name, deviceID: `dev-${phones.length}`, secretKey: bot.secretKey, salt: bot.salt });
      expect({ name, success: hello.success }).toEqual({ name, success });
    }
  });

  it('refuses command words with zero-width, bidi or other invisible characters, and stores NFKC words', async () => {
    const target = { type: 'http', url: stack.stub.url('/h') };
    const got: Record<string, string> = {};
    for (const command of ['날씨\u200b', '\u202e날씨', '주문\u2066 조회', '날\u200d씨', '날씨\u2060', '\u061c날씨', '날씨\u0007']) {
      const r = await status(a, 'POST', '/commands', { command, target });
      got[JSON.stringify(command)] = `${r.status} ${r.code}`;
    }
    expect(Object.values(got).every((v) => v === '400 KB_ERR_VALIDATION'), JSON.stringify(got)).toBe(true);
    const ok = await a.ok('POST', '/commands', { command: '  ｗｅａｔｈｅｒ　 서울 ', target });
    expect(ok.command).toBe('weather 서울');
    const saved = await a.ok('POST', '/commands', { command: '영업시간', target });
    expect(await status(a, 'PATCH', `/commands/${saved.id}`, { command: '영업\u200b시간' })).toMatchObject({ status: 400, code: 'KB_ERR_VALIDATION' });
    expect((await a.ok('GET', '/commands')).map((c: { command: string }) => c.command).sort()).toEqual(['weather 서울', '영업시간']);
  });

  it('refuses a short adopted bot secret or salt (Korean first), and takes a pair of the minimum length', async () => {
    const short = await status(a, 'POST', '/bots', { name: 'adopted-1', secretKey: 'k', salt: 's' });
    expect(short).toMatchObject({ status: 400, code: 'KB_ERR_VALIDATION' });
    expect(short.message).toMatch(/^[가-힣]/);
    expect(await status(a, 'POST', '/bots', { name: 'adopted-1', secretKey: 'k'.repeat(15), salt: 's'.repeat(8) })).toMatchObject({ status: 400 });
    expect(await status(a, 'POST', '/bots', { name: 'adopted-1', secretKey: 'k'.repeat(16), salt: 's'.repeat(7) })).toMatchObject({ status: 400 });
    expect(await status(a, 'POST', `/bots/${bot.id}/rotate-secret`, { secretKey: 'k', salt: 's' })).toMatchObject({ status: 400, code: 'KB_ERR_VALIDATION' });
    const adopted = await a.ok('POST', '/bots', { name: 'adopted-1', secretKey: 'k'.repeat(16), salt: 's'.repeat(8) });
    expect(adopted).toMatchObject({ secretKey: 'k'.repeat(16), salt: 's'.repeat(8) });
  });
});
