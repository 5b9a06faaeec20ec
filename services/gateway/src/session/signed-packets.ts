import type { AuthVerdict } from '../auth/packet-auth.js';
import type { ReplySink } from '../consumers/reply-consumer.js';
import { readChat, readMonitoring, replayDiscriminator } from '../protocol/inbound.js';
import type { InboundPacket } from '../protocol/packet-codec.js';
import { notices, signDeadlineNotice } from '../protocol/rejections.js';
import type { CapTicket } from './connection-caps.js';
import type { ConnectionDeps, ReplyConsumerHandle } from './connection.js';
import type { LiveDevice } from './device-registry.js';
import type { InputGate } from './input-gate.js';
import type { PhoneOutput } from './phone-output.js';
import type { PhoneSession } from './phone-session.js';
import type { Pinger } from './pinger.js';

type Accepted = Extract<AuthVerdict, { ok: true }>;

/** The connection as its device's holder: the registry retires it, the reply consumer writes to it. */
export type DeviceHolder = LiveDevice & ReplySink & { close(lastLine?: string): void };

/**
 * The packets that must be signed (`message`, `analyze`, `pong` and the
 * pre-3.3 `ping` answer) on an open connection. Each is verified (the
 * bot's key, the handshake's identity, the 5-minute window, the replay
 * cache). The first valid one ends the signing deadline and makes the
 * connection count for its device; then chat packets become analyze
 * events and pongs the device's round-trip time.
 */
export class SignedPackets {
  private inflight = 0;
  /** From the handshake's answer until the first validly signed packet. */
  private signTimer: NodeJS.Timeout | null = null;
  private replies: ReplyConsumerHandle | null = null;

  constructor(
    private readonly session: PhoneSession,
    private readonly out: PhoneOutput,
    private readonly pinger: Pinger,
    private readonly gate: InputGate,
    private readonly ticket: CapTicket,
    private readonly deps: Pick<ConnectionDeps, 'limits' | 'metrics' | 'bots' | 'devices' | 'registry' | 'auth' | 'analyze' | 'caps' | 'replyConsumer' | 'presence'>,
    private readonly holder: DeviceHolder,
  ) {}

  /** The handshake was answered: a validly signed packet must come within `signDeadlineMs`. */
  startDeadline(): void {
    this.signTimer = setTimeout(() => this.onSignDeadline(), this.deps.limits.signDeadlineMs);
  }

  stopDeadline(): void {
    if (this.signTimer) clearTimeout(this.signTimer);
    this.signTimer = null;
  }

  /** Replies go back to the device's queue. */
  stopReplies(): Promise<void> | undefined {
    return this.replies?.stop().catch(() => undefined);
  }

  handle(p: InboundPacket, t0: number): void {
    const session = this.session;
    const bot = session.bot!;
    const hs = session.hs!;
    if (bot.stale) return this.gate.exclusive(() => this.refreshBot(p, t0));
    const event = p.event!;
    const isPong = event === 'pong' || event === 'ping';
    const discriminator = isPong ? String(p.data.server_timestamp ?? '') : replayDiscriminator(p);
    const verdict = this.deps.auth.verify(p.data.auth, { botName: hs.botName, deviceID: hs.deviceID, secretKey: bot.secretKey, salt: bot.salt }, event, discriminator);
    if (!verdict.ok) return this.out.reject(verdict.reason, event);
    if (session.counted) return this.take(p, verdict, t0, isPong);
    this.signedOnce();
    this.gate.exclusive(async () => {
      await this.count();
      if (session.counted) this.take(p, verdict, t0, isPong);
      else session.log.warn({ event }, 'connection closed before it counted; packet not processed');
    });
  }

  private take(p: InboundPacket, verdict: Accepted, t0: number, isPong: boolean): void {
    if (isPong) return this.onPong(p, verdict);
    const r = readChat(p, this.deps.limits.maxTextChars);
    if (!r.ok) return this.out.reject(r.reason, p.event, r.detail);
    if (!this.deps.auth.accept(verdict)) return this.out.reject('replayed', p.event);
    const c = r.chat;
    const { bot, hs } = this.session;
    const deviceId = this.session.deviceId!;
    const res = this.deps.analyze.publish(
      {
        source: 'phone',
        botId: bot!.id,
        botName: bot!.name,
        deviceId,
        deviceKey: hs!.deviceID,
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
      return this.out.reject('invalid_field', p.event, res.invalid);
    }
    this.deps.devices.touch(deviceId);
    // Too many unconfirmed (broker away): stop reading this phone; it keeps its own queue.
    if (++this.inflight >= this.deps.limits.maxInflightPerConnection) this.gate.pause('inflight');
    void res.done.then((outcome) => {
      if (outcome === 'failed') this.deps.auth.release(verdict.replayKey);
      if (--this.inflight < this.deps.limits.maxInflightPerConnection) this.gate.unpause('inflight');
    });
  }

  private onPong(p: InboundPacket, verdict: Accepted): void {
    if (!this.deps.auth.accept(verdict)) return this.out.reject('replayed', p.event);
    const rtt = this.pinger.rttOf(p.data.server_timestamp);
    this.deps.devices.recordPong(this.session.deviceId!, rtt, readMonitoring(p.data.monitoring));
  }

  /** The first validly signed packet ends the signing deadline and the connection's place among the unsigned. */
  private signedOnce(): void {
    this.stopDeadline();
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
    this.session.log.warn({ deadlineMs: this.deps.limits.signDeadlineMs }, 'no validly signed packet within the deadline; closing');
    this.holder.close(this.out.notice(signDeadlineNotice(this.deps.limits.signDeadlineMs)));
  }

  /** First validly signed packet: record the device, take over from an older connection, consume its replies. */
  private async count(): Promise<void> {
    const session = this.session;
    const hs = session.hs!;
    const bot = session.bot!;
    const rec = await session.untilDbUp(() =>
      this.deps.devices.upsertSeen(bot.id, hs.deviceID, { clientType: hs.clientType, clientVersion: hs.version, deviceIp: hs.deviceIP, deviceInfo: hs.deviceInfo }),
    );
    session.deviceId = rec.id;
    session.deviceStatus = rec.status;
    if (session.state !== 'open' || session.retired) return;
    await this.deps.registry.claim(rec.id, this.holder);
    if (session.state !== 'open' || session.retired) {
      this.deps.registry.release(rec.id, this.holder);
      return;
    }
    session.counted = true;
    this.deps.metrics.deviceCounted(1);
    this.replies = this.deps.replyConsumer(rec.id, this.holder);
    await this.replies.start();
    this.presence(true);
    session.log.info({ deviceId: rec.id, status: rec.status }, 'connection counts for its device (first signed packet)');
  }

  /** `device.presence` for this counted connection (the bot page's connection step, the owner's pending badge). */
  presence(online: boolean): void {
    const { bot, hs, deviceId, deviceStatus } = this.session;
    if (!bot || !hs || !deviceId || !deviceStatus) return;
    this.deps.presence.publish({ tenantId: bot.tenantId, botId: bot.id, deviceId, deviceKey: hs.deviceID, status: deviceStatus, online });
  }

  private async refreshBot(p: InboundPacket, t0: number): Promise<void> {
    const session = this.session;
    const fresh = await session.untilDbUp(() => this.deps.bots.get(session.hs!.botName));
    if (session.state !== 'open') return;
    if (!fresh || !fresh.active || fresh.id !== session.bot!.id) {
      session.log.warn('bot removed or disabled; closing');
      return this.holder.close(this.out.notice(notices.botDisabled));
    }
    session.bot = fresh;
    this.handle(p, t0);
  }
}
