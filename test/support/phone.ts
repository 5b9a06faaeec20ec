import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { signBot } from '@domaeka/broker';

/**
 * A scripted bot phone speaking bridge v3.3 (protocol/bridge-v3.md) the way
 * the MessengerBotR bridge script does: handshake, signed packets (HMAC with
 * the bot's key and salt), `message` with the text as Base64 raw part, the
 * legacy `analyze` form, automatic `pong` to our pings. It parses what the
 * server sends the way the phone does (JSON part up to the last `}`, raw
 * part after it) and lets tests await packets. Used by the gateway tests,
 * the cross-service tests and the bench.
 */

export interface PhoneIdentity {
  botName: string;
  deviceID: string;
  secretKey: string;
  salt: string;
  clientType?: string;
  version?: string;
  macAddress?: string;
  ipAddress?: string;
  deviceIP?: string;
  deviceInfo?: string;
}

export interface PhoneOptions {
  /** Answer pings with a signed `pong` (true, default), with the pre-3.3 `ping` ('legacy'), or not at all (false). */
  autoPong?: boolean | 'legacy';
  /** Connect with TLS (options passed to tls.connect; certificate checks are off unless given). */
  tls?: boolean | tls.ConnectionOptions;
  /** The phone's clock for auth timestamps (default Date.now). */
  now?: () => number;
  /** Keep every received packet in `packets` (default true; the bench may turn it off and listen to 'packet'). */
  retain?: boolean;
  /** Monitoring numbers sent with pongs. */
  monitoring?: Record<string, number>;
  /** Source address of the socket (the bench spreads thousands of phones over 127.0.0.x, as many sources). */
  localAddress?: string;
}

export interface ReceivedPacket {
  event: string;
  data: Record<string, any>;
  /** Raw part after the JSON (Base64 for messageResponse). */
  raw: string;
  /** messageResponse (or scheduleMessage) text, decoded as the phone does (Base64 raw part, or legacy data.text); else null. */
  text: string | null;
  /** Date.now() when it arrived. */
  at: number;
}

/** Fields of `data.auth` a test may override (to forge bad packets). */
export interface AuthOverrides {
  clientType?: string;
  botName?: string;
  deviceUUID?: string;
  deviceID?: string;
  macAddress?: string;
  ipAddress?: string;
  timestamp?: number;
  version?: string;
  signature?: string;
  /** Sign with this key instead of the identity's. */
  secretKey?: string;
}

/** A complete `data.auth` object (as built by `phone.auth()`). */
export interface PhoneAuth {
  signature: string;
  timestamp: number;
  deviceUUID: string;
  [field: string]: unknown;
}

export interface PhoneMessage {
  room: string;
  channelId: string | null;
  text: string;
  logId?: string | null;
  sender?: string;
  userHash?: string | null;
  isGroupChat?: boolean;
  isMention?: boolean;
  /** Overrides of the auth fields, or a complete auth object to send as is (e.g. from an earlier packet). */
  auth?: AuthOverrides | PhoneAuth;
  /** Send this instead of the Base64 of `text` as raw part (message form only). */
  raw?: string;
  /** Extra or replacing fields of `data`. */
  extra?: Record<string, unknown>;
}

type Waiter = { event: string; predicate: (p: ReceivedPacket) => boolean; resolve: (p: ReceivedPacket) => void };

export class Phone extends EventEmitter {
  /** Every packet received, in order (when `retain`). */
  readonly packets: ReceivedPacket[] = [];
  identity: PhoneIdentity | null = null;
  closed = false;
  autoPong: boolean | 'legacy';
  private readonly taken = new WeakSet<ReceivedPacket>();
  private readonly waiters = new Set<Waiter>();
  private buffer = '';
  private readonly closedPromise: Promise<void>;
  private readonly now: () => number;

