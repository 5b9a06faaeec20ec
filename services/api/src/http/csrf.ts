import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiErrors } from '../errors.js';
import { randomToken } from '../services/tokens.js';

export const CSRF_COOKIE = 'kb_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change nothing: a page of another site may make them, they do no harm. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Double-submit CSRF protection for cookie sessions. The `kb_csrf` cookie is
 * readable by the web app's own scripts (not httpOnly) and SameSite=Strict;
 * the app copies it into `x-csrf-token` on every unsafe request. Another
 * site can make the browser send the cookies, but cannot read them to set
 * the header. Bearer keys need none of this: a browser never adds them.
 */
export function checkCsrf(req: FastifyRequest): void {
  if (SAFE_METHODS.has(req.method)) return;
  const cookie = req.cookies[CSRF_COOKIE];
  // A session opened before the CSRF cookie existed: only a new login gives the browser one.
  if (!cookie) throw apiErrors.csrfMissingCookie();
  const header = req.headers[CSRF_HEADER];
  if (typeof header !== 'string' || !sameToken(header, cookie)) throw apiErrors.csrf();
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A fresh token next to every new session (signup, login), expiring with it. */
export function setCsrfCookie(reply: FastifyReply, expiresAt: Date, secure: boolean): void {
  reply.setCookie(CSRF_COOKIE, randomToken(32), { httpOnly: false, sameSite: 'strict', secure, path: '/', expires: expiresAt });
}

export function clearCsrfCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(CSRF_COOKIE, { httpOnly: false, sameSite: 'strict', secure, path: '/' });
}
