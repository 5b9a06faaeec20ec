import { createHash } from 'node:crypto';
import { hasUnstorable, storableText } from '@domaeka/core';
import { decodeBase64Text, type InboundPacket } from './packet-codec.js';

/** What a phone says about itself in its (unsigned) handshake. */
export interface HandshakeInfo {
  botName: string;
  deviceID: string;
  version: string;
  clientType: string | null;
  deviceIP: string | null;
  deviceInfo: string | null;
  /** Phones before v3.3 read whole lines as JSON and want `data.text` replies. */
  legacyReplies: boolean;
}

const str = (v: unknown, max: number): string | null => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : null);
/**
 * Optional descriptive fields: kept when they are strings, cut to `max`, and
 * made storable (a NUL or lone surrogate, also one the cut leaves of an
 * emoji, shows as U+FFFD): they are free text, never worth refusing a packet.
 */
const opt = (v: unknown, max: number): string | null => (typeof v === 'string' ? storableText(v.slice(0, max)) : null);
/** Ids the phone may send as numbers (channel ids, log ids are longs on Android). */
const idOf = (v: unknown): string | null | undefined => {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string') return v;
  return undefined;
};

export function isHandshake(p: InboundPacket): boolean {
  return p.event === 'handshake' || (p.event === null && 'botName' in p.data);
}

/**
 * Why a packet is refused when one of its identifiers holds a character
 * PostgreSQL cannot store (NUL, a lone surrogate): `detail` names the field
 * (its v3.3 name, whichever form the phone used).
 */
export type Unstorable = { ok: false; reason: 'unstorable_field'; detail: string };

export type HandshakeResult = { ok: true; hs: HandshakeInfo } | { ok: false; reason: 'bad_handshake'; detail: string } | Unstorable;

/** The refusal when `v` holds a character PostgreSQL refuses; one regex test, nothing allocated when it does not. */
const unstorable = (field: string, v: string | null): Unstorable | null => (v && hasUnstorable(v) ? { ok: false, reason: 'unstorable_field', detail: field } : null);

/**
 * Refused when a required field (botName, version, deviceID) is missing or
 * absurd, or holds a character PostgreSQL cannot store: those name the bot
 * and the device row (looked up and written with them), so they are refused
 * by name rather than altered into another device.
 */
export function readHandshake(p: InboundPacket): HandshakeResult {
  const d = p.data;
  const botName = str(d.botName, 100);
  const deviceID = str(d.deviceID, 200);
  const version = str(d.version, 40);
  if (!botName || !deviceID || !version) return { ok: false, reason: 'bad_handshake', detail: !botName ? 'botName' : !deviceID ? 'deviceID' : 'version' };
  const bad = unstorable('botName', botName) ?? unstorable('deviceID', deviceID) ?? unstorable('version', version);
  if (bad) return bad;
  return {
    ok: true,
    hs: {
      botName,
      deviceID,
      version,
      clientType: opt(d.clientType, 100),
      deviceIP: opt(d.deviceIP, 100),
      deviceInfo: opt(d.deviceInfo, 300),
      legacyReplies: p.event === null || versionBelow(version, 3, 3),
    },
  };
}

export function versionBelow(version: string, major: number, minor: number): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a < major || (a === major && b < minor);
}

/**
 * What, besides the signature and the event, tells two packets apart in the
 * replay cache: the chat's log_id, else a hash of its content. The signature
 * covers no content, so two packets of one phone in the same millisecond
 * share it (bridge-v3.md).
 */
export function replayDiscriminator(p: InboundPacket): string {
  const logId = idOf(p.data.log_id ?? p.data.logId);
  if (logId) return 'l:' + logId;
  const content = p.raw || (typeof p.data.text === 'string' ? p.data.text : '');
  if (!content) return '';
  return 'h:' + createHash('sha256').update(content).digest('base64url').slice(0, 22);
}

