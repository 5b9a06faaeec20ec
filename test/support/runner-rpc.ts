import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { envelope, messages, type EnvelopeOf, type RunnerCallPayload, type RunnerProfile, type RunnerResultPayload } from '@domaeka/broker';

/**
 * A bare RPC caller written from broker/README.md's contract (not the
 * dispatcher's client): publishes `runner.call.v1` to a runner's queue on
 * the default exchange with mandatory, expiration, replyTo and
 * correlationId, and waits for `runner.result.v1` on its own exclusive
 * queue.
 */
export const FREE_PROFILE: RunnerProfile = { name: 'free', memoryMb: 256, cpus: 0.5, timeoutMaxMs: 5000, maxConcurrency: 2 };

export class RpcCaller {
  private readonly waiting = new Map<string, (r: RunnerResultPayload) => void>();

  private constructor(
    private readonly conn: ChannelModel,
    private readonly ch: ConfirmChannel,
    private readonly replyQueue: string,
  ) {}

  static async connect(amqpUrl: string): Promise<RpcCaller> {
    const conn = await amqp.connect(amqpUrl);
    const ch = await conn.createConfirmChannel();
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    const caller = new RpcCaller(conn, ch, q.queue);
    await ch.consume(
      q.queue,
      (m) => {
        if (!m) return;
        const env = JSON.parse(m.content.toString()) as EnvelopeOf<RunnerResultPayload>;
        caller.waiting.get(m.properties.correlationId as string)?.(env.payload);
      },
      { noAck: true },
    );
    return caller;
  }

  callPayload(over: Partial<RunnerCallPayload> & { code: string }): RunnerCallPayload {
    const timeoutMs = over.timeoutMs ?? 3000;
    return {
      callId: randomUUID(),
      tenantId: 'tenant-a',
      commandId: '1',
      mode: 'ephemeral',
      profile: FREE_PROFILE,
      codeVersion: `1:${randomUUID()}`,
      params: { command: '날씨', parameters: ['화도읍'], raw_text: '날씨 화도읍', sender: '홍길동', room: '테스트방', channel_id: '1', metadata: {} },
      timeoutMs,
      deadline: Date.now() + timeoutMs + 3000,
      ...over,
    };
  }

  /** Publishes one call and resolves with its result (rejects when the queue is gone: the broker returned it). */
  async call(queue: string, payload: RunnerCallPayload, opts: { expirationMs?: number } = {}): Promise<RunnerResultPayload> {
    const env = envelope(messages.runnerCall, payload, payload.callId);
    const result = new Promise<RunnerResultPayload>((resolve) => this.waiting.set(payload.callId, resolve));
    let returned = false;
    const onReturn = (m: { properties: { correlationId?: string } }) => {
      if (m.properties.correlationId === payload.callId) returned = true;
    };
    this.ch.on('return', onReturn);
    try {
      await new Promise<void>((resolve, reject) =>
        this.ch.publish('', queue, Buffer.from(JSON.stringify(env)), {
          mandatory: true,
          persistent: false,
          correlationId: payload.callId,
          replyTo: this.replyQueue,
          messageId: env.id,
          type: 'runner.call.v1',
          expiration: String(opts.expirationMs ?? Math.max(1, payload.deadline - Date.now())),
        }, (err) => (err ? reject(err) : resolve())),
      );
    } finally {
      this.ch.off('return', onReturn);
    }
    if (returned) throw new Error(`no queue ${queue}: call returned`);
    return result;
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}
