import type { ReplyPayload } from '@domaeka/broker';

/**
 * The bridge v3.3 line format (protocol/bridge-v3.md): a JSON object,
 * optionally followed directly by a Base64 raw part. Base64 never contains
 * `}`, so the JSON part ends at the LAST `}` of the line.
 */
export interface InboundPacket {
  /** `null` for the legacy handshake, which has no `event` at all. */
  event: string | null;
  /** `data`, or the top-level object for packets that put their fields there (old handshakes). */
  data: Record<string, unknown>;
  /** Everything after the JSON part, trimmed (Base64 for `message`). */
  raw: string;
}

export type ParseResult = { ok: true; packet: InboundPacket } | { ok: false; reason: 'not_json' | 'bad_packet' };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses one line; JSON.parse runs once, on the JSON part only. */
export function parsePacket(line: Buffer | string): ParseResult {
  const s = typeof line === 'string' ? line : line.toString('utf8');
  const end = s.lastIndexOf('}');
  if (end === -1) return { ok: false, reason: 'not_json' };
  let obj: unknown;
  try {
    obj = JSON.parse(s.slice(0, end + 1));
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  if (!isObject(obj)) return { ok: false, reason: 'bad_packet' };
  const event = typeof obj.event === 'string' ? obj.event : null;
  if (obj.event !== undefined && event === null) return { ok: false, reason: 'bad_packet' };
  const data = isObject(obj.data) ? obj.data : obj;
  return { ok: true, packet: { event, data, raw: s.slice(end + 1).trim() } };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Strict Base64 (standard alphabet, padding optional) of UTF-8 text; null when
 * it is not. Node's own decoder skips junk silently, hence the check.
 */
export function decodeBase64Text(raw: string): string | null {
  if (raw.length % 4 === 1 || !BASE64.test(raw)) return null;
  if (raw.includes('=') && raw.length % 4 !== 0) return null;
  try {
    return utf8.decode(Buffer.from(raw, 'base64'));
  } catch {
    return null;
  }
}

export function encodeBase64Text(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** One outbound line: JSON, raw part, `\n`. */
export function encodePacket(event: string, data: Record<string, unknown>, raw = ''): string {
  return JSON.stringify({ event, data }) + raw + '\n';
}

/** `2025-07-21 12:12:11.123` (UTC), the form the phones echo back in `pong`. */
export function formatServerTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

export interface HandshakeAnswer {
  success: boolean;
  approved: boolean;
  message: string;
  serverVersion: string;
  timezone: string;
}

export function encodeHandshakeComplete(a: HandshakeAnswer): string {
  return encodePacket('handshakeComplete', {
    success: a.success,
    approved: a.approved,
    message: a.message,
    server_version: a.serverVersion,
    timestamp: new Date().toISOString(),
    timezone: a.timezone,
    message_positions: [0, 0],
  });
}

export function encodePing(botName: string, serverTimestamp: string): string {
  return encodePacket('ping', { bot_name: botName, server_timestamp: serverTimestamp });
}

/** `field`: the packet's field at fault, when the refusal is about one (phones log the packet; only the message is read by people). */
export function encodeError(code: string, message: string, timezone: string, field?: string): string {
  return encodePacket('error', {
    code,
    message,
    ...(field ? { field } : {}),
    timestamp: new Date().toISOString(),
    timezone,
    message_positions: [0, 0],
  });
}

/**
 * A reply as the phone's packets. v3.3 phones get `messageResponse` with the
 * text (or the media files) as Base64 raw part, `room` AND `channel_id`
 * filled (text goes to the room by name, media by channel id). Media carry
 * no caption field in the protocol, so a caption follows as a text packet.
 * Phones before v3.3 parse the whole line as JSON: they get `data.text`
 * (media as `IMAGE_BASE64:` + `|||`-joined data, their own convention).
 */
export function encodeReply(r: ReplyPayload, opts: { legacy: boolean; timezone: string }): string {
  // A schedule's message (bridge v3.3 `scheduleMessage`) has the answer's shape under its own event name;
  // phones before v3.3 know only `messageResponse`, so they get that.
  const event = r.kind === 'schedule' && !opts.legacy ? 'scheduleMessage' : 'messageResponse';
  const common = { room: r.room, channel_id: r.channelId, bot_name: r.botName };
  const timestamp = new Date().toISOString();
  const hasMedia = r.type !== 'text' && r.media.length > 0;
  let out = '';
  if (opts.legacy) {
    if (hasMedia) {
      out += encodePacket(event, {
        ...common,
        text: 'IMAGE_BASE64:' + r.media.map((m) => m.data).join('|||'),
        ...(r.mediaWaitMs ? { media_wait_time: r.mediaWaitMs } : {}),
        timestamp,
        timezone: opts.timezone,
      });
    }
    if (!hasMedia || r.text) out += encodePacket(event, { ...common, text: r.text, timestamp, timezone: opts.timezone });
    return out;
  }
  if (hasMedia) {
    const positions = [0];
    let raw = '';
    for (const m of r.media) {
      raw += m.data;
      positions.push(raw.length);
    }
    out += encodePacket(
      event,
      {
        ...common,
        message_type: 'image',
        message_format: r.media[0]!.format,
        content_encoding: 'base64',
        message_positions: positions,
        ...(r.mediaWaitMs ? { media_wait_time: r.mediaWaitMs } : {}),
        timestamp,
        timezone: opts.timezone,
      },
      raw,
    );
    if (!r.text) return out;
  }
  const raw = encodeBase64Text(r.text);
  return (
    out +
    encodePacket(
      event,
      {
        ...common,
        message_type: 'text',
        content_encoding: 'base64',
        message_positions: [0, raw.length],
        timestamp,
        timezone: opts.timezone,
      },
      raw,
    )
  );
}
