import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes, URL-safe: session cookies and API keys. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** What the database keeps of a bearer secret: a leaked table row is no credential. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
