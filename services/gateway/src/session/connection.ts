import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { EnvelopeOf, ReplyPayload } from '@domaeka/broker';
import type { Logger } from '@domaeka/core';
import type { PacketAuthenticator } from '../auth/packet-auth.js';
import type { BotDirectory } from '../bots/bot-directory.js';
import type { Clock } from '../clock.js';
import type { GatewayLimits } from '../config.js';
import type { ReplySink } from '../consumers/reply-consumer.js';
import type { DeviceStore } from '../devices/device-store.js';
import type { GatewayMetrics } from '../metrics.js';
import type { AnalyzePublisher } from '../publishing/analyze-publisher.js';
import type { DevicePresence } from '../publishing/device-presence.js';
import { isHandshake } from '../protocol/inbound.js';
import { LineSplitter } from '../protocol/line-splitter.js';
import { encodeReply, parsePacket } from '../protocol/packet-codec.js';
import { capNotices, notices, type RejectionReason } from '../protocol/rejections.js';
import type { CapTicket, ConnectionCaps } from './connection-caps.js';
import type { DeviceRegistry, LiveDevice } from './device-registry.js';
import { HandshakeStep } from './handshake.js';
import { InputGate } from './input-gate.js';
import { PhoneOutput } from './phone-output.js';
import { PhoneSession } from './phone-session.js';
import { Pinger } from './pinger.js';
import { SignedPackets } from './signed-packets.js';

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
  /** `device.presence` telemetry: a connection counts, a counted one ends. */
  presence: DevicePresence;
  replyConsumer(deviceId: string, sink: ReplySink): ReplyConsumerHandle;
  /** The bridge's caps; this connection was admitted with a ticket of them. */
  caps: ConnectionCaps;
  onClosed(conn: Connection): void;
}

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
 *
 * This class owns the socket's life (timers, input order, dispatch by
 * event, close); the steps live beside it: `handshake.ts` answers the
 * handshake, `signed-packets.ts` verifies, counts and takes signed packets,
 * `pinger.ts` pings, `phone-output.ts` writes, `phone-session.ts` holds
 * what they share.
 */
export class Connection implements ReplySink, LiveDevice {
  readonly id = nextId++;
  private readonly session: PhoneSession;
  private readonly out: PhoneOutput;
  private readonly pinger: Pinger;
  private readonly splitter: LineSplitter;
  private readonly gate: InputGate;
  private readonly handshake: HandshakeStep;
  private readonly signed: SignedPackets;
  private protocolErrors = 0;
  private handshakeTimer: NodeJS.Timeout | null;
  private idleTimer: NodeJS.Timeout | null;

  constructor(
    private readonly socket: Socket,
    private readonly deps: ConnectionDeps,
    private readonly ticket: CapTicket,
  ) {
    const session = (this.session = new PhoneSession(deps.logger.child({ conn: this.id, remote: socket.remoteAddress })));
    const out = (this.out = new PhoneOutput(socket, session, deps));
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    this.splitter = new LineSplitter(deps.limits.maxLineBytes, {
      onLine: (line) => this.onLine(line),
      onOverflow: (bytes) => {
        out.reject('line_too_long', null, `more than ${bytes} bytes`);
        this.close();
      },
    });
    this.gate = new InputGate(socket, (line) => this.handleLine(line), (err) => {
      if (session.ending) return;
      session.log.error({ err: String(err) }, 'connection step failed');
      this.close(out.notice(notices.serverError));
    });
    this.pinger = new Pinger(session, out, deps);
    this.signed = new SignedPackets(session, out, this.pinger, this.gate, ticket, deps, this);
    this.handshake = new HandshakeStep(session, out, ticket, deps, {
      close: (lastLine) => this.close(lastLine),
      opened: () => {
        // The first ping goes out now: the phone's pong is usually its first signed packet.
        this.pinger.start();
        this.signed.startDeadline();
      },
    });
    socket.on('data', (chunk: Buffer) => this.splitter.push(chunk));
    socket.on('error', (err) => session.log.debug({ err: String(err) }, 'socket error'));
    socket.on('close', () => this.onClosed());
    this.handshakeTimer = setTimeout(() => this.close(out.notice(notices.handshakeTimeout)), deps.limits.handshakeTimeoutMs);
    this.idleTimer = setTimeout(() => this.onIdle(), deps.limits.idleTimeoutMs);
    deps.metrics.connectionOpened();
    deps.metrics.unsignedChanged(1);
    ticket.onEvict = () => {
      deps.metrics.connectionRefused('cap_bot_evicted');
      session.log.warn('evicted: its bot is full and this is its oldest connection without a signed packet');
      this.close(out.notice(capNotices.cap_bot_evicted));
    };
  }

