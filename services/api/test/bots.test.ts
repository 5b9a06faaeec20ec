import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { as, insertDevice, insertRoom, observe, signup, startApi, type Account, type Harness, type Observed } from './harness.js';

let h: Harness;
let a: Account;
let b: Account;
let changes: Observed;
beforeAll(async () => {
  h = await startApi('api-bots');
  a = await signup(h, 'owner-a@example.com');
  b = await signup(h, 'owner-b@example.com');
  changes = await observe(h, 'changes', 'changed');
});
afterAll(async () => {
  await changes?.close();
  await h?.close();
});

/** Waits until a `changed` notice with these fields was published. */
async function changed(entity: string, botId: string | null, tenantId: string) {
  return waitFor(
    () => changes.messages.find((m) => m.body.payload.entity === entity && m.body.payload.botId === botId && m.body.payload.tenantId === tenantId),
    { what: `changed ${entity}` },
  );
}

describe('bots', () => {
  it('generates a key and salt, shows them once, and stores them sealed', async () => {
    const res = await as(h, a)('POST', '/bots', { name: 'LOA.i' });
    expect(res.statusCode).toBe(201);
    const bot = res.json();
    expect(bot).toMatchObject({ name: 'LOA.i', isActive: true, manualRoomApproval: false });
    expect(bot.secretKey).toMatch(/^[0-9a-f]{64}$/);
    expect(bot.salt).toMatch(/^[0-9a-f]{32}$/);

    const again = await as(h, a)('GET', `/bots/${bot.id}`);
    expect(again.statusCode).toBe(200);
    expect(again.body).not.toContain(bot.secretKey);
    expect(again.json()).not.toHaveProperty('secretKey');
    const list = await as(h, a)('GET', '/bots');
    expect(list.json().map((x: { id: string }) => x.id)).toEqual([bot.id]);
    expect(list.body).not.toContain(bot.salt);

    const { rows } = await h.db.query(`select secret_key_enc, salt_enc from bots where id = $1`, [bot.id]);
    expect(h.secrets.open(rows[0].secret_key_enc)).toBe(bot.secretKey);
    expect(h.secrets.open(rows[0].salt_enc)).toBe(bot.salt);
    await changed('bot', bot.id, a.me.tenant.id);
  });

  it('adopts an existing key and salt without ever storing them in clear', async () => {
    const secretKey = 'field-phone-secret-key-0123456789';
    const salt = 'field-phone-salt';
    const res = await as(h, a)('POST', '/bots', { name: 'adopted', secretKey, salt });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ secretKey, salt });
    const { rows } = await h.db.query(`select row_to_json(b)::text as t, secret_key_enc, salt_enc from bots b where id = $1`, [res.json().id]);
    expect(rows[0].t).not.toContain(secretKey);
    expect(rows[0].t).not.toContain(salt);
    expect(h.secrets.open(rows[0].secret_key_enc)).toBe(secretKey);
    expect(h.secrets.open(rows[0].salt_enc)).toBe(salt);
  });

  it('keeps names unique across tenants and within 1-100 characters', async () => {
    expect((await as(h, a)('POST', '/bots', { name: 'unique-bot' })).statusCode).toBe(201);
    const dup = await as(h, b)('POST', '/bots', { name: 'unique-bot' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('KB_ERR_BOT_NAME_TAKEN');
    expect((await as(h, a)('POST', '/bots', { name: '' })).json().error.code).toBe('KB_ERR_VALIDATION');
    expect((await as(h, a)('POST', '/bots', { name: 'x'.repeat(101) })).statusCode).toBe(400);
    // Renaming onto a taken name is refused the same way.
    const mine = (await as(h, b)('POST', '/bots', { name: 'b-bot' })).json();
    const rename = await as(h, b)('PATCH', `/bots/${mine.id}`, { name: 'unique-bot' });
    expect(rename.statusCode).toBe(409);
    expect(rename.json().error.code).toBe('KB_ERR_BOT_NAME_TAKEN');
  });

  it('edits and deletes a bot; another tenant sees none of it', async () => {
    const bot = (await as(h, a)('POST', '/bots', { name: 'editable' })).json();
    const patched = await as(h, a)('PATCH', `/bots/${bot.id}`, { name: 'edited', manualRoomApproval: true, isActive: false });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'edited', manualRoomApproval: true, isActive: false });
    expect((await as(h, a)('GET', `/bots/${bot.id}`)).json().name).toBe('edited');

    for (const [method, payload] of [['GET', undefined], ['PATCH', { name: 'stolen' }], ['DELETE', undefined]] as const) {
      const res = await as(h, b)(method, `/bots/${bot.id}`, payload);
      expect(res.statusCode, method).toBe(404);
      expect(res.json().error.code).toBe('KB_ERR_NOT_FOUND');
    }
    expect((await as(h, b)('GET', '/bots')).body).not.toContain(bot.id);

    expect((await as(h, a)('DELETE', `/bots/${bot.id}`)).statusCode).toBe(204);
    expect((await as(h, a)('GET', `/bots/${bot.id}`)).statusCode).toBe(404);
    const { rowCount } = await h.db.query(`select 1 from bots where id = $1`, [bot.id]);
    expect(rowCount).toBe(0);
  });
});

