import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Acceptance (issue 4, item 3): saving version 2 of a command changes the
 * very next room reply, and rolling back to version 1 changes it back, with
 * no wait for a cache. Walked for a free tenant (a fresh ephemeral container
 * per call) and a premium one, whose dedicated container stays up and must
 * load the new code without a restart. Deactivating a command silences it;
 * activating it answers again.
 */
const code = (text: string) => `def handle_command(params):\n    return "${text}"\n`;

describe('command versions reach the room at once', () => {
  let stack: Stack;
  let admin: TenantClient;
  let logId = 5000;
  const phones: Phone[] = [];

  beforeAll(async () => {
    stack = await startStack('versions', {}, { runner: true });
    admin = await TenantClient.signup(stack.api, 'versions-admin@shop.example');
  }, 120_000);
  afterAll(async () => {
    for (const p of phones) p.destroy();
    await stack?.close();
  });

  async function tenantWithPhone(email: string, botName: string, plan: 'free' | 'premium') {
    const client = await TenantClient.signup(stack.api, email);
    if (plan === 'premium') {
      const me = await client.ok('GET', '/me');
      await admin.ok('PATCH', `/admin/tenants/${me.tenant.id}`, { planId: 'premium' });
    }
    const bot = await client.ok('POST', '/bots', { name: botName });
    const phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    phones.push(phone);
    await phone.handshake({ botName: bot.name, deviceID: `android-${botName}`, secretKey: bot.secretKey, salt: bot.salt });
    await client.approveDevice(bot.id, `android-${botName}`);
    const send = (text: string) => phone.sendMessage({ room: '버전방', channelId: '3300', text, logId: String(logId++) });
    const say = async (text: string) => {
      send(text);
      return phone.nextReply(() => true, 20_000);
    };
    const tenantId: string = (await client.ok('GET', '/me')).tenant.id;
    return { client, send, say, tenantId };
  }

  for (const plan of ['free', 'premium'] as const) {
    it(`${plan}: version 2 answers the next message, a rollback to version 1 the one after`, async () => {
      const { client, send, say, tenantId } = await tenantWithPhone(`versions-${plan}@shop.example`, `LOA.versions.${plan}`, plan);
      const cmd = await client.ok('POST', '/commands', { command: '버전', target: { type: 'sandbox', language: 'python', code: code('버전1') } });
      expect(cmd.version).toBe(1);
      expect(await say('버전')).toBe('버전1');

      const v2 = await client.ok('PATCH', `/commands/${cmd.id}`, { target: { type: 'sandbox', language: 'python', code: code('버전2') } });
      expect(v2.version).toBe(2);
      expect(await say('버전')).toBe('버전2');

      const back = await client.ok('POST', `/commands/${cmd.id}/rollback`, { version: 1 });
      expect(back).toMatchObject({ version: 3, target: { code: code('버전1') } });
      expect(await say('버전')).toBe('버전1');

      const versions = await client.ok<{ version: number }[]>('GET', `/commands/${cmd.id}/versions`);
      expect(versions.map((v) => v.version)).toEqual([3, 2, 1]);

      // Deactivated: the message is no command any more (the dispatcher's verdict: no match, no reply); active again: answered.
      await client.ok('PATCH', `/commands/${cmd.id}`, { isActive: false });
      // The verdicts on the three messages so far are in (dispatch.done may trail the reply), so the next one is ours.
      await waitFor(() => stack.doneEvents.filter((d) => d.tenantId === tenantId).length >= 3 || null, { what: 'the earlier verdicts' });
      const before = stack.doneEvents.length;
      send('버전');
      const verdict = await stack.done((d) => stack.doneEvents.indexOf(d) >= before && d.tenantId === tenantId, 'the verdict on the inactive command');
      expect(verdict).toMatchObject({ status: 'no_match', reply: null });
      await client.ok('PATCH', `/commands/${cmd.id}`, { isActive: true });
      expect(await say('버전')).toBe('버전1');
    });
  }
});
