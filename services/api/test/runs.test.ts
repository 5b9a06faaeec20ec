import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_RUN_MS } from '@domaeka/broker';
import { waitFor } from '../../../test/support/wait.js';
import { LINT_DEADLINE_MS } from '../src/runs/run-service.js';
import { as, signup, startApi, type Account, type Harness } from './harness.js';

/**
 * Lint and test runs with no sandbox runner alive (the runner side is
 * test/integration/authoring.test.ts): the API says KB_ERR_NO_RUNNER
 * once the call waited for a runner as long as its deadline allowed, and
 * saves no unlinted code.
 */
let h: Harness;
let a: Account;
let b: Account;
beforeAll(async () => {
  h = await startApi('api-runs');
  a = await signup(h, 'runs-a@example.com');
  b = await signup(h, 'runs-b@example.com');
});
afterAll(async () => {
  await h?.close();
});

const CODE = 'def handle_command(params):\n    return "안녕"\n';
/** The API's own count of runner calls waiting now / given up at their deadline (GET /metrics). */
const metric = async (pattern: RegExp) => Number(pattern.exec((await h.api.app.inject({ method: 'GET', url: '/metrics' })).body)?.[1] ?? 0);
const waiting = () => metric(/^kb_runner_rpc_waiting(?:\{[^}]*\})? (\d+)$/m);
const gaveUp = () => metric(/^kb_runner_rpc_waited_total\{[^}]*outcome="gave_up"[^}]*\} (\d+)$/m);

describe('without a runner', () => {
  it('POST /lint answers 503 KB_ERR_NO_RUNNER after waiting for a runner until just before its deadline', async () => {
    const gaveUpBefore = await gaveUp();
    const started = Date.now();
    const pending = as(h, a)('POST', '/lint', { code: CODE }).then((r) => r); // sent now (inject starts on then)
    // Waited: the call is seen waiting for a runner before it is answered.
    await waitFor(async () => (await waiting()) === 1, { what: 'the lint call waiting for a runner' });
    const res = await pending;
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('KB_ERR_NO_RUNNER');
    // Until the deadline gave it up (not a stop, not a failed send), and no sooner than MIN_RUN_MS before it.
    expect(res.json().error.message).toMatch(/waited \d+ ms for a runner until the deadline$/);
    expect(await gaveUp()).toBe(gaveUpBefore + 1);
    expect(await waiting()).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LINT_DEADLINE_MS - MIN_RUN_MS - 100);
  });

  it('refuses to save a sandbox command (503, nothing stored); size checks still come first', async () => {
    const res = await as(h, a)('POST', '/commands', { command: '인사', target: { type: 'sandbox', language: 'python', code: CODE } });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('KB_ERR_NO_RUNNER');
    const { rows } = await h.db.query(`select count(*)::int as n from kb_commands where tenant_id = $1`, [a.me.tenant.id]);
    expect(rows[0].n).toBe(0);
    const big = await as(h, a)('POST', '/commands', { command: '큰코드', target: { type: 'sandbox', language: 'python', code: '가'.repeat(40_000) } });
    expect(big.statusCode).toBe(400);
    expect(big.json().error.code).toBe('KB_ERR_VALIDATION');
  });

  it('records a run as failed with KB_ERR_NO_RUNNER, visible to its tenant only', async () => {
    const res = await as(h, a)('POST', '/runs', { code: CODE, input: { parameters: ['화도읍'] } });
    expect(res.statusCode).toBe(202);
    const { runId } = res.json() as { runId: string };
    const run = await waitFor(
      async () => {
        const r = (await as(h, a)('GET', `/runs/${runId}`)).json();
        return r.status === 'failed' ? r : undefined;
      },
      { what: 'run failed' },
    );
    expect(run).toMatchObject({ id: runId, result: null, error: { code: 'KB_ERR_NO_RUNNER' }, output: '', durationMs: null });
    expect((await as(h, b)('GET', `/runs/${runId}`)).statusCode).toBe(404);
    expect((await as(h, a)('GET', `/runs/00000000-0000-4000-8000-000000000000`)).statusCode).toBe(404);
    expect((await as(h, a)('GET', `/runs/not-a-uuid`)).statusCode).toBe(404);
  });
});
