/**
 * Every reason a packet is refused: the metric label, the `error` packet
 * code the phone sees (its log shows it) and the Korean-first message.
 */
export const rejections = {
  line_too_long: { code: 'LINE_TOO_LONG', message: '패킷이 너무 깁니다 (line longer than the 1 MiB limit)' },
  not_json: { code: 'INVALID_PACKET', message: 'JSON 패킷이 아닙니다 (not a JSON packet)' },
  bad_packet: { code: 'INVALID_PACKET', message: '패킷 형식이 올바르지 않습니다 (malformed packet)' },
  before_handshake: { code: 'HANDSHAKE_REQUIRED', message: '핸드셰이크가 먼저 필요합니다 (handshake required first)' },
  bad_handshake: { code: 'INVALID_HANDSHAKE', message: '핸드셰이크 형식이 올바르지 않습니다 (malformed handshake)' },
  unknown_bot: { code: 'UNKNOWN_BOT', message: '등록되지 않은 봇입니다 (unknown bot)' },
  bot_disabled: { code: 'BOT_DISABLED', message: '사용이 중지된 봇입니다 (bot disabled)' },
  missing_auth: { code: 'MISSING_AUTH', message: '인증 정보가 없습니다 (auth missing)' },
  bot_mismatch: { code: 'BOT_MISMATCH', message: '봇 이름이 핸드셰이크와 다릅니다 (botName differs from the handshake)' },
  device_mismatch: { code: 'DEVICE_MISMATCH', message: '기기 ID가 핸드셰이크와 다릅니다 (deviceID differs from the handshake)' },
  stale_timestamp: { code: 'STALE_TIMESTAMP', message: '인증 시각이 5분 넘게 어긋났습니다 (timestamp outside the 5-minute window)' },
  bad_signature: { code: 'BAD_SIGNATURE', message: '서명이 올바르지 않습니다 (invalid signature)' },
  replayed: { code: 'REPLAYED', message: '이미 받은 패킷입니다 (replayed packet)' },
  invalid_base64: { code: 'INVALID_BASE64', message: '메시지 내용이 올바른 Base64가 아닙니다 (invalid Base64 payload)' },
  text_too_long: { code: 'TEXT_TOO_LONG', message: '메시지가 65,000자를 넘어 버렸습니다 (text over 65,000 characters dropped)' },
  missing_field: { code: 'INVALID_FIELD', message: '필수 항목이 없습니다 (required field missing)' },
  invalid_field: { code: 'INVALID_FIELD', message: '항목 값이 올바르지 않습니다 (invalid field)' },
  // An identifier (room, channel_id, log_id, user_hash; botName, deviceID, version) PostgreSQL cannot hold.
  unstorable_field: {
    code: 'UNSTORABLE_FIELD',
    message: '저장할 수 없는 문자(NUL 또는 짝 없는 서로게이트)가 들어 있습니다 (field holds a character that cannot be stored)',
  },
} as const;

export type RejectionReason = keyof typeof rejections;

/** Rejections whose message names the field at fault (the `detail` of the refusal). */
const namesField: ReadonlySet<RejectionReason> = new Set(['unstorable_field']);

/**
 * What the phone is told. For a refusal about one field the field is named
 * after the Korean part (`...습니다: room (field holds ...)`) and in `field`,
 * so the phone's log says which one to look at.
 */
export function describeRejection(reason: RejectionReason, detail?: string): { code: string; message: string; field?: string } {
  const { code, message } = rejections[reason];
  if (!detail || !namesField.has(reason)) return { code, message };
  const cut = message.indexOf(' (');
  return { code, message: `${message.slice(0, cut)}: ${detail}${message.slice(cut)}`, field: detail };
}

/** Other `error` packets the gateway sends (not packet rejections). */
export const notices = {
  handshakeTimeout: { code: 'HANDSHAKE_TIMEOUT', message: '10초 안에 핸드셰이크가 오지 않았습니다 (no handshake within 10 s)' },
  idle: { code: 'IDLE_TIMEOUT', message: '10분 동안 패킷이 없어 연결을 닫습니다 (idle for 10 minutes)' },
  replaced: { code: 'REPLACED', message: '같은 기기의 새 연결로 교체되었습니다 (replaced by a newer connection of this device)' },
  botDisabled: { code: 'BOT_DISABLED', message: '봇이 삭제되었거나 사용이 중지되었습니다 (bot removed or disabled)' },
  serverError: { code: 'SERVER_ERROR', message: '서버 오류가 발생했습니다 (server error)' },
  tooManyErrors: { code: 'TOO_MANY_ERRORS', message: '잘못된 패킷이 너무 많아 연결을 닫습니다 (too many bad packets)' },
} as const;

/**
 * `error` packets of the connection caps (code `TOO_MANY_CONNECTIONS`), by
 * cap (session/connection-caps.ts). The phone logs the packet, closes on
 * EOF and reconnects after its backoff; the message says which cap so an
 * operator reading the phone's log knows whom to ask.
 */
export const capNotices = {
  cap_total: { code: 'TOO_MANY_CONNECTIONS', message: '게이트웨이의 연결 수가 한도에 도달했습니다. 잠시 후 다시 연결하세요 (gateway connection limit reached; reconnect later)' },
  cap_ip: { code: 'TOO_MANY_CONNECTIONS', message: '이 IP 주소의 연결이 너무 많습니다 (too many connections from this IP address)' },
  cap_ip_unsigned: {
    code: 'TOO_MANY_CONNECTIONS',
    message: '이 IP 주소에서 인증되지 않은 연결이 너무 많습니다 (too many connections without a signed packet from this IP address)',
  },
  cap_bot: { code: 'TOO_MANY_CONNECTIONS', message: '이 봇의 연결 수가 한도에 도달했습니다 (connection limit of this bot reached)' },
  cap_bot_evicted: {
    code: 'TOO_MANY_CONNECTIONS',
    message: '이 봇에 인증되지 않은 연결이 가득 차 가장 오래된 연결을 닫습니다 (bot full; oldest connection without a signed packet closed)',
  },
} as const;

/** The signing deadline's notice, naming the configured seconds (`1.5초`, `30초`). */
export function signDeadlineNotice(deadlineMs: number): { code: string; message: string } {
  const s = String(Math.round(deadlineMs / 100) / 10);
  return {
    code: 'SIGN_TIMEOUT',
    message: `${s}초 안에 서명된 패킷이 오지 않아 연결을 닫습니다. 봇 이름, 비밀 키와 솔트를 확인하세요 (no validly signed packet within ${s} s; check the bot name, secret key and salt)`,
  };
}

export const handshakeMessages = {
  approved: '승인됨 (approved)',
  pending: '승인 대기 중 (pending approval)',
  blocked: '차단된 기기입니다 (device blocked)',
} as const;
