import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomMessageFor } from '@domaeka/core';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 12, fair share at the dispatcher: tenant B (plan `tiny`, 2 room
 * calls in hand) floods a command whose API answers only when the test says
 * so. B's calls beyond its 2 are answered "busy" at once (room text, log
 * row KB_ERR_BUSY) and acked, so they free the dispatcher's prefetch (4
 * here: without the cap, B's held calls would fill it and A would wait
 * behind them). Tenant A's command is answered while B's two calls are
 * still held; then B's calls are released and answered normally.
 */
const FLOOD = 6;
const CAP = 2;

type Bot = { id: string; name: string };
type Said = { eventId: string; status: string; reply: { type: string; text: string } | null };

describe('fair share of the dispatcher between tenants (room calls in hand)', () => {
  let stack: Stack;
  const held: http.ServerResponse[] = [];

  beforeAll(async () => {
    stack = await startStack(
      'fair-share-rooms',
      {
        '/slow': (_req, res) => void held.push(res),
        '/quick': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"빠른 응답"}'),
      },
      { env: { DISPATCHER_PREFETCH: '4' } },
    );
    await stack.pool.query(
      `insert into plans (id, name, runs_per_day, timeout_max_ms, memory_mb, cpus, network, mode, max_concurrency, room_calls_in_flight)
       values ('tiny', 'Tiny', 1000, 30000, 256, 0.5, 'none', 'ephemeral', 2, $1)`,
      [CAP],
    );
  });

  afterAll(async () => {
    for (const res of held) if (!res.writableEnded) res.end();
    await stack?.close();
  });

  async function shop(email: string, command: string, path: string, plan?: string): Promise<{ client: TenantClient; bot: Bot; tenantId: string }> {
    const client = await TenantClient.signup(stack.api, email);
    const tenantId = (await client.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id;
    // Before the dispatcher first reads the bot: no cache holds another plan.
    if (plan) await stack.pool.query(`update tenants set plan_id = $2 where id = $1`, [tenantId, plan]);
    const bot = await client.ok<Bot>('POST', '/bots', { name: `fair-${email.split('@')[0]}` });
    await client.ok('POST', '/commands', { command, target: { type: 'http', url: stack.stub.url(path) }, timeoutMs: 30_000 });
    return { client, bot, tenantId };
  }

  const say = (client: TenantClient, bot: Bot, text: string) =>
    client.ok<Said>('POST', '/messages?wait=1', { botName: bot.name, room: '공정방', channelId: `fair-${bot.name}`, sender: '홍길동', text });

  it("answers tenant B's calls beyond its cap busy at once, and tenant A's command while B's calls are held", async () => {
    const a = await shop('a@fair.example', '빠름', '/quick');
    const b = await shop('b@fair.example', '느림', '/slow', 'tiny');
    const busyText = roomMessageFor('KB_ERR_BUSY');

    const flood = Array.from({ length: FLOOD }, (_, i) => say(b.client, b.bot, `느림 ${i}`));
    // Exactly CAP calls reach B's API and are held there; the rest come back busy without a call.
    await waitFor(() => held.length === CAP, { what: `${CAP} of B's calls held by its API` });
    const busyRows = await waitFor(async () => {
      const { rows } = await stack.pool.query<{ event_id: string; error_message: string }>(
        `select event_id, error_message from kb_api_logs where tenant_id = $1 and error_code = 'KB_ERR_BUSY'`,
        [b.tenantId],
      );
      return rows.length === FLOOD - CAP ? rows : undefined;
    }, { what: "B's busy log rows" });
    expect(busyRows[0]!.error_message).toContain(`${CAP} room calls of this tenant already in hand`);

    // A is answered while B's calls are still held.
    const answered = await say(a.client, a.bot, '빠름');
    expect(answered.reply?.text).toBe('빠른 응답');
    expect(held).toHaveLength(CAP);
    expect(held.every((res) => !res.writableEnded)).toBe(true);
    expect(stack.stub.requests.filter((r) => r.path === '/slow')).toHaveLength(CAP);

    // Release B's held calls: they are answered normally.
    for (const res of held) res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"느린 응답"}');
    const said = await Promise.all(flood);
    const texts = said.map((s) => s.reply?.text);
    expect(texts.filter((t) => t === '느린 응답')).toHaveLength(CAP);
    expect(texts.filter((t) => t === busyText)).toHaveLength(FLOOD - CAP);
    expect(new Set(said.filter((s) => s.reply?.text === busyText).map((s) => s.eventId))).toEqual(new Set(busyRows.map((r) => r.event_id)));
    expect(stack.stub.requests.filter((r) => r.path === '/slow')).toHaveLength(CAP);
    expect(stack.dispatcher.counters.busy).toBe(FLOOD - CAP);

    // Each call has one log row; B's slots are free again: its next call runs.
    const { rows } = await stack.pool.query<{ n: number }>(`select count(*)::int as n from kb_api_logs where tenant_id = $1`, [b.tenantId]);
    expect(rows[0]!.n).toBe(FLOOD);
    const again = say(b.client, b.bot, '느림 다시');
    await waitFor(() => held.length === CAP + 1, { what: "B's next call reaching its API" });
    held[CAP]!.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"느린 응답"}');
    expect((await again).reply?.text).toBe('느린 응답');
  });
});
