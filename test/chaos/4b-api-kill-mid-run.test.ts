import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { Platform } from '../support/platform.js';
import { TenantClient } from '../support/tenant-client.js';
import { waitFor } from '../support/wait.js';
import { report } from './support.js';

const execFileP = promisify(execFile);

/**
 * kill -9 the API process while a test run sleeps on a runner (issue 12,
 * "runs always end"): the run's row was left `running` and nobody holds
 * its RPC any more. A new API process sweeps it to `failed`
 * (KB_ERR_RUN_LOST, Korean first) within a minute of its deadline, and an
 * editor whose socket reconnected to the new process hears the end
 * (`run:result`) or reads it in its join answer.
 */
const SLEEPY = `
import time

def handle_command(params):
    print("시작", flush=True)
    time.sleep(4)
    return "잘 잤다"
`;

type RunView = { id: string; status: string; output: string; error: { code: string; message: string } | null };

describe('chaos: API killed with a test run in flight', () => {
  let env: TestEnv;
  let platform: Platform;
  let socket: Socket | null = null;
  const runnerId = `chaos-api-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    env = await createTestEnv('chaos-api-kill', { LOG_LEVEL: 'warn' });
    platform = await Platform.create(env.env);
    await platform.start('runner', { RUNNER_ID: runnerId, RUNNER_POOL_SIZE: '1', RUNNER_POOL_PROFILES: 'free:256:0.5' });
    await platform.start('api');
  });
  afterAll(async () => {
    socket?.disconnect();
    await platform?.stopAll();
    const { stdout } = await execFileP('docker', ['ps', '-aq', '--filter', `label=org.domaeka.prefix=${env.brokerPrefix}`]).catch(() => ({ stdout: '' }));
    const left = stdout.split('\n').filter(Boolean);
    if (left.length) await execFileP('docker', ['rm', '-f', ...left]).catch(() => undefined);
    await env?.cleanup();
  });

  it('ends the run failed with the reason once the new API process sweeps it, and the reconnected editor hears it', async () => {
    onTestFailed(() => {
      for (const svc of ['api', 'runner'] as const) console.log(`--- ${svc}\n${(platform.logs.get(svc) ?? []).slice(-25).join('\n')}`);
    });
    const api = { port: platform.ports.api };
    const tenant = await TenantClient.signup(api, 'api-kill@chaos.example', '카오스 상점');
    const { runId } = await tenant.ok<{ runId: string }>('POST', '/runs', { code: SLEEPY, input: {} });
    // On a runner: what it printed has come back through the API that holds the run.
    await waitFor(async () => (await tenant.ok<RunView>('GET', `/runs/${runId}`)).output.includes('시작'), { timeoutMs: 30_000, what: 'the run started on the runner' });

    await platform.kill('api');
    const killedAt = Date.now();
    await platform.start('api');

    // The editor's socket reconnects to the new process and joins the run's room again.
    const seen: RunView[] = [];
    socket = io(`http://127.0.0.1:${api.port}`, { path: '/socket.io', transports: ['websocket'], extraHeaders: { cookie: tenant.cookie }, reconnection: false });
    socket.on('run:result', (run: RunView) => seen.push(run));
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', () => resolve());
      socket!.once('connect_error', reject);
    });
    const ack = (await socket.timeout(5000).emitWithAck('run:join', { runId })) as { ok: boolean; run: RunView };
    expect(ack.ok).toBe(true);
    const heard = ack.run.status === 'failed' ? ack.run : await waitFor(() => seen.find((r) => r.id === runId), { timeoutMs: 60_000, what: 'run:result from the sweeper' });
    const sweptMs = Date.now() - killedAt;

    const stored = await tenant.ok<RunView>('GET', `/runs/${runId}`);
    report('api-kill-mid-run', { joinedWhile: ack.run.status, heardBy: ack.run.status === 'failed' ? 'join answer' : 'run:result', sweptMs });
    for (const run of [heard, stored]) {
      expect(run.status).toBe('failed');
      expect(run.error?.code).toBe('KB_ERR_RUN_LOST');
      expect(run.error?.message).toMatch(/^실행 결과를 받지 못했습니다/);
    }
    // The free plan's deadline (5 s + 2 s) plus the sweep's grace and period: well within a minute of the kill.
    expect(sweptMs).toBeLessThan(60_000);
  });
});
