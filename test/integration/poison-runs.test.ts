import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 12, runs always end: test runs whose output, live output or result
 * hold NUL (which PostgreSQL text and jsonb refuse) end with it replaced by
 * U+FFFD and their live events arrive; a run whose end cannot be written
 * ends failed (KB_ERR_RUN_LOST) and says so; a run left queued/running past
 * its deadline (its API process died) is swept to failed with the reason.
 */
type RunView = { id: string; status: string; output: string; result: Record<string, unknown> | null; error: { code: string; message: string } | null };
type Seen = { event: string; data: any };

const FFFD = '\uFFFD';

describe('test runs always end', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let tenantId: string;
  let socket: Socket;
  const seen: Seen[] = [];

  const start = async (code: string) => (await tenant.ok<{ runId: string }>('POST', '/runs', { code, input: {} })).runId;
  /** Joins the run's room at once (the answer is the run so far), then waits for its `run:result`. */
  const watch = async (runId: string) => {
    const ack = (await socket.timeout(5000).emitWithAck('run:join', { runId })) as { ok: boolean; run?: RunView };
    expect(ack.ok).toBe(true);
    return ack.run!;
  };
  const resultEvent = (runId: string, timeoutMs = 30_000) =>
    waitFor(() => seen.find((s) => s.event === 'run:result' && s.data.id === runId)?.data as RunView | undefined, { timeoutMs, what: `run:result of ${runId}` });
  const outputEvents = (runId: string) => seen.filter((s) => s.event === 'run:output' && s.data.runId === runId).map((s) => String(s.data.data));
  const row = async (runId: string) =>
    (await stack.pool.query<{ status: string; output: string; result: any; error: any }>(`select status, output, result, error from kb_runs where id = $1`, [runId])).rows[0]!;

  beforeAll(async () => {
    stack = await startStack('poison-runs', {}, { runner: true });
    tenant = await TenantClient.signup(stack.api, 'poison@runs.example', '독 상점');
    tenantId = (await tenant.ok<{ tenant: { id: string } }>('GET', '/me')).tenant.id;
    socket = io(`http://127.0.0.1:${stack.api.port}`, { path: '/socket.io', transports: ['websocket'], extraHeaders: { cookie: tenant.cookie }, reconnection: false });
    socket.onAny((event: string, data: unknown) => seen.push({ event, data }));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
  });

  afterAll(async () => {
    socket?.disconnect();
    await stack?.close();
  });

  it('stores a printed NUL as U+FFFD, live and in the row', async () => {
    const runId = await start('def handle_command(params):\n    print("a\\x00b", flush=True)\n    return "끝"\n');
    await watch(runId);
    const result = await resultEvent(runId);
    expect(result.status).toBe('succeeded');
    expect(result.output).toContain(`a${FFFD}b`);
    expect(result.result).toMatchObject({ text: '끝' });
    expect((await row(runId)).output).toContain(`a${FFFD}b`);
    // The live chunks arrived too (a late join may have caught the first in its answer instead).
    expect(outputEvents(runId).join('') + result.output).toContain(`a${FFFD}b`);
  });

  it('ends a run whose result holds NUL (not left running)', async () => {
    const runId = await start('def handle_command(params):\n    return {"text": "a\\x00b", "extra": {"k\\x00": ["\\x00"]}}\n');
    await watch(runId);
    const result = await resultEvent(runId);
    expect(['succeeded', 'failed']).toContain(result.status);
    const stored = await row(runId);
    expect(stored.status).toBe(result.status);
    if (stored.status === 'succeeded') expect(stored.result.text).toBe(`a${FFFD}b`);
    else expect(stored.error.message).not.toContain('\u0000');
  });

  it('ends a run that prints /proc/self/environ (NUL-separated)', async () => {
    const runId = await start('def handle_command(params):\n    with open("/proc/self/environ") as f:\n        data = f.read()\n    print(data)\n    return {"text": data}\n');
    await watch(runId);
    const result = await resultEvent(runId);
    expect(['succeeded', 'failed']).toContain(result.status);
    const stored = await row(runId);
    expect(stored.status).toBe(result.status);
    expect(JSON.stringify(stored)).not.toContain('\\u0000');
    if (stored.status === 'succeeded') expect(stored.output).toContain(FFFD);
  });

  it('records a run failed (KB_ERR_RUN_LOST) when its end cannot be written, and tells the watchers', async () => {
    // This test database refuses the end of a run that printed the marker, as a database refusing a value would.
    await stack.pool.query(`
      create function refuse_marked_run() returns trigger language plpgsql as $$
      begin raise exception 'refused by the test'; end $$;
      create trigger refuse_marked_run before update on kb_runs for each row
        when (new.output like '%refuse-this-write%') execute function refuse_marked_run();`);
    const runId = await start('def handle_command(params):\n    print("refuse-this-write")\n    return "끝"\n');
    await watch(runId);
    const result = await resultEvent(runId);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('KB_ERR_RUN_LOST');
    expect(result.error?.message).toMatch(/^실행 결과를 받지 못했습니다/);
    expect(await row(runId)).toMatchObject({ status: 'failed', error: { code: 'KB_ERR_RUN_LOST' } });
  });

  it('sweeps runs left running past their deadline to failed with the reason, and tells the watchers', async () => {
    // A run whose API process died: running, its deadline a minute ago; one from before deadlines (the plan's rule).
    const insert = (deadline: string | null, createdAgo: string) =>
      stack.pool
        .query<{ id: string }>(
          `insert into kb_runs (id, tenant_id, status, code, input, created_at, deadline_at)
           values (gen_random_uuid(), $1, 'running', 'x', '{}', now() - cast($2 as interval), ${deadline ?? 'null'}) returning id`,
          [tenantId, createdAgo],
        )
        .then((r) => r.rows[0]!.id);
    const lost = await insert(`now() - interval '1 minute'`, '70 seconds');
    const old = await insert(null, '10 minutes');
    // Its deadline just ahead: watched before it passes, so its end comes as an event from the sweeper.
    const watched = await insert(`now() + interval '1 second'`, '6 seconds');
    const joined = await watch(watched);
    expect(joined.status).toBe('running');

    for (const id of [lost, old]) {
      const r = await waitFor(async () => ((await row(id)).status === 'failed' ? row(id) : undefined), { timeoutMs: 30_000, what: `run ${id} swept` });
      expect(r.error).toMatchObject({ code: 'KB_ERR_RUN_LOST' });
      expect(r.error.message).toMatch(/^실행 결과를 받지 못했습니다/);
    }
    const ended = await resultEvent(watched, 40_000);
    expect(ended).toMatchObject({ status: 'failed', error: { code: 'KB_ERR_RUN_LOST' } });
    expect((await tenant.ok<RunView>('GET', `/runs/${watched}`)).status).toBe('failed');
  });
});
