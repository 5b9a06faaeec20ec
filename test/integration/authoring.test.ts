import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * The editor's side of the API with a real runner (Docker) in-process:
 * `POST /lint`, the lint before a sandbox command is saved, and test runs
 * (`POST /runs` + `GET /runs/:id`), all over the runner RPC.
 */
let stack: Stack;
let a: TenantClient;
let b: TenantClient;

beforeAll(async () => {
  stack = await startStack('authoring', {}, { runner: true });
  a = await TenantClient.signup(stack.api, 'author-a@example.com');
  b = await TenantClient.signup(stack.api, 'author-b@example.com');
  await waitFor(() => (stack.runner!.poolReady() > 0 ? true : undefined), { what: 'a warm sandbox' });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

interface Finding {
  code: string;
  message: string;
  line: number;
  column: number;
}

async function lint(code: string): Promise<Finding[]> {
  const res = await a.call<{ findings: Finding[] }>('POST', '/lint', { code });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.findings;
}

async function finished(client: TenantClient, runId: string) {
  return waitFor(
    async () => {
      const r = await client.ok<{ status: string }>('GET', `/runs/${runId}`);
      return r.status === 'succeeded' || r.status === 'failed' ? (r as any) : undefined;
    },
    { what: `run ${runId} finished`, timeoutMs: 20_000 },
  );
}

const CLEAN = 'def handle_command(params):\n    return "안녕"\n';

describe('POST /lint', () => {
  it('finds nothing in a clean program', async () => {
    expect(await lint(CLEAN)).toEqual([]);
    expect(await lint('import json\nfrom datetime import datetime\n\nasync def handle_command(params):\n    return json.dumps(params)\n')).toEqual([]);
  });

  it('reports a syntax error with its line and column', async () => {
    const findings = await lint('def handle_command(params):\n    x = (1,\n    return x\n\n\n');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: 'KB_ERR_LINT', line: expect.any(Number), column: expect.any(Number) });
    expect(findings[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it('reports forbidden imports where they are', async () => {
    const findings = await lint('import json\nimport os\n\ndef handle_command(params):\n    import subprocess\n    return "x"\n');
    expect(findings.map((f) => [f.line, f.column])).toEqual([
      [2, 1],
      [5, 5],
    ]);
    expect(findings[0]!.message).toContain("'os'");
    expect(findings[1]!.message).toContain("'subprocess'");
  });

  it('reports a missing handle_command', async () => {
    const findings = await lint('def handle(params):\n    return "x"\n');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toContain('handle_command');
  });
});

describe('sandbox commands are linted before they are saved', () => {
  it('refuses code with a syntax error: 400 KB_ERR_LINT with the line', async () => {
    const code = 'def handle_command(params):\n    return "ok"\n\ndef broken(:\n    pass\n';
    const res = await a.call('POST', '/commands', { command: '깨진', target: { type: 'sandbox', language: 'python', code } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('KB_ERR_LINT');
    expect(res.body.error.message).toMatch(/^4번째 줄/);
    expect(res.body.error.details.findings[0]).toMatchObject({ code: 'KB_ERR_LINT', line: 4 });
    expect((await a.ok<unknown[]>('GET', '/commands')).length).toBe(0);
  });

  it('stores clean code, lints a PATCH too, and switches target types cleanly', async () => {
    const code = 'def handle_command(params):\n    return {"text": "안녕"}\n';
    const res = await a.call('POST', '/commands', { command: '인사', target: { type: 'sandbox', language: 'python', code } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.target).toEqual({ type: 'sandbox', language: 'python', code });
    const id = res.body.id as number;

    const bad = await a.call('PATCH', `/commands/${id}`, { target: { type: 'sandbox', language: 'python', code: 'import os\n' + code } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'KB_ERR_LINT', message: expect.stringMatching(/^1번째 줄 1번째 칸: .*'os'/) });
    expect((await a.ok('GET', `/commands/${id}`)).version).toBe(1);

    const toHttp = await a.call('PATCH', `/commands/${id}`, { target: { type: 'http', url: `http://127.0.0.1:${stack.stub.port}/hook` } });
    expect(toHttp.status, JSON.stringify(toHttp.body)).toBe(200);
    const { rows } = await stack.pool.query(`select code, language, target_type from kb_commands where id = $1`, [id]);
    expect(rows[0]).toEqual({ code: null, language: null, target_type: 'http' });
  });
});

describe('test runs', () => {
  it('runs a program that prints and returns: succeeded with result, output and usage', async () => {
    const code = [
      'def handle_command(params):',
      '    place = params["parameters"][0]',
      '    print("looking up", place, "for", params["sender"])',
      '    return {"text": f"{params[\'command\']} {place}: 맑음"}',
      '',
    ].join('\n');
    const res = await a.call<{ runId: string }>('POST', '/runs', { code, input: { command: '날씨', parameters: ['화도읍'] } });
    expect(res.status).toBe(202);
    expect(res.body.runId).toMatch(/^[0-9a-f-]{36}$/);
    const run = await finished(a, res.body.runId);
    expect(run).toMatchObject({
      id: res.body.runId,
      status: 'succeeded',
      result: { type: 'text', text: '날씨 화도읍: 맑음' },
      error: null,
      output: expect.stringContaining('looking up 화도읍 for 테스트 사용자'),
    });
    expect(typeof run.durationMs).toBe('number');
    expect(typeof run.cpuMs).toBe('number');
    expect(typeof run.peakMemoryBytes).toBe('number');
    expect(run.peakMemoryBytes).toBeGreaterThan(0);

    const { rows } = await stack.pool.query(`select status, input, finished_at from kb_runs where id = $1`, [res.body.runId]);
    expect(rows[0].status).toBe('succeeded');
    expect(rows[0].input).toMatchObject({ command: '날씨', parameters: ['화도읍'], raw_text: '날씨 화도읍', room: '테스트방' });
    expect(rows[0].finished_at).not.toBeNull();
  });

  it('records a raising program as failed with KB_ERR_USER_EXCEPTION and the line', async () => {
    const code = 'def handle_command(params):\n    x = 1\n    return {}["없는 키"]\n';
    const { runId } = await a.ok<{ runId: string }>('POST', '/runs', { code, input: {} });
    const run = await finished(a, runId);
    expect(run.status).toBe('failed');
    expect(run.result).toBeNull();
    expect(run.error).toMatchObject({ code: 'KB_ERR_USER_EXCEPTION', line: 3, message: expect.stringContaining('KeyError') });
  });

  it('records a run its API process left behind as failed once no runner can still be on it; a recent one stays running', async () => {
    const me = await a.ok<{ tenant: { id: string } }>('GET', '/me');
    // What an API process killed between sending the call and recording the answer leaves: rows still running.
    const { rows } = await stack.pool.query<{ id: string }>(
      `insert into kb_runs (id, tenant_id, status, code, input, created_at)
       values (gen_random_uuid(), $1, 'running', $2, '{}', now() - interval '5 minutes'), (gen_random_uuid(), $1, 'running', $2, '{}', now())
       returning id`,
      [me.tenant.id, CLEAN],
    );
    const left = await a.ok<any>('GET', `/runs/${rows[0]!.id}`);
    expect(left).toMatchObject({ status: 'failed', error: { code: 'KB_ERR_RUN_LOST', message: expect.stringContaining('실행 결과를 받지 못했습니다') } });
    expect(left.finishedAt).not.toBeNull();
    const { rows: stored } = await stack.pool.query(`select status from kb_runs where id = $1`, [rows[0]!.id]);
    expect(stored[0].status).toBe('failed');
    expect(await a.ok<any>('GET', `/runs/${rows[1]!.id}`)).toMatchObject({ status: 'running', error: null });
  });

  it("keeps a tenant's runs to itself", async () => {
    const { runId } = await a.ok<{ runId: string }>('POST', '/runs', { code: CLEAN });
    await finished(a, runId);
    const other = await b.call('GET', `/runs/${runId}`);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('KB_ERR_NOT_FOUND');
    expect((await b.call('POST', '/runs', { code: CLEAN, commandId: 999999 })).status).toBe(404);
  });
});
