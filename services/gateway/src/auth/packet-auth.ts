import { SIGNATURE_WINDOW_MS, verifyBotSignature, withinWindow } from '@domaeka/broker';
import type { Clock } from '../clock.js';
import type { ReplayCache } from './replay-cache.js';

/** Why a signed packet was refused (metric label, device counter, error packet). */
export type AuthRejection = 'missing_auth' | 'bot_mismatch' | 'device_mismatch' | 'stale_timestamp' | 'bad_signature' | 'replayed';

/** The identity a connection claimed in its handshake, and the bot's secrets. */
export interface AuthContext {
  botName: string;
  deviceID: string;
  secretKey: string;
  salt: string;
}

export type AuthVerdict = { ok: true; replayKey: string; expiresAt: number } | { ok: false; reason: AuthRejection };

/** The signed fields as the phone's JS joins them: null/undefined become ''. */
const field = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/**
 * Checks `data.auth` of a packet (bridge-v3.md, "Authentication of every
 * later packet"): botName and deviceUUID/deviceID equal to the handshake's,
 * timestamp within 5 minutes of our clock, HMAC valid, not seen before.
 * `verify` does not record anything; `accept` does, once the packet is
 * really taken.
 */
export class PacketAuthenticator {
  constructor(
    private readonly clock: Clock,
    private readonly replay: ReplayCache,
  ) {}

  verify(auth: unknown, ctx: AuthContext, event: string, discriminator: string): AuthVerdict {
    if (typeof auth !== 'object' || auth === null) return { ok: false, reason: 'missing_auth' };
    const a = auth as Record<string, unknown>;
    if (typeof a.signature !== 'string' || a.timestamp === undefined) return { ok: false, reason: 'missing_auth' };
    if (a.botName !== ctx.botName) return { ok: false, reason: 'bot_mismatch' };
    // deviceUUID is the signed one; deviceID, when sent, must agree too.
    if (a.deviceUUID !== ctx.deviceID || (a.deviceID !== undefined && a.deviceID !== ctx.deviceID)) {
      return { ok: false, reason: 'device_mismatch' };
    }
    const timestamp = typeof a.timestamp === 'number' ? a.timestamp : typeof a.timestamp === 'string' && /^\d{1,16}$/.test(a.timestamp) ? Number(a.timestamp) : NaN;
    if (!withinWindow(timestamp, this.clock.now())) return { ok: false, reason: 'stale_timestamp' };
    const fields = {
      clientType: field(a.clientType),
      botName: ctx.botName,
      deviceUUID: ctx.deviceID,
      macAddress: field(a.macAddress),
      ipAddress: field(a.ipAddress),
      timestamp,
    };
    if (!verifyBotSignature(fields, a.signature, ctx.secretKey, ctx.salt)) return { ok: false, reason: 'bad_signature' };
    const replayKey = `${a.signature}|${event}|${discriminator}`;
    if (this.replay.has(replayKey)) return { ok: false, reason: 'replayed' };
    return { ok: true, replayKey, expiresAt: timestamp + SIGNATURE_WINDOW_MS + 1 };
  }

  /** Marks the packet taken; false when another connection took the same packet meanwhile. */
  accept(v: { replayKey: string; expiresAt: number }): boolean {
    return this.replay.add(v.replayKey, v.expiresAt);
  }

  /** Forgets a packet that was taken but could not be delivered, so the phone's re-send is accepted. */
  release(replayKey: string): void {
    this.replay.delete(replayKey);
  }
}
