import { readHandshake } from '../protocol/inbound.js';
import { encodeHandshakeComplete, type InboundPacket } from '../protocol/packet-codec.js';
import { capNotices, describeRejection, handshakeMessages, type RejectionReason } from '../protocol/rejections.js';
import type { CapTicket } from './connection-caps.js';
import type { ConnectionDeps } from './connection.js';
import type { PhoneOutput } from './phone-output.js';
import type { PhoneSession } from './phone-session.js';

/** What the handshake asks of its connection: to end it, or to start what an open connection runs. */
export interface HandshakeHost {
  close(lastLine?: string): void;
  /** The handshake was answered: pings and the signing deadline start. */
  opened(): void;
}

/**
 * Answers a connection's handshake (bridge-v3.md): `handshakeComplete`
 * with `success:false` and a close for a malformed one, an unknown or
 * disabled bot, or a bot at its cap of connections; otherwise
 * `success:true` with `approved` from the device's row (new devices are
 * pending). The handshake proves nothing, so nothing is recorded here.
 */
export class HandshakeStep {
  constructor(
    private readonly session: PhoneSession,
    private readonly out: PhoneOutput,
    private readonly ticket: CapTicket,
    private readonly deps: Pick<ConnectionDeps, 'timezone' | 'serverVersion' | 'bots' | 'devices' | 'caps' | 'metrics'>,
    private readonly host: HandshakeHost,
  ) {}

  async answer(p: InboundPacket): Promise<void> {
    const tz = this.deps.timezone;
    const session = this.session;
    const read = readHandshake(p);
    const refuse = (reason: RejectionReason, detail?: string) => {
      this.out.reject(reason, 'handshake', detail);
      this.host.close(encodeHandshakeComplete({ success: false, approved: false, message: describeRejection(reason, detail).message, serverVersion: this.deps.serverVersion, timezone: tz }));
    };
    // Refused before any look-up: a NUL in botName or deviceID used to fail the query and answer SERVER_ERROR.
    if (!read.ok) return refuse(read.reason, read.detail);
    const hs = read.hs;
    const bot = await session.untilDbUp(() => this.deps.bots.get(hs.botName));
    if (session.state !== 'handshake') return;
    if (!bot) return refuse('unknown_bot');
    if (!bot.active) return refuse('bot_disabled');
    const known = await session.untilDbUp(() => this.deps.devices.find(bot.id, hs.deviceID));
    if (session.state !== 'handshake') return;
    const joined = this.deps.caps.joinBot(this.ticket, bot.id, hs.deviceID);
    if (!joined.ok) {
      this.deps.metrics.connectionRefused('cap_bot');
      session.log.warn({ bot: bot.name }, 'connection refused: the bot has as many signed connections as allowed');
      this.out.send(this.out.notice(capNotices.cap_bot));
      return this.host.close(encodeHandshakeComplete({ success: false, approved: false, message: capNotices.cap_bot.message, serverVersion: this.deps.serverVersion, timezone: tz }));
    }
    joined.evicted?.onEvict?.();
    session.hs = hs;
    session.bot = bot;
    session.deviceId = known?.id ?? null;
    session.state = 'open';
    session.log = session.log.child({ bot: bot.name, deviceKey: hs.deviceID });
    const status = known?.status ?? 'pending';
    this.out.send(encodeHandshakeComplete({ success: true, approved: status === 'approved', message: handshakeMessages[status], serverVersion: this.deps.serverVersion, timezone: tz }));
    session.log.info({ version: hs.version, status, legacy: hs.legacyReplies }, 'handshake answered');
    this.host.opened();
  }
}
