import { randomBytes } from 'node:crypto';
import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names, routingKeys, type EnvelopeOf, type RunnerHeartbeatPayload, type RunnerResultPayload } from '@domaeka/broker';
import { buildRunner, type Runner } from '../src/app.js';
import { parseRunnerConfig } from '../src/config.js';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { RpcCaller } from '../../../test/support/runner-rpc.js';
import { waitFor } from '../../../test/support/wait.js';

/**
 * The runner's fair share on real Docker and RabbitMQ (README "Fair share"):
 * a runner of capacity 4; tenant B (free, 2 at once) sends more sleeping
 * calls than its line holds. Its calls over the cap wait in its own line
 * (their messages acked, so the intake stays open), the overflow is answered
 * KB_ERR_BUSY at once, and tenant A's quick call is answered while B's first
 * sleepers still run. Asserted by the order in which answers arrive, never
 * by a wall-clock bound.
 */
const SLEEPER = `
import time
def handle_command(params):
    time.sleep(float(params["parameters"][1]))
    return params["parameters"][0]
`;
const QUICK = 'def handle_command(params):\n    return params["parameters"][0]\n';
const LINE = 3;

describe('runner: fair share between tenants', () => {
  let env: TestEnv;
  let runner: Runner;
  let caller: RpcCaller;
  let telemetry: ChannelModel;
  const beats: RunnerHeartbeatPayload[] = [];
  const runnerId = `t-fair-${randomBytes(3).toString('hex')}`;

  /** Sends one call and records, in `arrivals`, its label when its answer comes back. */
  const send = (arrivals: string[], tenantId: string, label: string, code: string, sleepS = 0, deadlineMs = 30_000) => {
    const payload = caller.callPayload({ tenantId, code, params: { parameters: [label, String(sleepS)] }, timeoutMs: 4000, deadline: Date.now() + deadlineMs });
    return caller.call(runner.queue, payload).then((r: RunnerResultPayload) => {
      arrivals.push(label);
      return r;
    });
  };
  const outcome = (r: RunnerResultPayload) => (r.ok ? String(r.result?.text) : String(r.error?.code));

  beforeAll(async () => {
    env = await createTestEnv('runner-fair-share');
    runner = buildRunner(
      parseRunnerConfig({
        ...env.env,
        RUNNER_ID: runnerId,
        RUNNER_HTTP_PORT: '0',
        RUNNER_HTTP_HOST: '127.0.0.1',
        RUNNER_CAPACITY: '4',
        RUNNER_EPHEMERAL_MAX: '4',
        RUNNER_TENANT_QUEUE_MAX: String(LINE),
        RUNNER_POOL_SIZE: '3',
        RUNNER_HEARTBEAT_MS: '100',
      }),
    );
    await runner.start();
    caller = await RpcCaller.connect(env.amqpUrl);
    telemetry = await amqp.connect(env.amqpUrl);
    const ch = await telemetry.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, names(env.brokerPrefix).telemetry, routingKeys.runnerHeartbeat);
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const beat = (JSON.parse(m.content.toString()) as EnvelopeOf<RunnerHeartbeatPayload>).payload;
        if (beat.runnerId === runnerId) beats.push(beat);
      },
      { noAck: true },
    );
    await waitFor(() => beats.length > 0, { what: 'a heartbeat' });
  });

  afterAll(async () => {
    await caller?.close();
    await telemetry?.close();
    await runner?.stop();
    await env?.cleanup();
  });

  it("answers tenant A while tenant B's calls wait in B's own line; B's overflow is told busy; B's line is served in order", async () => {
    await waitFor(() => runner.poolReady() >= 3, { what: 'a warm pool of 3', timeoutMs: 30_000 });
    const arrivals: string[] = [];
    const firstBeat = beats.length;
    // B: 2 run (its cap), 3 wait (its line), 3 are refused.
    const b = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8'].map((label) => send(arrivals, 'tenant-b', label, SLEEPER, 2.5));
    const sentA = performance.now();
    const a = send(arrivals, 'tenant-a', 'a1', QUICK);

    expect(outcome(await a)).toBe('a1');
    const aMs = performance.now() - sentA;
    const results = await Promise.all(b);
    expect(results.map(outcome)).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'KB_ERR_BUSY', 'KB_ERR_BUSY', 'KB_ERR_BUSY']);
    expect(results[5]!.error?.message).toMatch(/not run/);

    // Order: the refusals and A's answer before any of B's sleepers; B's line in its order after its first two.
    const first = Math.min(arrivals.indexOf('b1'), arrivals.indexOf('b2'));
    for (const early of ['a1', 'b6', 'b7', 'b8']) expect(arrivals.indexOf(early)).toBeLessThan(first);
    expect(new Set(arrivals.slice(4, 6))).toEqual(new Set(['b1', 'b2']));
    expect(new Set(arrivals.slice(6, 8))).toEqual(new Set(['b3', 'b4']));
    expect(arrivals[8]).toBe('b5');
    expect(runner.counters.parked).toBe(3);
    expect(runner.counters.refusedBusy).toBe(3);
    console.log(`[runner] fair share: tenant A answered in ${aMs.toFixed(1)} ms while tenant B had 2 calls sleeping 2.5 s and 3 waiting`);

    // The heartbeat names B (waiting, then refused, counted once each beat) and never A; `busy` counts running calls only.
    await waitFor(() => beats.length > firstBeat && beats.at(-1)!.lanes === undefined && beats.at(-1)!.busy === 0, { what: 'a quiet beat' });
    const seen = beats.slice(firstBeat);
    const named = seen.flatMap((beat) => beat.lanes ?? []);
    expect(named.some((l) => l.tenantId === 'tenant-b' && l.waiting > 0)).toBe(true);
    expect(named.filter((l) => l.tenantId === 'tenant-b').reduce((n, l) => n + l.refused, 0)).toBe(3);
    expect(named.filter((l) => l.tenantId !== 'tenant-b')).toEqual([]);
    expect(Math.max(...seen.map((beat) => beat.busy))).toBeLessThanOrEqual(2 + 1);
  });

  it("answers a waiting call whose deadline passes in its tenant's line with KB_ERR_TIMEOUT, never running it", async () => {
    const arrivals: string[] = [];
    const runsBefore = runner.counters.runs;
    const sleepers = ['s1', 's2'].map((label) => send(arrivals, 'tenant-c', label, SLEEPER, 2.5));
    const late = send(arrivals, 'tenant-c', 'late', QUICK, 0, 800);
    const r = await late;
    expect(r.error?.code).toBe('KB_ERR_TIMEOUT');
    expect(r.error?.message).toMatch(/waited in its tenant's line.*not run/);
    expect((await Promise.all(sleepers)).map(outcome)).toEqual(['s1', 's2']);
    expect(arrivals[0]).toBe('late');
    // Only the two sleepers ran.
    expect(runner.counters.runs).toBe(runsBefore + 2);
  });
});
