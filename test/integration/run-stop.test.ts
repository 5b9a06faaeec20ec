import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * ⏹ in the editor (issue 16): `POST /runs/:id/stop` with a real runner
 * (Docker) in-process. The run ends stopped at once, keeps what it printed
 * so far, and the runner's later answer changes nothing.
 */
let stack: Stack;
let a: TenantClient;
let b: TenantClient;

beforeAll(async () => {
  stack = await startStack('run-stop', {}, { runner: true });
  a = await TenantClient.signup(stack.api, 'stop-a@example.com');
  b = await TenantClient.signup(stack.api, 'stop-b@example.com');
  await waitFor(() => (stack.runner!.poolReady() > 0 ? true : undefined), { what: 'a warm sandbox' });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const SLOW = 'import time\n\ndef handle_command(params):\n    print("시작", flush=True)\n    time.sleep(2)\n    print("끝난 뒤", flush=True)\n    return "늦은 답"\n';

interface RunView {
  id: string;
  status: string;
  result: unknown;
  error: { code: string; message: string } | null;
  output: string;
  finishedAt: string | null;
}

describe('POST /runs/:id/stop', () => {
  it('ends a running run as stopped with what it printed so far; the runner’s later answer is dropped', async () => {
    const { runId } = await a.ok<{ runId: string }>('POST', '/runs', { code: SLOW });
    // Running: its first line has streamed in.
    await waitFor(async () => ((await a.ok<RunView>('GET', `/runs/${runId}`)).output.includes('시작') ? true : undefined), {
      what: 'the run printing',
      timeoutMs: 30_000,
    });

    const stopped = await a.call<RunView>('POST', `/runs/${runId}/stop`);
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ id: runId, status: 'failed', result: null, error: { code: 'KB_ERR_RUN_STOPPED' }, output: '시작\n' });
    expect(stopped.body.error!.message).toMatch(/^실행을 멈췄습니다/);
    expect(stopped.body.finishedAt).not.toBeNull();

    // The runner finishes the call in its sandbox and answers; that answer is not written over the stop.
    await stack.api.services.runs.settle();
    const after = await a.ok<RunView>('GET', `/runs/${runId}`);
    expect(after).toMatchObject({ status: 'failed', result: null, error: { code: 'KB_ERR_RUN_STOPPED' }, output: '시작\n' });
    const { rows } = await stack.pool.query(`select status, error->>'code' as code, output from kb_runs where id = $1`, [runId]);
    expect(rows[0]).toEqual({ status: 'failed', code: 'KB_ERR_RUN_STOPPED', output: '시작\n' });

    // Stopping again answers the run as it ended.
    expect((await a.call<RunView>('POST', `/runs/${runId}/stop`)).body).toMatchObject({ status: 'failed', error: { code: 'KB_ERR_RUN_STOPPED' } });
  });

  it('leaves a finished run as it ended, and another tenant’s run unknown', async () => {
    const { runId } = await a.ok<{ runId: string }>('POST', '/runs', { code: 'def handle_command(params):\n    return "안녕"\n' });
    await stack.api.services.runs.settle();
    expect((await a.ok<RunView>('GET', `/runs/${runId}`)).status).toBe('succeeded');
    expect((await a.call<RunView>('POST', `/runs/${runId}/stop`)).body).toMatchObject({ status: 'succeeded', error: null, result: { text: '안녕' } });

    const theirs = await b.call<{ error: { code: string } }>('POST', `/runs/${runId}/stop`);
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe('KB_ERR_NOT_FOUND');
    // A made-up id is as unknown as another tenant's (as GET /runs/:id answers it).
    expect((await a.call('POST', '/runs/not-a-run/stop')).status).toBe(404);
  });
});
