import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, insertDevice, signup, startApi, type Account, type Harness } from './harness.js';

let h: Harness;
let a: Account;
let b: Account;
beforeAll(async () => {
  h = await startApi('api-onboarding');
  a = await signup(h, 'onboarding-a@example.com');
  b = await signup(h, 'onboarding-b@example.com');
});
afterAll(async () => {
  await h?.close();
});

const state = async (who: Account) => {
  const res = await as(h, who)('GET', '/onboarding');
  expect(res.statusCode).toBe(200);
  return res.json();
};

describe('GET /onboarding', () => {
  it('ticks each step of the first-run checklist from the tenant’s own data, and only its own', async () => {
    expect(await state(a)).toEqual({
      bot: { done: false, botId: null },
      command: { done: false, commandId: null },
      phone: { done: false, pending: 0, botId: null },
      reply: { done: false, at: null },
    });

    const bot = (await as(h, a)('POST', '/bots', { name: 'onboarding-bot' })).json();
    const s = await state(a);
    expect(s.bot).toEqual({ done: true, botId: bot.id });
    // The phone step points at the bot to connect, before any phone is there.
    expect(s.phone).toEqual({ done: false, pending: 0, botId: bot.id });
    expect(s.command.done).toBe(false);

    const cmd = (await as(h, a)('POST', '/commands', { command: '날씨', target: { type: 'http', url: 'http://127.0.0.1:9999/w' } })).json();
    expect((await state(a)).command).toEqual({ done: true, commandId: cmd.id });

    // A phone handshook (the gateway writes the row): waiting for approval is not connected yet.
    await insertDevice(h, bot.id, 'first-phone');
    expect((await state(a)).phone).toEqual({ done: false, pending: 1, botId: bot.id });
    expect((await as(h, a)('POST', `/bots/${bot.id}/devices/first-phone/approve`)).statusCode).toBe(200);
    expect((await state(a)).phone).toEqual({ done: true, pending: 0, botId: bot.id });
    expect((await state(a)).reply).toEqual({ done: false, at: null });

    // The first room call, as the dispatcher logs it.
    await h.db.query(`insert into kb_api_logs (tenant_id, command_id, bot_id, status_code, created_at) values ($1, $2, $3, 200, '2026-12-07T03:04:05Z')`, [
      a.me.tenant.id,
      cmd.id,
      bot.id,
    ]);
    expect((await state(a)).reply).toEqual({ done: true, at: '2026-12-07T03:04:05.000Z' });

    // Another shop's checklist sees none of it.
    expect(await state(b)).toEqual({
      bot: { done: false, botId: null },
      command: { done: false, commandId: null },
      phone: { done: false, pending: 0, botId: null },
      reply: { done: false, at: null },
    });
  });

  it('counts a deleted command out, and a blocked phone neither as connected nor as waiting', async () => {
    const bot = (await as(h, b)('POST', '/bots', { name: 'onboarding-bot-b' })).json();
    const cmd = (await as(h, b)('POST', '/commands', { command: '메뉴', target: { type: 'http', url: 'http://127.0.0.1:9999/m' } })).json();
    expect((await as(h, b)('DELETE', `/commands/${cmd.id}`)).statusCode).toBe(204);
    await insertDevice(h, bot.id, 'blocked-phone');
    expect((await as(h, b)('POST', `/bots/${bot.id}/devices/blocked-phone/block`)).statusCode).toBe(200);
    const s = await state(b);
    expect(s.command).toEqual({ done: false, commandId: null });
    expect(s.phone).toEqual({ done: false, pending: 0, botId: bot.id });
  });

  it('needs a caller', async () => {
    expect((await h.api.app.inject({ method: 'GET', url: '/api/v1/onboarding' })).statusCode).toBe(401);
  });
});