  /** ReplySink: replies are written only to a live, counted connection. */
  get alive(): boolean {
    const s = this.session;
    return s.state === 'open' && s.counted && !s.retired && !this.socket.destroyed;
  }

  get device(): { botName: string; deviceKey: string; deviceId: string | null; counted: boolean } | null {
    const s = this.session;
    return s.hs ? { botName: s.hs.botName, deviceKey: s.hs.deviceID, deviceId: s.deviceId, counted: s.counted } : null;
  }

  writeReply(reply: EnvelopeOf<ReplyPayload>): Promise<void> {
    return new Promise((resolve, reject) => {
      const hs = this.session.hs;
      if (!this.alive || !hs) return reject(new Error('connection not live'));
      const lines = encodeReply(reply.payload, { legacy: hs.legacyReplies, timezone: this.deps.timezone });
      this.out.send(lines, (err) => (err ? reject(err) : resolve()));
    });
  }

  async retire(reason: string): Promise<void> {
    if (this.session.retired) return;
    this.session.retired = true;
    this.session.log.info({ reason }, 'connection retired');
    await this.signed.stopReplies();
    this.close(this.out.notice(notices.replaced));
  }

  /** Ends the connection, optionally with a last packet; the socket is destroyed 2 s later at most. */
  close(lastLine?: string): void {
    if (this.session.ending) return;
    this.session.state = 'closing';
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
    const session = this.session;
    if (session.ending) return;
    const t0 = performance.now();
    const parsed = parsePacket(line);
    if (!parsed.ok) return this.protocolError(parsed.reason, `${line.length} bytes`);
    const p = parsed.packet;
    this.deps.metrics.packet(p.event ?? 'handshake');
    if (session.state === 'handshake') {
      if (!isHandshake(p)) {
        this.out.reject('before_handshake', p.event);
        return this.close();
      }
      if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
      this.handshakeTimer = null;
      return this.gate.exclusive(() => this.handshake.answer(p));
    }
    switch (p.event) {
      case 'message':
      case 'analyze':
      case 'pong':
      case 'ping': // clients before v3.3 answer our ping with `ping`
        return this.signed.handle(p, t0);
      case 'handshake':
      case null:
        session.log.info('second handshake on an open connection ignored');
        return;
      case 'error':
        session.log.warn({ message: String(p.data.message ?? '').slice(0, 300) }, 'phone reported an error');
        return;
      case 'status':
        session.log.debug({ status: p.data }, 'phone status');
        return;
      default:
        session.log.info({ event: p.event.slice(0, 50) }, 'unknown event ignored');
    }
  }

  private protocolError(reason: RejectionReason, detail: string): void {
    this.out.reject(reason, null, detail);
    if (this.session.state === 'handshake') return this.close();
    if (++this.protocolErrors > this.deps.limits.maxProtocolErrors) this.close(this.out.notice(notices.tooManyErrors));
  }

  // ---- lifecycle -----------------------------------------------------------

  private onIdle(): void {
    // Not reading on purpose (waiting on the broker or database) is not the phone's silence.
    if (this.gate.paused) return void this.idleTimer?.refresh();
    this.session.log.info('idle for too long; closing');
    this.close(this.out.notice(notices.idle));
  }

  private stopWork(): void {
    this.splitter.stop();
    this.gate.close();
    for (const t of [this.handshakeTimer, this.idleTimer]) if (t) clearTimeout(t);
    this.handshakeTimer = this.idleTimer = null;
    this.signed.stopDeadline();
    this.pinger.stop();
    // Replies go back to the queue now rather than wait for the socket to finish closing.
    void this.signed.stopReplies();
  }

  private onClosed(): void {
    const session = this.session;
    if (session.state === 'closed') return;
    this.stopWork();
    session.state = 'closed';
    if (session.counted && session.deviceId) {
      session.counted = false;
      this.deps.registry.release(session.deviceId, this);
      this.deps.metrics.deviceCounted(-1);
      this.signed.presence(false);
    }
    if (!this.ticket.signed) this.deps.metrics.unsignedChanged(-1);
    this.deps.caps.release(this.ticket);
    this.deps.metrics.connectionClosed();
    this.deps.onClosed(this);
    this.session.log.info('connection closed');
  }
}
