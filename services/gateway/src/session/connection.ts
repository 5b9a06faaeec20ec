import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EnvelopeOf, ReplyPayload } from '@domaeka/broker';
import { isDatabaseDown, type Logger } from '@domaeka/core';
import type { AuthVerdict, PacketAuthenticator } from '../auth/packet-auth.js';
import type { BotDirectory, BotEntry } from '../bots/bot-directory.js';
import type { Clock } from '../clock.js';
import type { GatewayLimits } from '../config.js';
import type { ReplySink } from '../consumers/reply-consumer.js';
import type { DeviceStore } from '../devices/device-store.js';
import type { GatewayMetrics } from '../metrics.js';
import type { AnalyzePublisher } from '../publishing/analyze-publisher.js';
import { isHandshake, readChat, readHandshake, readMonitoring, replayDiscriminator, type HandshakeInfo } from '../protocol/inbound.js';
import { LineSplitter } from '../protocol/line-splitter.js';
import { encodeError, encodeHandshakeComplete, encodePing, encodeReply, formatServerTimestamp, parsePacket, type InboundPacket } from '../protocol/packet-codec.js';
import { capNotices, describeRejection, handshakeMessages, notices, signDeadlineNotice, type RejectionReason } from '../protocol/rejections.js';
import type { CapTicket, ConnectionCaps } from './connection-caps.js';
import type { DeviceRegistry, LiveDevice } from './device-registry.js';
import { InputGate } from './input-gate.js';

export interface ReplyConsumerHandle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ConnectionDeps {
  limits: GatewayLimits;
  timezone: string;
  serverVersion: string;
  clock: Clock;
  logger: Logger;
  metrics: GatewayMetrics;
  bots: BotDirectory;
  devices: DeviceStore;
  registry: DeviceRegistry;
  auth: PacketAuthenticator;
  analyze: AnalyzePublisher;
  replyConsumer(deviceId: string, sink: ReplySink): ReplyConsumerHandle;
  /** The bridge's caps; this connection was admitted with a ticket of them. */
  caps: ConnectionCaps;
  onClosed(conn: Connection): void;
}

type State = 'handshake' | 'open' | 'closing' | 'closed';
type Notice = { code: string; message: string };

let nextId = 1;

/**
 * One phone socket (bridge-v3.md). States: waiting for the handshake (10 s),
 * open (handshake answered, pinged at once and every 30 s; closed unless a
 * validly signed packet comes within 30 s), closing, closed.
 * The handshake proves nothing, so the connection *counts* for its device
 * only after its first validly signed packet: then the device row is
 * upserted (pending when new), an older connection of the device is
 * retired, and the device's reply queue is declared and consumed, all
 * before that packet's analyze event is published.
 *
 * Lines are handled strictly in order. The few steps that wait (bot
 * look-up, counting) pause the socket and park the lines already split;
 * everything else (auth, decode, publish) runs synchronously per packet.
 */
