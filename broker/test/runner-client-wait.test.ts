import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel } from 'amqplib';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrokerConnection,
  Publisher,
  assertRpcQueue,
  assertTopology,
  envelope,
  messages,
  names,
  routingKeys,
  topology,
  type EnvelopeOf,
  type RunnerCallPayload,
  MIN_RUN_MS,
  RunnerClient,
} from '@domaeka/broker';
import { createTestEnv, type TestEnv } from '../../test/support/env.js';
import { waitFor } from '../../test/support/wait.js';

/**
 * RunnerClient waits for a runner while the call's deadline allows (real
 * RabbitMQ; the runner is a fake written from broker/README.md's contract:
 * an exclusive queue of its own, heartbeats on the telemetry exchange, a
 * result to the call's replyTo). Counted: the calls each runner ran.
 */
class FakeRunner {
  readonly ran: string[] = [];
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly model: ChannelModel,
    readonly runnerId: string,
    readonly queue: string,
    readonly startedAt: number,
  ) {}

  static async start(env: TestEnv, runnerId: string): Promise<FakeRunner> {
    const model = await amqp.connect(env.amqpUrl);
    const ch = await model.createChannel();
    const n = names(env.brokerPrefix);
    const queue = n.runnerQueue(runnerId);
    await assertRpcQueue(ch, queue);
    const r = new FakeRunner(model, runnerId, queue, Date.now());
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const call = (JSON.parse(m.content.toString()) as EnvelopeOf<RunnerCallPayload>).payload;
        r.ran.push(call.callId);
        const result = { callId: call.callId, ok: true, result: { type: 'text', text: `ran by ${runnerId}` }, error: null, output: '', outputTruncated: false, durationMs: 1, cpuMs: null, peakMemoryBytes: null };
        ch.sendToQueue(m.properties.replyTo as string, Buffer.from(JSON.stringify(envelope(messages.runnerResult, result))), { correlationId: call.callId });
      },
      { noAck: true },
    );
    const beat = () =>
      ch.publish(
        n.telemetry,
        routingKeys.runnerHeartbeat,
        Buffer.from(JSON.stringify(envelope(messages.runnerHeartbeat, { runnerId, queue, startedAt: r.startedAt, capacity: 4, busy: 0 }))),
      );
    beat();
    r.timer = setInterval(beat, 200);
    return r;
  }

  /** Like kill -9: its connection (and so its exclusive queue) goes, no last word. */
  async kill(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.model.close().catch(() => undefined);
  }
}

