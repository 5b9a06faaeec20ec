import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names, routingKeys, type ChangedPayload, type EnvelopeOf } from '@domaeka/broker';
import { createLogger, roomMessageFor } from '@domaeka/core';
import { json } from '../support/http-stub.js';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Acceptance (issue 4, item 6): a secret set by the tenant is read by its
 * code via `os.environ` and used in an HTTP target header; after creation it
 * never appears in any API response, database row or log line, nor to
 * another tenant's code; once deleted, the next call no longer sees it.
 *
 * The code answers with the value's length, first two characters and
 * sha256 prefix: proof that the exact value arrived, without putting the
 * value itself into the reply (which is stored in the outbox and the log).
 */
const SECRET = `wk-${randomBytes(16).toString('hex')}`;
const REPLACED = `wk2-${randomBytes(16).toString('hex')}`;
const fingerprint = (v: string) => `길이 ${v.length}, 앞 ${v.slice(0, 2)}, sha256 ${createHash('sha256').update(v).digest('hex').slice(0, 16)}`;

const ENV_CODE = `
import hashlib
import os

def handle_command(params):
    v = os.environ.get("WEATHER_KEY")
    if v is None:
        return "WEATHER_KEY 없음"
    return f"길이 {len(v)}, 앞 {v[:2]}, sha256 {hashlib.sha256(v.encode()).hexdigest()[:16]}"
`;

const execFileP = promisify(execFile);

