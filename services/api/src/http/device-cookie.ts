import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../accounts/tokens.js';
import { mac, sameText } from './keys.js';

export const DEVICE_COOKIE = 'kb_device';
/** Sent only to the auth routes (directly or through the web server, which keeps the path). */
const DEVICE_PATH = '/api/v1/auth';
/** A browser stays known this long after its last successful sign-in (each one issues a new cookie). */
const DEVICE_TTL_MS = 180 * 24 * 60 * 60 * 1000;

/**
 * "Device cookies" (OWASP, "Slow Down Online Guessing Attacks with Device
 * Cookies"): a browser that signed in to an account gets
 * `<nonce>.<HMAC(key, account + nonce)>`. At the next login for that
 * account it is a known client: the per-account lockout that wrong
 * passwords from elsewhere trigger does not apply to it (its own failures
 * lock only that cookie), so an attacker cannot lock the owner out of the
 * browser he always uses. The cookie names no account (the MAC is checked
 * against the email being logged in to) and proves nothing else: the
 * password is still required.
 */
export function mintDeviceCookie(key: Buffer, email: string): string {
  const nonce = randomToken(16);
  return `${nonce}.${mac(key, deviceText(email, nonce))}`;
}

/** The device id (the nonce) when the request's device cookie was issued for this account, else null. */
export function knownDevice(req: FastifyRequest, key: Buffer, email: string): string | null {
  const value = req.cookies[DEVICE_COOKIE];
  if (!value) return null;
  const dot = value.indexOf('.');
  if (dot <= 0) return null;
  const nonce = value.slice(0, dot);
  return sameText(value.slice(dot + 1), mac(key, deviceText(email, nonce))) ? nonce : null;
}

export function setDeviceCookie(reply: FastifyReply, value: string, secure: boolean): void {
  reply.setCookie(DEVICE_COOKIE, value, { httpOnly: true, sameSite: 'strict', secure, path: DEVICE_PATH, maxAge: DEVICE_TTL_MS / 1000 });
}

/** Emails are matched without case (as the users table does): one account, one text. */
function deviceText(email: string, nonce: string): string {
  return `kb_device\n${email.trim().toLowerCase()}\n${nonce}`;
}