  private constructor(
    private readonly socket: net.Socket,
    private readonly opts: PhoneOptions,
  ) {
    super();
    this.autoPong = opts.autoPong ?? true;
    this.now = opts.now ?? Date.now;
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        this.emit('close');
        resolve();
      }),
    );
  }

  static connect(host: string, port: number, opts: PhoneOptions = {}): Promise<Phone> {
    return new Promise((resolve, reject) => {
      const tlsOpts = opts.tls === true ? {} : opts.tls || null;
      const socket = tlsOpts
        ? tls.connect({ host, port, rejectUnauthorized: false, ...tlsOpts }, () => done())
        : net.connect({ host, port, localAddress: opts.localAddress }, () => done());
      const done = () => {
        socket.off('error', reject);
        resolve(new Phone(socket, opts));
      };
      socket.once('error', reject);
    });
  }

  /** Sends the handshake (v3.3 form, or the pre-3.3 top-level form with `legacy`) and returns handshakeComplete's data. */
  async handshake(identity: PhoneIdentity, opts: { legacy?: boolean; wait?: boolean; extra?: Record<string, unknown> } = {}): Promise<Record<string, any>> {
    this.identity = identity;
    const data: Record<string, unknown> = {
      clientType: identity.clientType ?? 'MessengerBotR',
      botName: identity.botName,
      version: identity.version ?? (opts.legacy ? '3.2.2' : '3.3.3'),
      deviceID: identity.deviceID,
      deviceIP: identity.deviceIP ?? '10.0.0.2',
      deviceInfo: identity.deviceInfo ?? 'samsung SM-G991N (Android 13, API 33)',
      ...opts.extra,
    };
    if (opts.legacy) this.write(JSON.stringify(data) + '\n');
    else this.write(JSON.stringify({ event: 'handshake', data: { ...data, ...common(this.now(), '') } }) + '\n');
    if (opts.wait === false) return {};
    return (await this.nextPacket('handshakeComplete')).data;
  }

  /** `data.auth` as the phone builds it, signed with the identity's key and salt. */
  auth(over: AuthOverrides = {}): PhoneAuth {
    const id = this.requireIdentity();
    const fields = {
      clientType: over.clientType ?? id.clientType ?? 'MessengerBotR',
      botName: over.botName ?? id.botName,
      deviceUUID: over.deviceUUID ?? id.deviceID,
      macAddress: over.macAddress ?? id.macAddress ?? 'unknown',
      ipAddress: over.ipAddress ?? id.ipAddress ?? '10.0.0.2',
      timestamp: over.timestamp ?? this.now(),
    };
    return {
      ...fields,
      deviceID: over.deviceID ?? id.deviceID,
      version: over.version ?? id.version ?? '3.3.3',
      signature: over.signature ?? signBot(fields, over.secretKey ?? id.secretKey, id.salt),
    };
  }

  /** A v3.3 `message`; returns the exact line written (send it again with sendRaw to replay it). */
  sendMessage(m: PhoneMessage): string {
    const id = this.requireIdentity();
    const raw = m.raw ?? Buffer.from(m.text, 'utf8').toString('base64');
    const data = {
      room: m.room,
      channel_id: m.channelId,
      message_type: 'text',
      content_encoding: 'base64',
      ...common(this.now(), raw),
      sender: m.sender ?? '홍길동',
      is_group_chat: m.isGroupChat ?? true,
      log_id: m.logId === undefined ? String(this.now()) + String(Math.floor(Math.random() * 1e6)) : m.logId,
      user_hash: m.userHash === undefined ? 'abc123' : m.userHash,
      is_mention: m.isMention ?? false,
      bot_name: id.botName,
      client_type: id.clientType ?? 'MessengerBotR',
      auth: this.authFor(m.auth),
      ...m.extra,
    };
    const line = JSON.stringify({ event: 'message', data }) + raw + '\n';
    this.write(line);
    return line;
  }

  /** The pre-3.3 `analyze` form: camelCase fields, text inline. */
  sendLegacyAnalyze(m: PhoneMessage): string {
    const id = this.requireIdentity();
    const data = {
      room: m.room,
      text: m.text,
      sender: m.sender ?? '홍길동',
      isGroupChat: m.isGroupChat ?? true,
      channelId: m.channelId,
      logId: m.logId === undefined ? String(this.now()) + String(Math.floor(Math.random() * 1e6)) : m.logId,
      userHash: m.userHash === undefined ? 'abc123' : m.userHash,
      isMention: m.isMention ?? false,
      timestamp: new Date(this.now()).toISOString(),
      botName: id.botName,
      clientType: id.clientType ?? 'MessengerBotR',
      auth: this.authFor(m.auth),
      ...m.extra,
    };
    const line = JSON.stringify({ event: 'analyze', data }) + '\n';
    this.write(line);
    return line;
  }

  /** Answers a ping (event `pong`, or `ping` as clients before v3.3 do). */
  sendPong(serverTimestamp: unknown, opts: { legacy?: boolean; auth?: AuthOverrides } = {}): string {
    const id = this.requireIdentity();
    const data = {
      bot_name: id.botName,
      server_timestamp: serverTimestamp,
      monitoring: this.opts.monitoring ?? { total_memory: 512.0, memory_usage: 128.5, memory_percent: 25.1, message_queue_size: 0, active_rooms: 3 },
      auth: this.auth(opts.auth),
      ...common(this.now(), ''),
    };
    const line = JSON.stringify({ event: opts.legacy ? 'ping' : 'pong', data }) + '\n';
    this.write(line);
    return line;
  }

  /** Writes bytes as they are (add the `\n` yourself). */
  sendRaw(data: string | Buffer): void {
    this.write(data);
  }

  /**
   * The next received packet of this event (matching `predicate`) not yet
   * returned by an earlier call; waits for it up to `timeoutMs`.
   */
  nextPacket(event: string, predicate: (p: ReceivedPacket) => boolean = () => true, timeoutMs = 10_000): Promise<ReceivedPacket> {
    const found = this.packets.find((p) => !this.taken.has(p) && p.event === event && predicate(p));
    if (found) {
      this.taken.add(found);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`phone ${this.identity?.deviceID ?? '?'}: no '${event}' packet within ${timeoutMs} ms (got: ${this.packets.map((p) => p.event).join(', ') || 'nothing'})`));
      }, timeoutMs);
      const w: Waiter = {
        event,
        predicate,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
      };
      this.waiters.add(w);
    });
  }

  /** The text of the next messageResponse (decoded as the phone decodes it). */
  async nextReply(predicate: (text: string, p: ReceivedPacket) => boolean = () => true, timeoutMs = 10_000): Promise<string> {
    const p = await this.nextPacket('messageResponse', (p) => p.text !== null && predicate(p.text, p), timeoutMs);
    return p.text!;
  }

  /** Decoded texts of every messageResponse received so far. */
  replies(): string[] {
    return this.packets.filter((p) => p.event === 'messageResponse' && p.text !== null).map((p) => p.text!);
  }

  /** Resolves when the server closed the connection (rejects after `timeoutMs`). */
  waitClosed(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
      void this.closedPromise.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.socket.end();
      const t = setTimeout(() => this.socket.destroy(), 1000);
      await this.closedPromise;
      clearTimeout(t);
    }
  }

  /** Drops the connection without a FIN (a phone losing its network). */
  destroy(): void {
    this.socket.destroy();
  }

  private authFor(a: PhoneMessage['auth']): PhoneAuth {
    if (a && typeof a.signature === 'string' && typeof a.deviceUUID === 'string' && typeof a.timestamp === 'number' && !('secretKey' in a)) return a as PhoneAuth;
    return this.auth(a as AuthOverrides | undefined);
  }

  private requireIdentity(): PhoneIdentity {
    if (!this.identity) throw new Error('handshake first (the identity signs every packet)');
    return this.identity;
  }

  private write(data: string | Buffer): void {
    if (!this.closed) this.socket.write(data);
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.onLine(line);
    }
  }

  /** Parsed as the phone does: trim, JSON part up to the last `}`, raw part after it. */
  private onLine(line: string): void {
    const s = line.trim();
    const end = s.lastIndexOf('}');
    if (end === -1) return;
    let obj: { event?: string; data?: Record<string, any> };
    try {
      obj = JSON.parse(s.slice(0, end + 1));
    } catch {
      return;
    }
    if (!obj.event || !obj.data) return;
    const raw = s.slice(end + 1);
    let text: string | null = null;
    // scheduleMessage has messageResponse's shape (bridge v3.3).
    if (obj.event === 'messageResponse' || obj.event === 'scheduleMessage') {
      if (raw && obj.data.message_type === 'text') text = obj.data.content_encoding === 'base64' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      else if (!raw && typeof obj.data.text === 'string') text = obj.data.text;
    }
    const p: ReceivedPacket = { event: obj.event, data: obj.data, raw, text, at: Date.now() };
    if (p.event === 'ping' && this.autoPong && this.identity) this.sendPong(p.data.server_timestamp, { legacy: this.autoPong === 'legacy' });
    this.emit('packet', p);
    for (const w of this.waiters) {
      if (w.event === p.event && w.predicate(p)) {
        this.waiters.delete(w);
        this.taken.add(p);
        if (this.opts.retain !== false) this.packets.push(p);
        w.resolve(p);
        return;
      }
    }
    if (this.opts.retain !== false) this.packets.push(p);
  }
}

/** Connects a scripted phone (`Phone.connect`). */
export function connectPhone(host: string, port: number, opts: PhoneOptions = {}): Promise<Phone> {
  return Phone.connect(host, port, opts);
}

/** Fields every v3.3 packet carries. */
function common(now: number, raw: string) {
  return { timestamp: new Date(now).toISOString(), timezone: 'Asia/Seoul', message_positions: [0, raw.length] };
}