describe('RunnerClient waits for a runner until the deadline (real RabbitMQ)', () => {
  let env: TestEnv;
  let conn: BrokerConnection;
  let client: RunnerClient;
  const metrics = new Registry();
  const runners: FakeRunner[] = [];

  beforeAll(async () => {
    env = await createTestEnv('runner-client-wait');
    conn = new BrokerConnection({ url: env.amqpUrl, connectionName: 'runner-client-wait', logger: pino({ level: 'silent' }) });
    await conn.onReady(async () => {
      const ch = await conn.createChannel();
      await assertTopology(ch, topology(env.brokerPrefix));
      await ch.close();
    });
    await conn.start();
    client = new RunnerClient(conn, new Publisher(conn, env.brokerPrefix), env.brokerPrefix, pino({ level: 'silent' }), { metrics });
    await client.start();
  });
  afterAll(async () => {
    for (const r of runners) await r.kill();
    await client?.stop();
    await conn?.close();
    await env?.cleanup();
  });

  const call = (timeoutMs: number, mode: 'ephemeral' | 'dedicated' = 'dedicated') =>
    client.call({
      tenantId: 'tenant-wait',
      commandId: '1',
      mode,
      profile: { name: 'premium', memoryMb: 512, cpus: 1, timeoutMaxMs: 30_000, maxConcurrency: 4 },
      code: 'def handle_command(params):\n    return "x"\n',
      codeVersion: '1:1',
      params: {},
      timeoutMs,
      deadline: Date.now() + timeoutMs + 2000,
    });
  const waited = async () => {
    const text = await metrics.metrics();
    const of = (o: string) => Number(new RegExp(`kb_runner_rpc_waited_total\\{[^}]*outcome="${o}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
    return { delivered: of('delivered'), gave_up: of('gave_up') };
  };

  it('a call made before any runner beats waits, and is delivered once a runner appears', async () => {
    const outcome = call(5000);
    await waitFor(() => client.waitStats().waiting === 1, { what: 'the call waiting' });
    const r = await FakeRunner.start(env, `wait-a-${randomUUID().slice(0, 6)}`);
    runners.push(r);
    const o = await outcome;
    expect(o).toMatchObject({ kind: 'result', runnerId: r.runnerId, result: { ok: true, result: { text: `ran by ${r.runnerId}` } } });
    expect(r.ran).toHaveLength(1);
    expect(client.waitStats()).toMatchObject({ waited: 1, delivered: 1, gaveUp: 0, waiting: 0 });
    expect(await waited()).toEqual({ delivered: 1, gave_up: 0 });
    await r.kill();
  });

  it('after the only runner died (its queue gone, still in the registry), a call waits for its restart and runs once', async () => {
    const id = `wait-b-${randomUUID().slice(0, 6)}`;
    const first = await FakeRunner.start(env, id);
    runners.push(first);
    await waitFor(() => client.registry.alive(id, first.startedAt), { what: 'the runner known' });
    expect((await call(5000)).kind).toBe('result');
    await first.kill();
    // Still beating as far as the registry knows (3 s): the call goes there, comes back (mandatory), and waits.
    expect(client.registry.alive(id, first.startedAt)).toBe(true);
    const outcome = call(5000);
    await waitFor(() => client.waitStats().waiting === 1, { what: 'the call waiting' });
    expect(client.registry.alive(id, first.startedAt)).toBe(false);
    const second = await FakeRunner.start(env, id); // the same id, a new life
    runners.push(second);
    const o = await outcome;
    expect(o).toMatchObject({ kind: 'result', runnerId: id });
    expect(first.ran).toHaveLength(1);
    expect(second.ran).toHaveLength(1);
    expect(client.waitStats()).toMatchObject({ waited: 2, delivered: 2, gaveUp: 0, waiting: 0 });
    await second.kill();
  });

  it('with no runner until the deadline: KB_ERR_NO_RUNNER, after waiting, before the deadline', async () => {
    const started = Date.now();
    const timeoutMs = 500; // deadline in 2.5 s: it waits until MIN_RUN_MS before it
    const o = await call(timeoutMs, 'ephemeral');
    const took = Date.now() - started;
    expect(o).toMatchObject({ kind: 'failed', code: 'KB_ERR_NO_RUNNER', runnerId: null });
    expect(o.kind === 'failed' && o.message).toMatch(/; waited \d+ ms for a runner until the deadline$/);
    expect(took).toBeGreaterThanOrEqual(timeoutMs + 2000 - MIN_RUN_MS - 50);
    // Gave up before its deadline, by the client's own account (no wall-clock bound: a loaded machine only delays the test).
    const waitedMs = Number(/waited (\d+) ms/.exec(o.kind === 'failed' ? o.message : '')?.[1]);
    expect(waitedMs).toBeLessThan(timeoutMs + 2000);
    expect(client.waitStats()).toMatchObject({ waited: 3, delivered: 2, gaveUp: 1, waiting: 0 });
    expect(await waited()).toEqual({ delivered: 2, gave_up: 1 });
  });
  it('a call waiting for a runner ends at once (caller stopping) when its client stops', async () => {
    const other = new RunnerClient(conn, new Publisher(conn, env.brokerPrefix), env.brokerPrefix, pino({ level: 'silent' }));
    await other.start();
    const outcome = other.call({
      tenantId: 'tenant-stop',
      commandId: null,
      mode: 'ephemeral',
      profile: { name: 'free', memoryMb: 256, cpus: 0.5, timeoutMaxMs: 5000, maxConcurrency: 2 },
      code: 'x = 1',
      codeVersion: 'stop',
      params: {},
      timeoutMs: 30_000,
      deadline: Date.now() + 32_000,
    });
    await waitFor(() => other.waitStats().waiting === 1, { what: 'the call waiting' });
    await other.stop();
    // 'caller stopping', not the deadline's 'waited N ms ... until the deadline' 30 s away: the stop ended it.
    expect(await outcome).toMatchObject({ kind: 'failed', code: 'KB_ERR_NO_RUNNER', message: 'caller stopping' });
    expect(other.waitStats()).toMatchObject({ waited: 1, gaveUp: 1, waiting: 0 });
  });
});