describe('devices and rooms', () => {
  it('lists phones and approves or blocks one by its deviceID, telling the caches', async () => {
    const bot = (await as(h, a)('POST', '/bots', { name: 'phones' })).json();
    // Longer than fastify's default 100-character parameter once URL-encoded.
    const deviceKey = `android id/with spaces+plus ${'폰'.repeat(30)}`;
    await insertDevice(h, bot.id, deviceKey);
    await insertDevice(h, bot.id, 'other-phone');

    const list = await as(h, a)('GET', `/bots/${bot.id}/devices`);
    expect(list.statusCode).toBe(200);
    const dev = list.json().find((d: { deviceKey: string }) => d.deviceKey === deviceKey);
    expect(dev).toMatchObject({
      status: 'pending',
      clientType: 'MessengerBotR',
      clientVersion: '3.3.3',
      ip: '10.0.0.2',
      info: 'Galaxy S10',
      rttMs: 42,
      monitoring: { battery: 88 },
      rejectedPackets: 0,
    });
    expect(dev.lastSeenAt).toBeTruthy();

    const url = `/bots/${bot.id}/devices/${encodeURIComponent(deviceKey)}`;
    const approved = await as(h, a)('POST', `${url}/approve`);
    expect(approved.statusCode).toBe(200);
    expect(approved.json().status).toBe('approved');
    let { rows } = await h.db.query(`select status from devices where bot_id = $1 and device_key = $2`, [bot.id, deviceKey]);
    expect(rows[0].status).toBe('approved');
    await changed('device', bot.id, a.me.tenant.id);

    expect((await as(h, a)('POST', `${url}/block`)).json().status).toBe('blocked');
    ({ rows } = await h.db.query(`select status from devices where bot_id = $1 and device_key = $2`, [bot.id, deviceKey]));
    expect(rows[0].status).toBe('blocked');
    // The other phone is untouched.
    ({ rows } = await h.db.query(`select status from devices where bot_id = $1 and device_key = 'other-phone'`, [bot.id]));
    expect(rows[0].status).toBe('pending');

    // Tenant B can neither list nor approve A's phones.
    expect((await as(h, b)('GET', `/bots/${bot.id}/devices`)).statusCode).toBe(404);
    expect((await as(h, b)('POST', `${url}/approve`)).statusCode).toBe(404);
    ({ rows } = await h.db.query(`select status from devices where bot_id = $1 and device_key = $2`, [bot.id, deviceKey]));
    expect(rows[0].status).toBe('blocked');
    expect((await as(h, a)('POST', `/bots/${bot.id}/devices/unknown/approve`)).statusCode).toBe(404);
  });

  it('approves and blocks rooms by channel id, telling the caches', async () => {
    const bot = (await as(h, a)('POST', '/bots', { name: 'rooms' })).json();
    await insertRoom(h, bot.id, '18446744073709551615');
    const list = await as(h, a)('GET', `/bots/${bot.id}/rooms`);
    expect(list.json()).toEqual([expect.objectContaining({ channelId: '18446744073709551615', name: '테스트방', status: 'pending' })]);

    const approved = await as(h, a)('POST', `/bots/${bot.id}/rooms/18446744073709551615/approve`);
    expect(approved.statusCode).toBe(200);
    expect(approved.json().status).toBe('approved');
    await changed('room', bot.id, a.me.tenant.id);
    expect((await as(h, a)('POST', `/bots/${bot.id}/rooms/18446744073709551615/block`)).json().status).toBe('blocked');
    const { rows } = await h.db.query(`select status from rooms where bot_id = $1`, [bot.id]);
    expect(rows[0].status).toBe('blocked');
    expect((await as(h, b)('POST', `/bots/${bot.id}/rooms/18446744073709551615/approve`)).statusCode).toBe(404);
  });
});