export class Connection implements ReplySink, LiveDevice {
  readonly id = nextId++;
  private state: State = 'handshake';
  private log: Logger;
  private readonly splitter: LineSplitter;
  private hs: HandshakeInfo | null = null;
  private bot: BotEntry | null = null;
  /** devices.id once known: from the handshake look-up, or recorded when the connection counts. */
  private deviceId: string | null = null;
  private counted = false;
  private retired = false;
  private readonly gate: InputGate;
  private inflight = 0;
  private protocolErrors = 0;
  private handshakeTimer: NodeJS.Timeout | null;
  private idleTimer: NodeJS.Timeout | null;
  private pingTimer: NodeJS.Timeout | null = null;
  /** From the handshake's answer until the first validly signed packet. */
  private signTimer: NodeJS.Timeout | null = null;
  /** server_timestamp of recent pings -> when sent (for RTT). */
  private readonly pings = new Map<string, number>();
  private replies: ReplyConsumerHandle | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly deps: ConnectionDeps,
    private readonly ticket: CapTicket,
  ) {
    this.log = deps.logger.child({ conn: this.id, remote: socket.remoteAddress });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    this.splitter = new LineSplitter(deps.limits.maxLineBytes, {
      onLine: (line) => this.onLine(line),
      onOverflow: (bytes) => {
        this.reject('line_too_long', null, `more than ${bytes} bytes`);
        this.close();
      },
    });
    this.gate = new InputGate(socket, (line) => this.handleLine(line), (err) => {
      if (this.state === 'closing' || this.state === 'closed') return;
      this.log.error({ err: String(err) }, 'connection step failed');
      this.close(notice(notices.serverError, deps.timezone));
    });
    socket.on('data', (chunk: Buffer) => this.splitter.push(chunk));
    socket.on('error', (err) => this.log.debug({ err: String(err) }, 'socket error'));
    socket.on('close', () => this.onClosed());
    this.handshakeTimer = setTimeout(() => this.close(notice(notices.handshakeTimeout, deps.timezone)), deps.limits.handshakeTimeoutMs);
    this.idleTimer = setTimeout(() => this.onIdle(), deps.limits.idleTimeoutMs);
    deps.metrics.connectionOpened();
    deps.metrics.unsignedChanged(1);
    ticket.onEvict = () => {
      deps.metrics.connectionRefused('cap_bot_evicted');
      this.log.warn('evicted: its bot is full and this is its oldest connection without a signed packet');
      this.close(notice(capNotices.cap_bot_evicted, deps.timezone));
    };
  }

  /** ReplySink: replies are written only to a live, counted connection. */
  get alive(): boolean {
    return this.state === 'open' && this.counted && !this.retired && !this.socket.destroyed;
  }

  get device(): { botName: string; deviceKey: string; deviceId: string | null; counted: boolean } | null {
    return this.hs ? { botName: this.hs.botName, deviceKey: this.hs.deviceID, deviceId: this.deviceId, counted: this.counted } : null;
  }

  writeReply(reply: EnvelopeOf<ReplyPayload>): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.alive || !this.hs) return reject(new Error('connection not live'));
      const lines = encodeReply(reply.payload, { legacy: this.hs.legacyReplies, timezone: this.deps.timezone });
      this.send(lines, (err) => (err ? reject(err) : resolve()));
    });
  }

  async retire(reason: string): Promise<void> {
    if (this.retired) return;
    this.retired = true;
    this.log.info({ reason }, 'connection retired');
    await this.replies?.stop().catch(() => undefined);
    this.close(notice(notices.replaced, this.deps.timezone));
  }

  /** Ends the connection, optionally with a last packet; the socket is destroyed 2 s later at most. */
  close(lastLine?: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    // Keep reading (and ignoring) so unread input does not turn our FIN into an RST the phone sees first.
    this.stopWork();
    if (lastLine) this.socket.end(lastLine);
    else this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  // ---- input -------------------------------------------------------------

  private onLine(line: Buffer): void {
    this.idleTimer?.refresh();
    this.gate.offer(line);
  }

  private handleLine(line: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const t0 = performance.now();
    const parsed = parsePacket(line);
    if (!parsed.ok) return this.protocolError(parsed.reason, `${line.length} bytes`);
    const p = parsed.packet;
    this.deps.metrics.packet(p.event ?? 'handshake');
    if (this.state === 'handshake') {
      if (!isHandshake(p)) {
        this.reject('before_handshake', p.event);
        return this.close();
      }
      if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
      this.handshakeTimer = null;
      return this.gate.exclusive(() => this.handshake(p));
    }
    switch (p.event) {
      case 'message':
      case 'analyze':
      case 'pong':
      case 'ping': // clients before v3.3 answer our ping with `ping`
        return this.signed(p, t0);
      case 'handshake':
      case null:
        this.log.info('second handshake on an open connection ignored');
        return;
      case 'error':
        this.log.warn({ message: String(p.data.message ?? '').slice(0, 300) }, 'phone reported an error');
        return;
      case 'status':
        this.log.debug({ status: p.data }, 'phone status');
        return;
      default:
        this.log.info({ event: p.event.slice(0, 50) }, 'unknown event ignored');
    }
  }

  private async handshake(p: InboundPacket): Promise<void> {
    const tz = this.deps.timezone;
    const read = readHandshake(p);
    const refuse = (reason: RejectionReason, detail?: string) => {
      this.reject(reason, 'handshake', detail);
      this.close(encodeHandshakeComplete({ success: false, approved: false, message: describeRejection(reason, detail).message, serverVersion: this.deps.serverVersion, timezone: tz }));
    };
    // Refused before any look-up: a NUL in botName or deviceID used to fail the query and answer SERVER_ERROR.
    if (!read.ok) return refuse(read.reason, read.detail);
    const hs = read.hs;
    const bot = await this.untilDbUp(() => this.deps.bots.get(hs.botName));
    if (this.state !== 'handshake') return;
    if (!bot) return refuse('unknown_bot');
    if (!bot.active) return refuse('bot_disabled');
    const known = await this.untilDbUp(() => this.deps.devices.find(bot.id, hs.deviceID));
    if (this.state !== 'handshake') return;
    const joined = this.deps.caps.joinBot(this.ticket, bot.id, hs.deviceID);
    if (!joined.ok) {
      this.deps.metrics.connectionRefused('cap_bot');
      this.log.warn({ bot: bot.name }, 'connection refused: the bot has as many signed connections as allowed');
      this.send(notice(capNotices.cap_bot, tz));
      return this.close(encodeHandshakeComplete({ success: false, approved: false, message: capNotices.cap_bot.message, serverVersion: this.deps.serverVersion, timezone: tz }));
    }
    joined.evicted?.onEvict?.();
    this.hs = hs;
    this.bot = bot;
    this.deviceId = known?.id ?? null;
    this.state = 'open';
    this.log = this.log.child({ bot: bot.name, deviceKey: hs.deviceID });
    const status = known?.status ?? 'pending';
    this.send(encodeHandshakeComplete({ success: true, approved: status === 'approved', message: handshakeMessages[status], serverVersion: this.deps.serverVersion, timezone: tz }));
    this.log.info({ version: hs.version, status, legacy: hs.legacyReplies }, 'handshake answered');
    // The first ping goes out now: the phone's pong is usually its first signed packet.
    this.sendPing();
    this.pingTimer = setInterval(() => this.sendPing(), this.deps.limits.pingIntervalMs);
    this.signTimer = setTimeout(() => this.onSignDeadline(), this.deps.limits.signDeadlineMs);
  }

  private signed(p: InboundPacket, t0: number): void {
    const bot = this.bot!;
    const hs = this.hs!;
    if (bot.stale) return this.gate.exclusive(() => this.refreshBot(p, t0));
    const event = p.event!;
    const isPong = event === 'pong' || event === 'ping';
    const discriminator = isPong ? String(p.data.server_timestamp ?? '') : replayDiscriminator(p);
    const verdict = this.deps.auth.verify(p.data.auth, { botName: hs.botName, deviceID: hs.deviceID, secretKey: bot.secretKey, salt: bot.salt }, event, discriminator);
    if (!verdict.ok) return this.reject(verdict.reason, event);
    if (this.counted) return this.take(p, verdict, t0, isPong);
    this.signedOnce();
    this.gate.exclusive(async () => {
      await this.count();
      if (this.counted) this.take(p, verdict, t0, isPong);
      else this.log.warn({ event }, 'connection closed before it counted; packet not processed');
    });
  }

  private take(p: InboundPacket, verdict: Extract<AuthVerdict, { ok: true }>, t0: number, isPong: boolean): void {
    if (isPong) return this.onPong(p, verdict);
    const r = readChat(p, this.deps.limits.maxTextChars);
    if (!r.ok) return this.reject(r.reason, p.event, r.detail);
    if (!this.deps.auth.accept(verdict)) return this.reject('replayed', p.event);
    const c = r.chat;
    const deviceId = this.deviceId!;
    const res = this.deps.analyze.publish(
      {
        source: 'phone',
        botId: this.bot!.id,
        botName: this.bot!.name,
        deviceId,
        deviceKey: this.hs!.deviceID,
        room: c.room,
        channelId: c.channelId,
        sender: c.sender,
        senderHash: c.senderHash,
        text: c.text,
        isGroupChat: c.isGroupChat,
        isMention: c.isMention,
        logId: c.logId,
        sentAt: c.sentAt,
        replyRoute: `dev.${deviceId}`,
      },
      t0,
    );
    if ('invalid' in res) {
      this.deps.auth.release(verdict.replayKey);
      return this.reject('invalid_field', p.event, res.invalid);
    }
    this.deps.devices.touch(deviceId);
    // Too many unconfirmed (broker away): stop reading this phone; it keeps its own queue.
    if (++this.inflight >= this.deps.limits.maxInflightPerConnection) this.gate.pause('inflight');
    void res.done.then((outcome) => {
      if (outcome === 'failed') this.deps.auth.release(verdict.replayKey);
      if (--this.inflight < this.deps.limits.maxInflightPerConnection) this.gate.unpause('inflight');
    });
  }

  private onPong(p: InboundPacket, verdict: Extract<AuthVerdict, { ok: true }>): void {
    if (!this.deps.auth.accept(verdict)) return this.reject('replayed', p.event);
    const echoed = p.data.server_timestamp;
    let rtt: number | null = null;
    const sentAt = typeof echoed === 'string' ? this.pings.get(echoed) : undefined;
    if (sentAt !== undefined) {
      rtt = Math.max(0, Math.round(performance.now() - sentAt));
      this.pings.delete(echoed as string);
      this.deps.metrics.rttObserved(rtt);
    }
    this.deps.devices.recordPong(this.deviceId!, rtt, readMonitoring(p.data.monitoring));
  }

  /** The first validly signed packet ends the signing deadline and the connection's place among the unsigned. */
  private signedOnce(): void {
    if (this.signTimer) clearTimeout(this.signTimer);
    this.signTimer = null;
    if (this.ticket.signed) return;
    this.deps.caps.markSigned(this.ticket);
    this.deps.metrics.unsignedChanged(-1);
  }

  /** Counting after it (device row, registry, reply queue) may wait on the database; the deadline is about the phone. */
  private onSignDeadline(): void {
    if (this.gate.paused) {
      this.signTimer?.refresh();
      return;
    }
    this.deps.metrics.connectionRefused('sign_deadline');
    this.log.warn({ deadlineMs: this.deps.limits.signDeadlineMs }, 'no validly signed packet within the deadline; closing');
    this.close(notice(signDeadlineNotice(this.deps.limits.signDeadlineMs), this.deps.timezone));
  }

  /** First validly signed packet: record the device, take over from an older connection, consume its replies. */
  private async count(): Promise<void> {
    const hs = this.hs!;
    const bot = this.bot!;
    const rec = await this.untilDbUp(() =>
      this.deps.devices.upsertSeen(bot.id, hs.deviceID, { clientType: hs.clientType, clientVersion: hs.version, deviceIp: hs.deviceIP, deviceInfo: hs.deviceInfo }),
    );
    this.deviceId = rec.id;
    if (this.state !== 'open' || this.retired) return;
    await this.deps.registry.claim(rec.id, this);
    if (this.state !== 'open' || this.retired) {
      this.deps.registry.release(rec.id, this);
      return;
    }
    this.counted = true;
    this.deps.metrics.deviceCounted(1);
    this.replies = this.deps.replyConsumer(rec.id, this);
    await this.replies.start();
    this.log.info({ deviceId: rec.id, status: rec.status }, 'connection counts for its device (first signed packet)');
  }

  private async refreshBot(p: InboundPacket, t0: number): Promise<void> {
    const fresh = await this.untilDbUp(() => this.deps.bots.get(this.hs!.botName));
    if (this.state !== 'open') return;
    if (!fresh || !fresh.active || fresh.id !== this.bot!.id) {
      this.log.warn('bot removed or disabled; closing');
      return this.close(notice(notices.botDisabled, this.deps.timezone));
    }
    this.bot = fresh;
    this.signed(p, t0);
  }

  // ---- output ------------------------------------------------------------

  private sendPing(): void {
    const ts = formatServerTimestamp(this.deps.clock.now());
    this.pings.set(ts, performance.now());
    if (this.pings.size > 4) this.pings.delete(this.pings.keys().next().value!);
    this.send(encodePing(this.bot!.name, ts));
  }

  private send(data: string, cb?: (err?: Error | null) => void): void {
    if (this.state === 'closing' || this.state === 'closed' || this.socket.destroyed) {
      cb?.(new Error('connection closed'));
      return;
    }
    this.socket.write(data, cb);
    if (this.socket.writableLength > this.deps.limits.maxWriteBufferBytes) {
      this.log.warn({ buffered: this.socket.writableLength }, 'phone does not read; dropping the connection');
      this.socket.destroy();
    }
  }

  private reject(reason: RejectionReason, event: string | null, detail?: string): void {
    this.deps.metrics.rejected(reason);
    if (this.deviceId) this.deps.devices.countRejected(this.deviceId);
    this.log.warn({ reason, event, detail }, 'packet rejected');
    const r = describeRejection(reason, detail);
    this.send(encodeError(r.code, r.message, this.deps.timezone, r.field));
  }

  private protocolError(reason: RejectionReason, detail: string): void {
    this.reject(reason, null, detail);
    if (this.state === 'handshake') return this.close();
    if (++this.protocolErrors > this.deps.limits.maxProtocolErrors) this.close(notice(notices.tooManyErrors, this.deps.timezone));
  }

  // ---- lifecycle -----------------------------------------------------------

  private async untilDbUp<T>(fn: () => Promise<T>): Promise<T> {
    let backoff = 200;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!isDatabaseDown(err) || this.state === 'closing' || this.state === 'closed') throw err;
        this.log.warn({ err: String(err), retryInMs: backoff }, 'database down; holding the connection');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  private onIdle(): void {
    // Not reading on purpose (waiting on the broker or database) is not the phone's silence.
    if (this.gate.paused) return void this.idleTimer?.refresh();
    this.log.info('idle for too long; closing');
    this.close(notice(notices.idle, this.deps.timezone));
  }

  private stopWork(): void {
    this.splitter.stop();
    this.gate.close();
    for (const t of [this.handshakeTimer, this.idleTimer, this.signTimer]) if (t) clearTimeout(t);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.handshakeTimer = this.idleTimer = this.pingTimer = this.signTimer = null;
    // Replies go back to the queue now rather than wait for the socket to finish closing.
    void this.replies?.stop().catch(() => undefined);
  }

  private onClosed(): void {
    if (this.state === 'closed') return;
    this.stopWork();
    this.state = 'closed';
    if (this.counted && this.deviceId) {
      this.counted = false;
      this.deps.registry.release(this.deviceId, this);
      this.deps.metrics.deviceCounted(-1);
    }
    if (!this.ticket.signed) this.deps.metrics.unsignedChanged(-1);
    this.deps.caps.release(this.ticket);
    this.deps.metrics.connectionClosed();
    this.deps.onClosed(this);
    this.log.info('connection closed');
  }
}

function notice(n: Notice, timezone: string): string {
  return encodeError(n.code, n.message, timezone);
}
