import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerConnection, type BrokerState } from '@domaeka/broker';
import { AMQP_URL } from '../../test/support/env.js';
import { SilentListener } from '../../test/support/silent-listener.js';

/** Log lines as they were written (the warnings say what failed and when the next attempt comes). */
function recordingLogger() {
  const lines: string[] = [];
  const put = (_obj: object, msg?: string) => void lines.push(msg ?? '');
  return { lines, logger: { info: put, warn: put, error: put } };
}

/** Resolves with the first state `pred` accepts (now or in a later 'state' event). */
function stateWhere(conn: BrokerConnection, pred: (s: BrokerState) => boolean): Promise<BrokerState> {
  if (pred(conn.state)) return Promise.resolve(conn.state);
  return new Promise((resolve) => {
    const on = (s: BrokerState) => {
      if (!pred(s)) return;
      conn.off('state', on);
      resolve(s);
    };
    conn.on('state', on);
  });
}

describe('BrokerConnection against a broker that never completes the handshake', () => {
  let listener: SilentListener | null = null;
  let conn: BrokerConnection | null = null;
  afterEach(async () => {
    await conn?.close();
    await listener?.close();
  });

  it('times each attempt out, drops its socket, retries with backoff, says so, and connects once the broker answers', async () => {
    listener = await SilentListener.start();
    const { lines, logger } = recordingLogger();
    conn = new BrokerConnection({ url: listener.urlFor(AMQP_URL), connectionName: 'silent-test', logger, connectTimeoutMs: 300, minBackoffMs: 50, maxBackoffMs: 200 });
    let hooks = 0;
    await conn.onReady(async () => void hooks++);
    void conn.start();

    // Three attempts accepted by the silent listener, each timed out and reported.
    const third = await stateWhere(conn, (s) => s.attempts >= 3);
    expect(third).toMatchObject({ status: 'connecting', lastError: 'broker handshake timed out after 300 ms' });
    expect(conn.ready).toBe(false);
    expect(conn.readiness()).toMatch(/^connecting: broker handshake timed out after 300 ms \(attempt \d+\)$/);
    expect(lines.filter((l) => /^broker handshake timed out after 300 ms; retrying in \d+ ms$/.test(l)).length).toBeGreaterThanOrEqual(3);
    // Each timed-out attempt closed its socket (the listener saw the client's FIN): at most the attempt in progress is open.
    expect(listener.accepted).toBeGreaterThanOrEqual(3);
    expect(listener.closedByClient).toBeGreaterThanOrEqual(listener.accepted - 1);
    expect(listener.open).toBeLessThanOrEqual(1);
    expect(hooks).toBe(0);

    // The listener now proxies to the real broker: the next attempt connects, runs the setup hooks and says ready.
    const ready = once(conn, 'ready');
    listener.forwardTo(AMQP_URL);
    await ready;
    expect(conn.state).toMatchObject({ status: 'connected', attempts: 0 });
    expect(conn.readiness()).toBe(true);
    expect(hooks).toBe(1);
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    expect(q.messageCount).toBe(0);
    await ch.close();
  });

  it('close() ends an attempt in progress at once (no wait for its timeout)', async () => {
    listener = await SilentListener.start();
    conn = new BrokerConnection({ url: listener.urlFor(AMQP_URL), connectionName: 'silent-close', logger: recordingLogger().logger, connectTimeoutMs: 60_000 });
    const accepted = once(listener, 'accepted');
    const started = conn.start();
    await accepted;
    const closed = once(listener, 'closed');
    await conn.close();
    await started; // the connect loop ended
    await closed; // and its socket was dropped
    expect(conn.state.status).toBe('closed');
    expect(conn.readiness()).toBe('closed');
  });

  it('connects straight to a broker that answers', async () => {
    conn = new BrokerConnection({ url: AMQP_URL, connectionName: 'direct', logger: recordingLogger().logger });
    await conn.start();
    expect(conn.state).toMatchObject({ status: 'connected', attempts: 0, lastError: null });
  });
});
