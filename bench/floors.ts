import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import amqp, { type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import pg from 'pg';

/**
 * floors: what the parts of the room-message path cost on this machine
 * with nothing of ours in between, one at a time (amqplib and pg straight,
 * `noDelay` sockets), so the bench's end-to-end numbers can be read
 * against them (DESIGN.md section 7 "floors"):
 *
 * - `quorum-hop`: persistent publish to a quorum queue (our queue
 *   arguments) -> a consumer on another connection has it; and the
 *   publisher's confirm. A room message takes two: analyze and reply.
 * - `pg-commit`: one insert, autocommit (the outbox claim is one).
 * - `rpc-round-trip`: non-persistent publish with confirm to an exclusive
 *   classic queue, the consumer answers to the caller's exclusive queue
 *   (the dispatcher <-> runner call, without the container).
 *
 * Runs inside `npm run bench -- --scenarios floors` or alone:
 * `npx tsx bench/floors.ts [calls]`.
 */
export interface FloorRow {
  name: 'floors';
  what: 'quorum-hop' | 'quorum-confirm' | 'pg-commit' | 'rpc-round-trip';
  calls: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

export interface FloorOptions {
  calls: number;
  amqpUrl?: string;
  databaseUrl?: string;
  say?: (line: string) => void;
}

export async function measureFloors(opts: FloorOptions): Promise<FloorRow[]> {
  const say = opts.say ?? (() => undefined);
  const amqpUrl = opts.amqpUrl ?? process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const rows: FloorRow[] = [];
  say(`floors: ${opts.calls} of each, one at a time`);
  rows.push(...(await quorumHop(amqpUrl, opts.calls)));
  rows.push(await rpcRoundTrip(amqpUrl, opts.calls));
  rows.push(await pgCommit(databaseUrl, opts.calls));
  for (const r of rows) say(`  ${r.what}: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`);
  return rows;
}

async function quorumHop(url: string, calls: number): Promise<FloorRow[]> {
  const queue = `bench-floor.${randomBytes(4).toString('hex')}`;
  const pub = await amqp.connect(url, { noDelay: true });
  const sub = await amqp.connect(url, { noDelay: true });
  try {
    const ch = await pub.createConfirmChannel();
    // The arguments of our reply queues (broker/src/topology.ts).
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 20, 'x-overflow': 'reject-publish', 'x-dead-letter-strategy': 'at-least-once' } });
    const sch = await sub.createChannel();
    await sch.prefetch(10);
    let arrived: ((m: ConsumeMessage) => void) | null = null;
    await sch.consume(queue, (m) => {
      if (!m) return;
      sch.ack(m);
      arrived?.(m);
    });
    const hop: number[] = [];
    const confirm: number[] = [];
    const body = Buffer.from(JSON.stringify({ id: 'x', type: 'reply', payload: { text: '사과 재고 12개' } }));
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      const got = new Promise<void>((resolve) => (arrived = () => resolve()));
      const confirmed = publish(ch, '', queue, body, true);
      await got;
      hop.push(performance.now() - t0);
      await confirmed;
      confirm.push(performance.now() - t0);
    }
    await ch.deleteQueue(queue);
    return [row('quorum-hop', hop), row('quorum-confirm', confirm)];
  } finally {
    await pub.close().catch(() => undefined);
    await sub.close().catch(() => undefined);
  }
}

async function rpcRoundTrip(url: string, calls: number): Promise<FloorRow> {
  const caller = await amqp.connect(url, { noDelay: true });
  const server = await amqp.connect(url, { noDelay: true });
  try {
    const sch = await server.createChannel();
    const { queue: callQueue } = await sch.assertQueue('', { exclusive: true, durable: false });
    await sch.consume(callQueue, (m) => {
      if (!m) return;
      sch.sendToQueue(m.properties.replyTo as string, m.content, { correlationId: m.properties.correlationId as string, persistent: false });
      sch.ack(m);
    });
    const ch = await caller.createConfirmChannel();
    const { queue: replyQueue } = await ch.assertQueue('', { exclusive: true, durable: false });
    let answered: (() => void) | null = null;
    await ch.consume(replyQueue, () => answered?.(), { noAck: true });
    const times: number[] = [];
    const body = Buffer.from(JSON.stringify({ code: 'def handle_command(p): return "ok"', params: {} }));
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      const back = new Promise<void>((resolve) => (answered = resolve));
      await Promise.all([publish(ch, '', callQueue, body, false, { replyTo: replyQueue, correlationId: String(i), mandatory: true }), back]);
      times.push(performance.now() - t0);
    }
    return row('rpc-round-trip', times);
  } finally {
    await caller.close().catch(() => undefined);
    await server.close().catch(() => undefined);
  }
}

async function pgCommit(url: string, calls: number): Promise<FloorRow> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const table = `bench_floor_${randomBytes(4).toString('hex')}`;
  try {
    await client.query(`create table ${table} (id uuid primary key, tenant_id uuid not null, body text, at timestamptz not null default now())`);
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await client.query({ name: 'floor_insert', text: `insert into ${table} (id, tenant_id, body) values (gen_random_uuid(), gen_random_uuid(), $1)`, values: ['x'] });
      times.push(performance.now() - t0);
    }
    return row('pg-commit', times);
  } finally {
    await client.query(`drop table if exists ${table}`).catch(() => undefined);
    await client.end();
  }
}

function publish(ch: ConfirmChannel, exchange: string, key: string, body: Buffer, persistent: boolean, extra: amqp.Options.Publish = {}): Promise<void> {
  return new Promise((resolve, reject) => ch.publish(exchange, key, body, { persistent, ...extra }, (err) => (err ? reject(err as Error) : resolve())));
}

function row(what: FloorRow['what'], times: number[]): FloorRow {
  const s = [...times].sort((a, b) => a - b);
  const q = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 100) / 100;
  return { name: 'floors', what, calls: times.length, p50Ms: q(0.5), p90Ms: q(0.9), p99Ms: q(0.99) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const calls = Number(process.argv[2] ?? 1000);
  measureFloors({ calls, say: (l) => process.stderr.write(`${l}\n`) })
    .then((rows) => process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    });
}