describe('tenant secrets: os.environ in sandbox code, {{secret:NAME}} in HTTP headers, never shown again', () => {
  let stack: Stack;
  let a: TenantClient;
  let phoneA: Phone;
  let logSeq = 7000;
  /** Every log line every service wrote (debug level), as JSON text. */
  const logLines: string[] = [];
  /** Every API answer the tests saw after the secret was created. */
  const answers: string[] = [];
  const changes: ChangedPayload[] = [];

  const seen = <T>(body: T): T => {
    answers.push(JSON.stringify(body));
    return body;
  };
  const say = async (phone: Phone, text: string, channelId = '555'): Promise<string> => {
    phone.sendMessage({ room: '비밀방', channelId, text, logId: String(logSeq++) });
    return phone.nextReply();
  };
  async function tenantWithPhone(email: string, botName: string): Promise<{ client: TenantClient; phone: Phone; tenantId: string }> {
    const client = await TenantClient.signup(stack.api, email);
    const bot = await client.ok('POST', '/bots', { name: botName });
    const phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: `android-${botName}`, secretKey: bot.secretKey, salt: bot.salt });
    await client.approveDevice(bot.id, `android-${botName}`);
    const me = await client.ok<{ tenant: { id: string } }>('GET', '/me');
    return { client, phone, tenantId: me.tenant.id };
  }
  /** The dispatcher hears of a secret change on the same exchange at the same moment as this tap. */
  const secretsChanged = (tenantId: string, after: number) =>
    waitFor(() => changes.slice(after).find((c) => c.entity === 'secrets' && c.tenantId === tenantId), { what: `changed {secrets} of ${tenantId}` });

  beforeAll(async () => {
    const sink = { write: (line: string) => void logLines.push(line) };
    stack = await startStack(
      'secrets',
      { '/weather': (req, res) => json({ text: req.headers['x-api-key'] ? '열쇠 받음' : '열쇠 없음' })(req, res) },
      { runner: true, logger: (service) => createLogger(service, 'debug', sink) },
    );
    const q = await stack.channel.assertQueue('', { exclusive: true, autoDelete: true });
    await stack.channel.bindQueue(q.queue, names(stack.env.brokerPrefix).changes, routingKeys.changed);
    await stack.channel.consume(q.queue, (m) => m && changes.push((JSON.parse(m.content.toString()) as EnvelopeOf<ChangedPayload>).payload), { noAck: true });

    const tenant = await tenantWithPhone('secrets-a@shop.example', 'LOA.secret-a');
    a = tenant.client;
    phoneA = tenant.phone;
    await a.ok('POST', '/commands', { command: '비밀', target: { type: 'sandbox', language: 'python', code: ENV_CODE } });
    await a.ok('POST', '/commands', {
      command: '날씨',
      target: { type: 'http', url: stack.stub.url('/weather'), headers: { 'X-Api-Key': '{{secret:WEATHER_KEY}}', 'X-Static': 'plain' } },
    });
  });

  afterAll(async () => {
    phoneA?.destroy();
    await stack?.close();
  });

  it('refuses bad names, bad values, unknown names and the 51st secret with clear codes', async () => {
    const bad = async (body: unknown, code: string, status = 400) => {
      const r = await a.call('POST', '/secrets', body);
      expect([r.status, r.body.error.code]).toEqual([status, code]);
      return r.body.error.message as string;
    };
    await bad({ name: 'weather_key', value: 'x' }, 'KB_ERR_SECRET_NAME');
    await bad({ name: '1KEY', value: 'x' }, 'KB_ERR_SECRET_NAME');
    await bad({ name: `K${'A'.repeat(64)}`, value: 'x' }, 'KB_ERR_SECRET_NAME');
    expect(await bad({ name: 'PYTHONPATH', value: 'x' }, 'KB_ERR_SECRET_NAME')).toContain('reserved');
    await bad({ name: 'KB_RUNTIME_SOCKET', value: 'x' }, 'KB_ERR_SECRET_NAME');
    await bad({ name: 'EMPTY', value: '' }, 'KB_ERR_SECRET_VALUE');
    // A NUL never reaches the secret rules: no request body may carry one (PostgreSQL text cannot).
    await bad({ name: 'NUL', value: 'a\0b' }, 'KB_ERR_INVALID_BODY');
    const big = 'ㄱ'.repeat(1366); // 4,098 bytes in UTF-8
    expect(await bad({ name: 'BIG', value: big }, 'KB_ERR_SECRET_VALUE')).not.toContain(big.slice(0, 10));
    await bad({ name: 'NOVALUE' }, 'KB_ERR_VALIDATION');
    expect((await a.call('DELETE', '/secrets/NOPE')).status).toBe(404);
    expect(await a.ok('GET', '/secrets')).toEqual([]);

    const many = await TenantClient.signup(stack.api, 'secrets-many@shop.example');
    for (let i = 0; i < 50; i++) await many.ok('POST', '/secrets', { name: `KEY_${i}`, value: `v${i}` });
    const over = await many.call('POST', '/secrets', { name: 'KEY_50', value: 'v' });
    expect([over.status, over.body.error.code]).toEqual([409, 'KB_ERR_SECRET_LIMIT']);
    // Replacing one of the 50 is not a 51st.
    expect((await many.call('POST', '/secrets', { name: 'KEY_7', value: 'again' })).status).toBe(200);
  });

  it("gives the tenant's code the secret in os.environ and its HTTP target the value in the header", async () => {
    const me = await a.ok<{ tenant: { id: string } }>('GET', '/me');
    const before = changes.length;
    const created = await a.call('POST', '/secrets', { name: 'WEATHER_KEY', value: SECRET });
    answers.push(JSON.stringify(created.body));
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['createdAt', 'name', 'updatedAt']);
    expect(created.body.name).toBe('WEATHER_KEY');
    await secretsChanged(me.tenant.id, before);

    expect(await say(phoneA, '비밀')).toBe(fingerprint(SECRET));

    expect(await say(phoneA, '날씨')).toBe('열쇠 받음');
    const call = stack.stub.requests.at(-1)!;
    expect(call.headers['x-api-key']).toBe(SECRET);
    expect(call.headers['x-static']).toBe('plain');

    // A test run in the editor sees what the room's call sees.
    const { runId } = seen(await a.ok<{ runId: string }>('POST', '/runs', { code: ENV_CODE, input: {} }));
    const run = await waitFor(async () => {
      const r = seen(await a.ok('GET', `/runs/${runId}`));
      return r.status === 'succeeded' || r.status === 'failed' ? r : undefined;
    }, { what: 'the test run' });
    expect(run.result).toMatchObject({ text: fingerprint(SECRET) });
  });

  it('replaces a secret (200, same createdAt) and the next call uses the new value', async () => {
    const me = await a.ok<{ tenant: { id: string } }>('GET', '/me');
    const [old] = seen(await a.ok<{ name: string; createdAt: string; updatedAt: string }[]>('GET', '/secrets'));
    const before = changes.length;
    const r = await a.call('POST', '/secrets', { name: 'WEATHER_KEY', value: REPLACED });
    seen(r.body);
    expect(r.status).toBe(200);
    expect(r.body.createdAt).toBe(old!.createdAt);
    expect(Date.parse(r.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(old!.updatedAt));
    await secretsChanged(me.tenant.id, before);

    expect(await say(phoneA, '비밀')).toBe(fingerprint(REPLACED));
    expect(await say(phoneA, '날씨')).toBe('열쇠 받음');
    expect(stack.stub.requests.at(-1)!.headers['x-api-key']).toBe(REPLACED);
  });

  it("is not in another tenant's os.environ", async () => {
    const b = await tenantWithPhone('secrets-b@shop.example', 'LOA.secret-b');
    try {
      await b.client.ok('POST', '/commands', { command: '비밀', target: { type: 'sandbox', language: 'python', code: ENV_CODE } });
      expect(await say(b.phone, '비밀', '556')).toBe('WEATHER_KEY 없음');
      // Nor can B's HTTP target name A's secret.
      await b.client.ok('POST', '/commands', {
        command: '날씨',
        target: { type: 'http', url: stack.stub.url('/weather'), headers: { 'X-Api-Key': '{{secret:WEATHER_KEY}}' } },
      });
      const calls = stack.stub.requests.length;
      expect(await say(b.phone, '날씨', '556')).toBe(roomMessageFor('KB_ERR_SECRET_MISSING'));
      expect(stack.stub.requests.length).toBe(calls);
    } finally {
      b.phone.destroy();
    }
  });

  it('keeps a premium tenant\'s dedicated container from remembering a deleted secret', async () => {
    const p = await tenantWithPhone('secrets-premium@shop.example', 'LOA.secret-p');
    try {
      await p.client.ok('POST', '/commands', { command: '비밀', target: { type: 'sandbox', language: 'python', code: ENV_CODE } });
      await execFileP('npx', ['tsx', 'services/api/src/cli.ts', 'plan', 'secrets-premium@shop.example', 'premium'], { env: { ...process.env, ...stack.env.env } });
      let before = changes.length;
      await p.client.ok('POST', '/secrets', { name: 'WEATHER_KEY', value: SECRET });
      await secretsChanged(p.tenantId, before);
      // The CLI's `changed` event may reach the dispatcher a moment later: the premium plan shows in the runner's dedicated set.
      await waitFor(async () => (await say(p.phone, '비밀', '557')) === fingerprint(SECRET) && stack.runner!.dedicated().some((d) => d.tenantId === p.tenantId), {
        what: 'a dedicated container for the premium tenant',
      });
      before = changes.length;
      expect((await p.client.call('DELETE', '/secrets/WEATHER_KEY')).status).toBe(204);
      await secretsChanged(p.tenantId, before);
      expect(await say(p.phone, '비밀', '557')).toBe('WEATHER_KEY 없음');
      expect(stack.runner!.dedicated().some((d) => d.tenantId === p.tenantId)).toBe(true);
    } finally {
      p.phone.destroy();
    }
  });

  it('is gone from the next call once deleted: os.environ lacks it, a header naming it fails with KB_ERR_SECRET_MISSING', async () => {
    const me = await a.ok<{ tenant: { id: string } }>('GET', '/me');
    const before = changes.length;
    expect((await a.call('DELETE', '/secrets/WEATHER_KEY')).status).toBe(204);
    expect((await a.call('DELETE', '/secrets/WEATHER_KEY')).status).toBe(404);
    await secretsChanged(me.tenant.id, before);
    expect(seen(await a.ok('GET', '/secrets'))).toEqual([]);

    expect(await say(phoneA, '비밀')).toBe('WEATHER_KEY 없음');
    const calls = stack.stub.requests.length;
    expect(await say(phoneA, '날씨')).toBe(roomMessageFor('KB_ERR_SECRET_MISSING'));
    expect(stack.stub.requests.length).toBe(calls);
    const row = await waitFor(async () => {
      const r = await stack.pool.query(`select error_code, error_message from kb_api_logs where tenant_id = $1 and error_code is not null`, [me.tenant.id]);
      return r.rows[0];
    }, { what: 'the failed call in the log' });
    expect(row).toEqual({ error_code: 'KB_ERR_SECRET_MISSING', error_message: 'header "X-Api-Key" names secret "WEATHER_KEY", which is not set' });
  });

  it('never shows the value again: no API answer, no database row, no log line', async () => {
    // What a tenant can read back about its commands, calls, runs and account.
    const commands = seen(await a.ok<{ id: number }[]>('GET', '/commands'));
    for (const c of commands) {
      seen(await a.ok('GET', `/commands/${c.id}`));
      seen(await a.ok('GET', `/commands/${c.id}/versions`));
    }
    seen(await a.ok('GET', '/logs'));
    seen(await a.ok('GET', '/me'));
    seen(await a.ok('GET', '/bots'));
    seen(await a.ok('GET', '/secrets'));
    expect(answers.length).toBeGreaterThan(10);
    for (const text of answers) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(REPLACED);
    }

    // Every column of every row of every table (kb_api_logs included): the value is stored only sealed.
    const { rows: tables } = await stack.pool.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['kb_api_logs', 'tenant_secrets', 'kb_outbox', 'kb_runs']));
    const logRows = await stack.pool.query(`select * from kb_api_logs`);
    expect(logRows.rows.length).toBeGreaterThanOrEqual(6);
    for (const { table_name } of tables) {
      const { rows } = await stack.pool.query(`select * from "${table_name}"`);
      const dump = JSON.stringify(rows);
      expect(dump, table_name).not.toContain(SECRET);
      expect(dump, table_name).not.toContain(REPLACED);
    }

    // Every service's log lines at debug level (API, gateway, dispatcher, runner).
    expect(logLines.some((l) => l.includes('"name":"dispatcher"'))).toBe(true);
    expect(logLines.some((l) => l.includes('"name":"runner"'))).toBe(true);
    expect(logLines.some((l) => l.includes('"name":"api"'))).toBe(true);
    for (const line of logLines) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain(REPLACED);
    }
  });
});
