import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { json, startHarness, type Harness, type Seeded } from './harness.js';

/** A TCP relay in front of PostgreSQL that the test can cut and restore (the database "goes away"). */
class DbRelay {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('dispatcher: PostgreSQL away', () => {
  const relay = new DbRelay();
  let h: Harness;
  let a: Seeded;

  beforeAll(async () => {
    await relay.up();
    h = await startHarness('disp-outage', {
      stub: {
        '/hi': json({ text: '다시 왔어요' }),
        // The database goes away while the tenant's API is answering: the call happened, its store cannot.
        '/cut': (req, res) => void relay.down().then(() => json({ text: '한 번만 불렸어요' })(req, res)),
      },
      relayDatabase: (url) => {
        const u = new URL(url);
        u.port = String(relay.port);
        return u.toString();
      },
    });
    a = await h.seed.botWithDevice();
    await h.seed.command(a.tenantId, { command: '인사', url: h.stub.url('/hi') });
    await h.seed.command(a.tenantId, { command: '끊김', url: h.stub.url('/cut') });
  });
  afterAll(async () => {
    await h?.close();
    await relay.down();
  });

  it('holds events while the database is down (not ready, nothing dead-lettered) and answers them when it is back', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const warm = await h.analyze(a, { text: '인사' });
    await waitFor(() => replies.find((r) => r.id === warm));
    const base = `http://127.0.0.1:${h.dispatcher.httpPort}`;

    await relay.down();
    const held = await Promise.all([1, 2, 3].map((n) => h.analyze(a, { text: `인사 ${n}` })));
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, { what: 'not ready' });
    await waitFor(async () => /kb_dispatcher_dependency_down\{[^}]*\} 1/.test(await (await fetch(`${base}/metrics`)).text()), {
      what: 'events held',
    });
    expect(replies.filter((r) => held.includes(r.id))).toHaveLength(0);

    await relay.up();
    await waitFor(() => held.every((id) => replies.some((r) => r.id === id)), { what: 'held events answered', timeoutMs: 30_000 });
    expect(replies.filter((r) => held.includes(r.id)).map((r) => r.payload.text)).toEqual(['다시 왔어요', '다시 왔어요', '다시 왔어요']);
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, { what: 'ready again' });

    const ch = await h.conn.createChannel();
    try {
      expect((await ch.checkQueue(`${h.env.brokerPrefix}.dead`)).messageCount).toBe(0);
    } finally {
      await ch.close();
    }
  });

  it('stores the result of a call whose store met the outage when the database is back, without calling the API again', async () => {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const base = `http://127.0.0.1:${h.dispatcher.httpPort}`;
    const id = await h.analyze(a, { text: '끊김' });
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, { what: 'not ready' });
    await relay.up();
    await waitFor(async () => (await h.pool.query(`select 1 from kb_outbox where event_id = $1 and status = 'replied'`, [id])).rowCount === 1, {
      what: 'the held call stored',
      timeoutMs: 30_000,
    });
    expect(h.stub.requests.filter((r) => r.path === '/cut')).toHaveLength(1);
    const { rows } = await h.pool.query(`select error_code, attempts, reply->>'text' as text from kb_outbox o join kb_api_logs l using (event_id) where event_id = $1`, [id]);
    expect(rows).toEqual([{ error_code: null, attempts: 2, text: '한 번만 불렸어요' }]);
    // The reply went out with the first delivery; the retry sends it again under the same id (the gateway drops the second).
    expect(new Set(replies.filter((r) => r.id === id).map((r) => r.payload.text))).toEqual(new Set(['한 번만 불렸어요']));
  });
});
