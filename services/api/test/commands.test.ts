import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { ALLOWED_TARGET, as, observe, signup, startApi, type Account, type Harness, type Observed } from './harness.js';

let h: Harness;
let a: Account;
let b: Account;
let changes: Observed;
beforeAll(async () => {
  h = await startApi('api-commands');
  a = await signup(h, 'cmd-a@example.com');
  b = await signup(h, 'cmd-b@example.com');
  changes = await observe(h, 'changes', 'changed');
});
afterAll(async () => {
  await changes?.close();
  await h?.close();
});

const weather = {
  command: '  날씨   ',
  pattern: '^날씨\\s+(\\S+)$',
  description: '동네 날씨',
  target: { type: 'http', url: ALLOWED_TARGET, headers: { Authorization: 'Bearer tenant-secret-token' } },
};

describe('commands', () => {
  it('creates an HTTP command: words normalised, headers sealed and masked, caches told', async () => {
    const before = changes.messages.length;
    const res = await as(h, a)('POST', '/commands', weather);
    expect(res.statusCode).toBe(201);
    const cmd = res.json();
    expect(cmd).toMatchObject({
      command: '날씨',
      pattern: '^날씨\\s+(\\S+)$',
      description: '동네 날씨',
      timeoutMs: 5000,
      isActive: true,
      version: 1,
      target: { type: 'http', url: ALLOWED_TARGET, method: 'POST', headers: { Authorization: '********' } },
    });
    expect(res.body).not.toContain('tenant-secret-token');

    const { rows } = await h.db.query(`select row_to_json(c)::text as t, api_headers_enc from kb_commands c where id = $1`, [cmd.id]);
    expect(rows[0].t).not.toContain('tenant-secret-token');
    expect(JSON.parse(h.secrets.open(rows[0].api_headers_enc))).toEqual({ Authorization: 'Bearer tenant-secret-token' });
    const versions = await h.db.query(`select snapshot::text as s from kb_command_versions where command_id = $1`, [cmd.id]);
    expect(versions.rows).toHaveLength(1);
    expect(versions.rows[0].s).not.toContain('tenant-secret-token');

    await waitFor(() =>
      changes.messages.slice(before).find((m) => m.body.payload.entity === 'commands' && m.body.payload.tenantId === a.me.tenant.id),
    );
    expect((await as(h, a)('GET', `/commands/${cmd.id}`)).json()).toEqual(cmd);
    expect((await as(h, a)('GET', '/commands')).json()).toEqual([cmd]);
  });

  it('updates (bumping the version), keeps unshown headers, lists versions and rolls back', async () => {
    const cmd = (await as(h, a)('POST', '/commands', { ...weather, command: '주문   조회', pattern: null })).json();
    expect(cmd.command).toBe('주문 조회');

    const p1 = await as(h, a)('PATCH', `/commands/${cmd.id}`, { timeoutMs: 1500, target: { type: 'http', url: `${ALLOWED_TARGET}/v2`, method: 'GET' } });
    expect(p1.statusCode).toBe(200);
    expect(p1.json()).toMatchObject({ version: 2, timeoutMs: 1500, target: { url: `${ALLOWED_TARGET}/v2`, method: 'GET', headers: { Authorization: '********' } } });
    const p2 = await as(h, a)('PATCH', `/commands/${cmd.id}`, { isActive: false, description: null });
    expect(p2.json()).toMatchObject({ version: 3, isActive: false, description: null, timeoutMs: 1500 });

    const versions = await as(h, a)('GET', `/commands/${cmd.id}/versions`);
    expect(versions.json().map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    expect(versions.json()[2]).toMatchObject({ version: 1, timeoutMs: 5000, isActive: true, target: { url: ALLOWED_TARGET, method: 'POST' } });
    expect(versions.body).not.toContain('tenant-secret-token');

    const rolled = await as(h, a)('POST', `/commands/${cmd.id}/rollback`, { version: 1 });
    expect(rolled.statusCode).toBe(200);
    expect(rolled.json()).toMatchObject({
      version: 4,
      command: '주문 조회',
      timeoutMs: 5000,
      isActive: true,
      description: '동네 날씨',
      target: { url: ALLOWED_TARGET, method: 'POST', headers: { Authorization: '********' } },
    });
    const { rows } = await h.db.query(`select api_headers_enc, version, timeout from kb_commands where id = $1`, [cmd.id]);
    expect(rows[0]).toMatchObject({ version: 4, timeout: 5000 });
    expect(JSON.parse(h.secrets.open(rows[0].api_headers_enc))).toEqual({ Authorization: 'Bearer tenant-secret-token' });
    expect((await as(h, a)('GET', `/commands/${cmd.id}/versions`)).json()).toHaveLength(4);
    // The rollback's version says which one it restored; ordinary saves say none.
    const after = (await as(h, a)('GET', `/commands/${cmd.id}/versions`)).json();
    expect(after.map((v: { version: number; restoredFrom: number | null }) => [v.version, v.restoredFrom])).toEqual([
      [4, 1],
      [3, null],
      [2, null],
      [1, null],
    ]);
    expect((await as(h, a)('POST', `/commands/${cmd.id}/rollback`, { version: 99 })).statusCode).toBe(404);
  });

  // Sandbox targets are linted on a runner before they are saved: test/integration/authoring.test.ts
  // (and services/api/test/runs.test.ts for the answer without a runner).

  it('soft-deletes: gone from the API, row and logs kept', async () => {
    const cmd = (await as(h, a)('POST', '/commands', { ...weather, command: '삭제할' })).json();
    await h.db.query(`insert into kb_api_logs (tenant_id, command_id, status_code) values ($1, $2, 200)`, [a.me.tenant.id, cmd.id]);
    expect((await as(h, a)('DELETE', `/commands/${cmd.id}`)).statusCode).toBe(204);
    expect((await as(h, a)('GET', `/commands/${cmd.id}`)).statusCode).toBe(404);
    expect((await as(h, a)('GET', '/commands')).json().map((c: { id: number }) => c.id)).not.toContain(cmd.id);
    const { rows } = await h.db.query(`select deleted_at from kb_commands where id = $1`, [cmd.id]);
    expect(rows[0].deleted_at).not.toBeNull();
    const logs = await as(h, a)('GET', `/logs?commandId=${cmd.id}`);
    expect(logs.json().items).toHaveLength(1);
  });
});

describe('save-time checks', () => {
  it('refuses patterns RE2 cannot compile, with RE2\'s reason', async () => {
    for (const pattern of ['(?<=a)b', '(']) {
      const res = await as(h, a)('POST', '/commands', { ...weather, pattern });
      expect(res.statusCode, pattern).toBe(400);
      expect(res.json().error.code).toBe('KB_ERR_INVALID_PATTERN');
    }
    const res = await as(h, a)('POST', '/commands', { ...weather, pattern: '(' });
    expect(res.json().error.message).toContain('missing )');
    expect((await as(h, a)('POST', '/commands', { ...weather, pattern: 'x'.repeat(256) })).statusCode).toBe(400);
  });

  it('refuses loopback and metadata addresses unless EGRESS_ALLOW names them', async () => {
    for (const url of ['http://127.0.0.1:1/', 'http://169.254.169.254/', 'http://[::ffff:127.0.0.1]:9998/']) {
      const res = await as(h, a)('POST', '/commands', { ...weather, target: { type: 'http', url } });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code).toBe('KB_ERR_EGRESS_DENIED');
    }
    const cmd = (await as(h, a)('POST', '/commands', { ...weather, command: '이동' })).json();
    const moved = await as(h, a)('PATCH', `/commands/${cmd.id}`, { target: { type: 'http', url: 'http://169.254.169.254/latest' } });
    expect(moved.json().error.code).toBe('KB_ERR_EGRESS_DENIED');
    expect((await as(h, a)('GET', `/commands/${cmd.id}`)).json().version).toBe(1);
  });

  it('refuses bad command words, timeouts and methods', async () => {
    const cases = [
      { ...weather, command: '   ' },
      { ...weather, command: 'a b c d e f' },
      { ...weather, command: '가'.repeat(51) },
      { ...weather, timeoutMs: 99 },
      { ...weather, timeoutMs: 300_001 },
      { ...weather, target: { type: 'http', url: ALLOWED_TARGET, method: 'TRACE' } },
      { ...weather, target: { type: 'ftp', url: ALLOWED_TARGET } },
    ];
    for (const body of cases) {
      const res = await as(h, a)('POST', '/commands', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('KB_ERR_VALIDATION');
    }
  });
});

describe('tenant isolation', () => {
  it('tenant B cannot read, change, delete or roll back tenant A\'s command', async () => {
    const cmd = (await as(h, a)('POST', '/commands', { ...weather, command: '비밀' })).json();
    const attempts = [
      ['GET', `/commands/${cmd.id}`, undefined],
      ['PATCH', `/commands/${cmd.id}`, { isActive: false }],
      ['DELETE', `/commands/${cmd.id}`, undefined],
      ['GET', `/commands/${cmd.id}/versions`, undefined],
      ['POST', `/commands/${cmd.id}/rollback`, { version: 1 }],
    ] as const;
    for (const [method, url, payload] of attempts) {
      const res = await as(h, b)(method, url, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('KB_ERR_NOT_FOUND');
    }
    expect((await as(h, b)('GET', '/commands')).json()).toEqual([]);
    const { rows } = await h.db.query(`select is_active, deleted_at, version from kb_commands where id = $1`, [cmd.id]);
    expect(rows[0]).toEqual({ is_active: true, deleted_at: null, version: 1 });
  });
});
