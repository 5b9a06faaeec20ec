import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Keys for the cookies the API signs (the CSRF token bound to a session,
 * the device cookie of a browser that signed in), derived from SECRETS_KEY
 * with HKDF (RFC 5869), one per purpose, so one secret to keep and a leak
 * of one purpose's MAC teaches nothing about another's.
 */
export type KeyPurpose = 'csrf' | 'device';

export function derivedKey(secretsKey: Buffer, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secretsKey, Buffer.alloc(0), `domaeka ${purpose} v1`, 32));
}

/** HMAC-SHA256 of `text`, base64url (43 characters). */
export function mac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('base64url');
}

/** Constant-time equality of two strings (different lengths are unequal at once: the length is no secret). */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