export interface ChatFields {
  room: string;
  channelId: string;
  sender: string;
  senderHash: string | null;
  text: string;
  isGroupChat: boolean;
  isMention: boolean;
  logId: string | null;
  sentAt: string | null;
}

export type ChatRejection = 'invalid_base64' | 'text_too_long' | 'missing_field' | 'invalid_field' | 'unstorable_field';
export type ChatResult = { ok: true; chat: ChatFields } | { ok: false; reason: ChatRejection; detail: string };

/**
 * Reads a chat packet in either form: v3.3 `message` (snake_case, text as
 * Base64 raw part; message_positions is not trusted, the raw part is the
 * text) or the legacy `analyze` (camelCase, text inline as `data.text`).
 *
 * PostgreSQL refuses NUL and lone surrogates. The identifiers (room,
 * channel_id, log_id, user_hash) key the room row, the outbox's once-only
 * check and the logs, so one holding such a character is refused by name
 * (it used to dead-letter every message of its room); the text and the
 * sender's nickname are free text, replaced visibly (U+FFFD) so the command
 * still answers.
 */
export function readChat(p: InboundPacket, maxTextChars: number): ChatResult {
  const d = p.data;
  const legacy = p.event === 'analyze';
  let text: string | null;
  if (legacy) {
    text = typeof d.text === 'string' ? d.text : null;
    if (text === null) return { ok: false, reason: 'missing_field', detail: 'text' };
  } else {
    text = decodeBase64Text(p.raw);
    if (text === null) return { ok: false, reason: 'invalid_base64', detail: `raw part of ${p.raw.length} chars is not Base64 UTF-8` };
  }
  if (text.length > maxTextChars) return { ok: false, reason: 'text_too_long', detail: `${text.length} characters` };

  const channelId = idOf(legacy ? d.channelId : (d.channel_id ?? d.channelId));
  if (!channelId) return { ok: false, reason: 'missing_field', detail: 'channel_id' };
  if (channelId.length > 100) return { ok: false, reason: 'invalid_field', detail: 'channel_id' };
  const room = typeof d.room === 'string' ? d.room : null;
  if (room === null) return { ok: false, reason: 'missing_field', detail: 'room' };
  if (room.length > 500) return { ok: false, reason: 'invalid_field', detail: 'room' };
  const logId = idOf(legacy ? d.logId : (d.log_id ?? d.logId));
  if (logId === undefined || (logId && logId.length > 100)) return { ok: false, reason: 'invalid_field', detail: 'log_id' };
  const userHash = idOf(legacy ? d.userHash : (d.user_hash ?? d.userHash));
  const senderHash = userHash && userHash.length <= 200 ? userHash : null;
  const bad = unstorable('room', room) ?? unstorable('channel_id', channelId) ?? unstorable('log_id', logId) ?? unstorable('user_hash', senderHash);
  if (bad) return bad;
  // The phone's own clock, informative only: an unreadable one is dropped like an absurd one.
  const sentAt = typeof d.timestamp === 'string' && d.timestamp.length <= 40 && !hasUnstorable(d.timestamp) ? d.timestamp : null;
  return {
    ok: true,
    chat: {
      room,
      channelId,
      // A long nickname must not cost a command: cut, do not refuse.
      sender: opt(d.sender, 200) ?? '',
      senderHash,
      text: storableText(text),
      isGroupChat: (legacy ? d.isGroupChat : (d.is_group_chat ?? d.isGroupChat)) === true,
      isMention: (legacy ? d.isMention : (d.is_mention ?? d.isMention)) === true,
      logId,
      sentAt,
    },
  };
}

/** The monitoring numbers a `pong` carries (anything else is dropped). */
export function readMonitoring(v: unknown): Record<string, number> | null {
  if (typeof v !== 'object' || v === null) return null;
  const src = v as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const k of ['total_memory', 'memory_usage', 'memory_percent', 'message_queue_size', 'active_rooms']) {
    const n = src[k];
    if (typeof n === 'number' && Number.isFinite(n)) out[k] = n;
  }
  return Object.keys(out).length ? out : null;
}
