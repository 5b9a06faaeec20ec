import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, signup, startApi, type Account, type Harness } from './harness.js';

let h: Harness;
let a: Account;
let b: Account;
beforeAll(async () => {
  h = await startApi('api-logs');
  a = await signup(h, 'logs-a@example.com');
  b = await signup(h, 'logs-b@example.com');
});
afterAll(async () => {
  await h?.close();
});

/** Rows as the dispatcher writes them, one per target call. */
async function insertLogs(tenantId: string, commandId: number | null, n: number, errorCode: string | null = null) {
  for (let i = 0; i < n; i++) {
    await h.db.query(
      `insert into kb_api_logs (tenant_id, command_id, event_id, channel_id, request_data, response_data, status_code, response_time, error_code, error_message)
       values ($1, $2, gen_random_uuid(), '12345', $3, $4, $5, 12, $6, $7)`,
      [tenantId, commandId, JSON.stringify({ command: '날씨', n: i }), `{"text":"답 ${i}"}`, errorCode ? 504 : 200, errorCode, errorCode ? 'timed out after 5000 ms' : null],
    );
  }
}

describe('GET /logs', () => {
  it('pages the tenant\'s calls newest first, with request and response data', async () => {
    const cmd = (
      await as(h, a)('POST', '/commands', { command: '날씨', target: { type: 'http', url: 'http://127.0.0.1:9999/w' } })
    ).json();
    await insertLogs(a.me.tenant.id, cmd.id, 3);
    await insertLogs(a.me.tenant.id, null, 2, 'KB_ERR_TIMEOUT');
    await insertLogs(b.me.tenant.id, null, 4);

    const all = (await as(h, a)('GET', '/logs')).json();
    expect(all.items).toHaveLength(5);
    const ids = all.items.map((l: { id: number }) => l.id);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect(all.items[0]).toMatchObject({ errorCode: 'KB_ERR_TIMEOUT', statusCode: 504, errorMessage: 'timed out after 5000 ms', responseTimeMs: 12 });
    expect(all.items[4]).toMatchObject({ commandId: cmd.id, requestData: JSON.stringify({ command: '날씨', n: 0 }), responseData: '{"text":"답 0"}' });
    expect(all.nextBefore).toBeNull();

    const page1 = (await as(h, a)('GET', '/logs?limit=2')).json();
    expect(page1.items.map((l: { id: number }) => l.id)).toEqual(ids.slice(0, 2));
    const page2 = (await as(h, a)('GET', `/logs?limit=2&before=${page1.nextBefore}`)).json();
    expect(page2.items.map((l: { id: number }) => l.id)).toEqual(ids.slice(2, 4));

    const byCommand = (await as(h, a)('GET', `/logs?commandId=${cmd.id}`)).json();
    expect(byCommand.items).toHaveLength(3);

    expect((await as(h, b)('GET', '/logs')).json().items).toHaveLength(4);
    expect((await as(h, b)('GET', `/logs?commandId=${cmd.id}`)).json().items).toHaveLength(0);
  });

  it('returns at most 100 entries per page', async () => {
    const c = await signup(h, 'logs-c@example.com');
    await h.db.query(
      `insert into kb_api_logs (tenant_id, status_code) select $1, 200 from generate_series(1, 120)`,
      [c.me.tenant.id],
    );
    const page = (await as(h, c)('GET', '/logs?limit=500')).json();
    expect(page.items).toHaveLength(100);
    expect(page.nextBefore).toBe(page.items[99].id);
    expect((await as(h, c)('GET', `/logs?limit=500&before=${page.nextBefore}`)).json().items).toHaveLength(20);
  });
});
