import amqp, { type Channel, type ChannelModel } from 'amqplib';
import pg from 'pg';
import { names, routingKeys } from '@domaeka/broker';
import type { TestEnv } from '../support/env.js';
import { connectPhone, type Phone, type PhoneIdentity } from '../support/phone.js';
import { waitFor } from '../support/wait.js';

/**
 * What the chaos tests watch: replies per message id as the phones got
 * them (ReplyTracker), phones that lose their connection and come back
 * (ChaosPhone), and what the gateway published (EventTap).
 */

/** One copy of a reply as a phone received it. */
export interface ReplySeen {
  phone: number;
  /** Which connection of that phone (1 = first). */
  generation: number;
  at: number;
}

/** Replies per message id (`응답 <id>`), across every connection of every phone. */
export class ReplyTracker {
  readonly replies = new Map<string, ReplySeen[]>();
  /** Replies that do not echo an id (e.g. a Korean error message): always a failure here. */
  readonly stray: string[] = [];

  attach(phone: Phone, index: number, generation: number): void {
    phone.on('packet', (p: { event: string; text: string | null }) => {
      if (p.event !== 'messageResponse' || p.text === null) return;
      const m = /^응답 (\S+)$/.exec(p.text);
      if (!m) return void this.stray.push(p.text);
      const list = this.replies.get(m[1]!) ?? [];
      list.push({ phone: index, generation, at: Date.now() });
      this.replies.set(m[1]!, list);
    });
  }

  count(id: string): number {
    return this.replies.get(id)?.length ?? 0;
  }

  answered(ids: readonly string[]): number {
    return ids.filter((id) => this.count(id) > 0).length;
  }

  outcome(ids: readonly string[]) {
    const lost = ids.filter((id) => this.count(id) === 0);
    const doubled = ids.filter((id) => this.count(id) > 1);
    return { sent: ids.length, answered: ids.length - lost.length, lost, doubled };
  }
}

/** A bot phone that can lose its connection and come back with the same identity (as the real one does). */
export class ChaosPhone {
  phone!: Phone;
  generation = 0;
  /** Ids the stream handed this phone while it had no connection (the real phone queues them). */
  readonly unsent: string[] = [];
  /** Id -> the connection (generation) it was written to. */
  readonly written = new Map<string, number>();

  constructor(
    readonly index: number,
    readonly identity: PhoneIdentity,
    /** The gateway it connects to; a test moves it to another gateway (a phone whose gateway died). */
    public bridgePort: number,
    private readonly tracker: ReplyTracker,
  ) {}

  get connected(): boolean {
    return this.generation > 0 && !this.phone.closed;
  }

  /** Connects and handshakes (again); the handshake is answered only by a gateway that is up. */
  async connect(): Promise<void> {
    const phone = await connectPhone('127.0.0.1', this.bridgePort);
    this.tracker.attach(phone, this.index, this.generation + 1);
    await phone.handshake(this.identity);
    this.phone = phone;
    this.generation++;
  }

  /** Writes `<command> <id>` (default `에코 <id>`) with log_id `chaos-<id>`; false (and queued) when the phone has no connection. */
  send(id: string, command = '에코'): boolean {
    if (!this.connected) {
      this.unsent.push(id);
      return false;
    }
    this.phone.sendMessage({ room: `카오스방 ${this.index}`, channelId: `chaos-${this.index}`, text: `${command} ${id}`, logId: `chaos-${id}` });
    this.written.set(id, this.generation);
    return true;
  }

  /** Warm-up before the chaos: sends `w<index>-<k>` until one is answered (the path, its caches and the phone's room are ready). */
  async answeredOnce(): Promise<void> {
    let k = 0;
    await waitFor(
      async () => {
        const id = `w${this.index}-${k++}`;
        this.send(id);
        return waitFor(() => this.tracker.count(id) > 0, { timeoutMs: 3000, what: `warm-up ${id}` });
      },
      { timeoutMs: 60_000, what: `phone ${this.index} answered` },
    );
  }
}

/** A durable queue bound like the dispatch queue: every analyze event the gateway published, by log id. Survives broker connection loss. */
export class EventTap {
  readonly logIds = new Set<string>();
  /** Times the broker closed our connection. */
  lostConnections = 0;
  private conn: ChannelModel | null = null;
  private ch: Channel | null = null;
  private closing = false;
  private readonly queue: string;

  private constructor(private readonly env: TestEnv) {
    this.queue = `${env.brokerPrefix}.chaos.tap`;
  }

  static async open(env: TestEnv): Promise<EventTap> {
    const tap = new EventTap(env);
    await tap.connect();
    return tap;
  }

  accepted(id: string): boolean {
    return this.logIds.has(`chaos-${id}`);
  }

  /** Resolves once every message in the tap queue was delivered to us (deliveries precede the answer on the channel). */
  async drained(): Promise<void> {
    await waitFor(async () => this.ch && (await this.ch.checkQueue(this.queue)).messageCount === 0, { what: 'tap drained', timeoutMs: 30_000 });
  }

  /**
   * Dead letters: those still in `<prefix>.dead` (on a channel of its own: a
   * failed check closes its channel) plus those the API already moved into
   * `kb_dead_letters`.
   */
  async deadLettered(): Promise<number> {
    const conn = await amqp.connect(this.env.amqpUrl);
    let queued: number;
    try {
      const ch = await conn.createChannel();
      queued = (await ch.checkQueue(names(this.env.brokerPrefix).deadQueue)).messageCount;
    } finally {
      await conn.close().catch(() => undefined);
    }
    const db = new pg.Client({ connectionString: this.env.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ n: string }>('select count(*) as n from kb_dead_letters');
      return queued + Number(rows[0]!.n);
    } finally {
      await db.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.conn?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const conn = await amqp.connect(this.env.amqpUrl, { noDelay: true });
    conn.on('error', () => undefined);
    conn.on('close', () => {
      this.conn = this.ch = null;
      if (this.closing) return;
      this.lostConnections++;
      void waitFor(() => this.connect().then(() => true), { timeoutMs: 120_000, intervalMs: 200, what: 'tap reconnected' });
    });
    const ch = await conn.createChannel();
    await ch.prefetch(1000);
    await ch.assertQueue(this.queue, { durable: true });
    await ch.bindQueue(this.queue, names(this.env.brokerPrefix).events, routingKeys.analyze);
    await ch.consume(this.queue, (m) => {
      if (!m) return;
      this.logIds.add(String((JSON.parse(m.content.toString('utf8')) as { payload: { logId: string } }).payload.logId));
      ch.ack(m);
    });
    this.conn = conn;
    this.ch = ch;
  }
}
