import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiErrors } from '../errors.js';
import type { ApiServices, Caller } from '../services/index.js';
import { checkCsrf, clearCsrfCookie, setCsrfCookie } from './csrf.js';

export const SESSION_COOKIE = 'kb_session';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every route not marked `config: { public: true }`. */
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    public?: boolean;
  }
}

/**
 * Every route (but signup/login/logout) needs a caller: the session cookie
 * or `Authorization: Bearer kb_...`. A bearer header, when present, decides
 * alone, so a script never acts with a browser's session by accident.
 * Runs on `onRequest`, so an anonymous request learns nothing about schemas.
 */
export function registerAuth(app: FastifyInstance, services: () => ApiServices): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (req.routeOptions.config.public) return;
    req.caller = await authenticate(req, services());
    if (!req.caller) throw apiErrors.unauthenticated();
    // Only a cookie rides along on a forged cross-site request; a bearer header is exempt.
    if (req.caller.via === 'session') checkCsrf(req);
  });
}

async function authenticate(req: FastifyRequest, s: ApiServices): Promise<Caller | null> {
  return authenticateWith(s, req.headers.authorization, req.cookies[SESSION_COOKIE]);
}

/** The one rule for HTTP requests and socket.io handshakes: a bearer header decides alone, else the session cookie. */
export async function authenticateWith(s: ApiServices, authorization: string | undefined, sessionToken: string | undefined): Promise<Caller | null> {
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return m ? s.apiKeys.authenticate(m[1]!) : null;
  }
  return sessionToken ? s.accounts.authenticateSession(sessionToken) : null;
}

/** The session token from a raw `Cookie` header (socket.io handshakes do not pass through fastify's cookie parser). */
export function sessionTokenFrom(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === SESSION_COOKIE) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The authenticated caller (routes behind the auth hook). */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw apiErrors.unauthenticated();
  return req.caller;
}

/** The session cookie and, next to it, the CSRF cookie the web app echoes in `x-csrf-token` (csrf.ts). */
export function setSessionCookie(reply: FastifyReply, token: string, expiresAt: Date, secure: boolean): void {
  reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: expiresAt });
  setCsrfCookie(reply, expiresAt, secure);
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: '/' });
  clearCsrfCookie(reply, secure);
}
