import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiErrors } from '../errors.js';
import { mac, sameText } from './keys.js';

export const CSRF_COOKIE = 'kb_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change nothing: a page of another site may make them, they do no harm. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF protection for cookie sessions: OWASP's "signed double-submit
 * cookie" (CSRF Prevention Cheat Sheet), the token an HMAC of the session
 * token under a server key (Django binds its token to the session too, when
 * CSRF_USE_SESSIONS). The `kb_csrf` cookie is readable by the web app's own
 * scripts (not httpOnly, SameSite=Strict) and copied into `x-csrf-token` on
 * every unsafe request. Another site can make the browser send the cookies
 * but cannot read them to set the header; and since the token is derived
 * from the session, a pair the attacker planted (a cookie tossed from a
 * sibling host) or took from his own session is refused. Bearer keys need
 * none of this: a browser never adds them.
 */
export function csrfTokenFor(key: Buffer, sessionToken: string): string {
  return mac(key, `kb_csrf\n${sessionToken}`);
}

/** Throws 403 KB_ERR_CSRF unless a safe method, or cookie = header = the session's token. */
export function checkCsrf(req: FastifyRequest, key: Buffer, sessionToken: string): void {
  if (SAFE_METHODS.has(req.method)) return;
  const cookie = req.cookies[CSRF_COOKIE];
  // A session opened before the CSRF cookie existed: only a new login gives the browser one.
  if (!cookie) throw apiErrors.csrfMissingCookie();
  const header = req.headers[CSRF_HEADER];
  if (typeof header !== 'string' || !sameText(header, cookie) || !sameText(header, csrfTokenFor(key, sessionToken))) throw apiErrors.csrf();
}

/** The token of a new session (signup, login), expiring with it. */
export function setCsrfCookie(reply: FastifyReply, token: string, expiresAt: Date, secure: boolean): void {
  reply.setCookie(CSRF_COOKIE, token, { httpOnly: false, sameSite: 'strict', secure, path: '/', expires: expiresAt });
}

export function clearCsrfCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(CSRF_COOKIE, { httpOnly: false, sameSite: 'strict', secure, path: '/' });
}
