import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The bot signature scheme the phones already use (bridge v3.3), also
 * required of external bot servers: lowercase hex HMAC-SHA256, key = the
 * bot's secret key string, over `clientType|botName|deviceUUID|macAddress|ipAddress|timestamp|salt`.
 */
export interface SignedFields {
  clientType: string;
  botName: string;
  deviceUUID: string;
  macAddress: string;
  ipAddress: string;
  timestamp: number;
}

/** The signature window, measured at arrival. */
export const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

export function signBot(fields: SignedFields, secretKey: string, salt: string): string {
  const text = [
    fields.clientType,
    fields.botName,
    fields.deviceUUID,
    fields.macAddress,
    fields.ipAddress,
    String(fields.timestamp),
    salt,
  ].join('|');
  return createHmac('sha256', Buffer.from(secretKey, 'utf8')).update(text, 'utf8').digest('hex');
}

export function verifyBotSignature(fields: SignedFields, signature: string, secretKey: string, salt: string): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
  const expected = Buffer.from(signBot(fields, secretKey, salt), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

export function withinWindow(timestamp: number, now: number): boolean {
  return Number.isFinite(timestamp) && Math.abs(now - timestamp) <= SIGNATURE_WINDOW_MS;
}
