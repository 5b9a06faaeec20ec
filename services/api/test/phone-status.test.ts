import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, insertDevice, signup, startApi, type Account, type Harness } from './harness.js';

/** The bot page's connection step and the top menu's badge, from the rows the gateway writes (issue 16). */
let h: Harness;
let owner: Account;
let other: Account;
let now = Date.now();

beforeAll(async () => {
  h = await startApi('api-phone-status', { clock: () => now });
  owner = await signup(h, 'phones-owner@example.com');
  other = await signup(h, 'phones-other@example.com');
});
afterAll(async () => {
  await h?.close();
});

describe('phone status', () => {
  it('is waiting until a phone is seen, connected while it is heard from, and lists pending phones of every bot', async () => {
    const a = (await as(h, owner)('POST', '/bots', { name: 'phones-a' })).json();
    const b = (await as(h, owner)('POST', '/bots', { name: 'phones-b' })).json();
    expect((await as(h, owner)('GET', `/bots/${a.id}/connection`)).json()).toEqual({ online: false, latest: null });
    expect((await as(h, owner)('GET', '/bots/pending-devices')).json()).toEqual([]);

    await insertDevice(h, a.id, 'phone-a1');
    await insertDevice(h, b.id, 'phone-b1');
    const seen = (await h.db.query(`select last_seen_at from devices where device_key = 'phone-a1'`)).rows[0].last_seen_at as Date;
    now = seen.getTime() + 1000;
    expect((await as(h, owner)('GET', `/bots/${a.id}/connection`)).json()).toMatchObject({ online: true, latest: { deviceKey: 'phone-a1', status: 'pending' } });
    const pending = (await as(h, owner)('GET', '/bots/pending-devices')).json();
    expect(pending.map((p: { botName: string; deviceKey: string }) => [p.botName, p.deviceKey])).toEqual([
      ['phones-a', 'phone-a1'],
      ['phones-b', 'phone-b1'],
    ]);
    // Three missed pings (90 s) later it is not connected; approved, it leaves the pending list.
    now = seen.getTime() + 90_000;
    expect((await as(h, owner)('GET', `/bots/${a.id}/connection`)).json()).toMatchObject({ online: false, latest: { deviceKey: 'phone-a1' } });
    await as(h, owner)('POST', `/bots/${a.id}/devices/phone-a1/approve`);
    expect((await as(h, owner)('GET', '/bots/pending-devices')).json().map((p: { deviceKey: string }) => p.deviceKey)).toEqual(['phone-b1']);

    // Another tenant sees none of it.
    expect((await as(h, other)('GET', '/bots/pending-devices')).json()).toEqual([]);
    expect((await as(h, other)('GET', `/bots/${a.id}/connection`)).statusCode).toBe(404);
  });
});
