import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names } from '@domaeka/broker';
import { roomMessageFor } from '@domaeka/core';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 12, poison results: what a tenant's target returns after it was
 * called can no longer wedge a message. A NUL in a result (HTTP API or
 * sandbox code) reaches the room as U+FFFD; a NUL in an exception message
 * gives KB_ERR_USER_EXCEPTION; each is answered once, logged once, the
 * tenant's target runs exactly once, nothing is dead-lettered, and the
 * room's next message is answered. It used to fail the store
 * ("unsupported Unicode escape sequence"), redeliver ~21 times (running the
 * tenant's code each time) and dead-letter without a word to the room.
 */

/**
 * Module state of a premium tenant's dedicated container counts the
 * executions of this code: `세기 널` returns NUL, `세기` says how many
 * times the code ran so far.
 */
const NUL_RESULT = `
calls = 0

def handle_command(params):
    global calls
    calls += 1
    if params["parameters"] == ["널"]:
        return {"text": "a\\x00b"}
    return f"{calls}번째 실행"
`;

/** Same counting; `터짐 널` raises with a NUL in the exception's message. */
const NUL_EXCEPTION = `
calls = 0

def handle_command(params):
    global calls
    calls += 1
    if params["parameters"] == ["널"]:
        raise ValueError("bad\\x00value")
    return f"{calls}번째 실행"
`;

type LogRow = { error_code: string | null; error_message: string | null; response_data: string | null };

describe('poison results: answered once, never run again', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let phone: Phone;
  let logSeq = 9000;

  const nulHits = () => stack.stub.requests.filter((r) => r.path === '/nul').length;

  async function logRowsOf(eventId: string): Promise<LogRow[]> {
    await waitFor(async () => (await stack.pool.query(`select 1 from kb_outbox where event_id = $1 and status = 'replied'`, [eventId])).rowCount === 1, {
      what: `outbox row of ${eventId} replied`,
    });
    return (await stack.pool.query<LogRow>(`select error_code, error_message, response_data from kb_api_logs where event_id = $1`, [eventId])).rows;
  }

  /** Dead letters: still in `<prefix>.dead`, plus those the API's keeper moved into kb_dead_letters. */
  async function deadLetters(): Promise<number> {
    const ch = await stack.amqp.createChannel();
    try {
      const queued = (await ch.checkQueue(names(stack.env.brokerPrefix).deadQueue)).messageCount;
      const stored = (await stack.pool.query(`select count(*)::int as n from kb_dead_letters`)).rows[0].n as number;
      return queued + stored;
    } finally {
      await ch.close();
    }
  }

  /** Sends one room message and returns the room's reply and the event it belonged to. */
  async function say(text: string): Promise<{ reply: string; eventId: string }> {
    const before = stack.doneEvents.length;
    phone.sendMessage({ room: '독성방', channelId: 'poison-room', text, logId: String(logSeq++) });
    const reply = await phone.nextReply();
    const done = await waitFor(() => stack.doneEvents.slice(before).find((d) => d.status === 'replied'), { what: `dispatch.done of ${text}` });
    return { reply, eventId: done.eventId };
  }

  beforeAll(async () => {
    stack = await startStack(
      'poison-results',
      {
        '/nul': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"a\\u0000b"}'),
        '/ok': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"보통 응답"}'),
      },
      { runner: true },
    );
    tenant = await TenantClient.signup(stack.api, 'poison-results@shop.example');
    const me = await tenant.ok<{ tenant: { id: string } }>('GET', '/me');
    // Premium: the tenant's own long-lived container, whose module state counts executions. Set before the
    // dispatcher first reads the bot, so no cache holds the free plan.
    await stack.pool.query(`update tenants set plan_id = 'premium' where id = $1`, [me.tenant.id]);
    const bot = await tenant.ok('POST', '/bots', { name: 'LOA.poison-results' });
    await tenant.ok('POST', '/commands', { command: '널', target: { type: 'http', url: stack.stub.url('/nul') } });
    await tenant.ok('POST', '/commands', { command: '보통', target: { type: 'http', url: stack.stub.url('/ok') } });
    await tenant.ok('POST', '/commands', { command: '세기', target: { type: 'sandbox', language: 'python', code: NUL_RESULT } });
    await tenant.ok('POST', '/commands', { command: '터짐', target: { type: 'sandbox', language: 'python', code: NUL_EXCEPTION } });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'android-poison-results', secretKey: bot.secretKey, salt: bot.salt });
    await tenant.approveDevice(bot.id, 'android-poison-results');
  });

  afterAll(async () => {
    phone?.destroy();
    await stack?.close();
  });

  it('an HTTP API answering NUL: the room sees U+FFFD once, one log row, one call, no dead letter, next message answered', async () => {
    const poison = await say('널');
    expect(poison.reply).toBe('a\uFFFDb');
    const next = await say('보통');
    expect(next.reply).toBe('보통 응답');

    expect(phone.replies().filter((t) => t === 'a\uFFFDb')).toHaveLength(1);
    expect(nulHits()).toBe(1);
    const rows = await logRowsOf(poison.eventId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ error_code: null });
    expect(await deadLetters()).toBe(0);
  });

  it('sandbox code returning NUL: the room sees U+FFFD once, the code ran once, one log row, no dead letter', async () => {
    const poison = await say('세기 널');
    expect(poison.reply).toBe('a\uFFFDb');
    // The next message is answered, and the code's own count says the poison ran exactly once before it.
    const next = await say('세기');
    expect(next.reply).toBe('2번째 실행');

    expect(phone.replies().filter((t) => t === 'a\uFFFDb')).toHaveLength(2); // this one and the HTTP one before
    const rows = await logRowsOf(poison.eventId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.error_code).toBeNull();
    // The log keeps the result as JSON text: the NUL there is the six characters of its escape, which text stores.
    expect(JSON.parse(rows[0]!.response_data!)).toMatchObject({ text: 'a\u0000b' });
    expect(await deadLetters()).toBe(0);
  });

  it('sandbox code raising with NUL in its message: KB_ERR_USER_EXCEPTION once, logged, ran once, next message answered', async () => {
    const poison = await say('터짐 널');
    // Issue 16: the room reads no line number (the log keeps it).
    expect(poison.reply).toBe(roomMessageFor('KB_ERR_USER_EXCEPTION'));
    const next = await say('터짐');
    expect(next.reply).toBe('2번째 실행');

    expect(phone.replies().filter((t) => t.startsWith(roomMessageFor('KB_ERR_USER_EXCEPTION')))).toHaveLength(1);
    const rows = await logRowsOf(poison.eventId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.error_code).toBe('KB_ERR_USER_EXCEPTION');
    expect(rows[0]!.error_message).toContain('bad\uFFFDvalue');
    expect(await deadLetters()).toBe(0);
  });
});
