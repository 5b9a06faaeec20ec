import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiConfig } from '../config.js';
import { apiErrors } from '../errors.js';
import type { ApiServices, Caller } from '../wiring.js';
import { clientResolver, type ClientResolver } from './client.js';
import { checkCsrf, clearCsrfCookie, csrfTokenFor, setCsrfCookie } from './csrf.js';
import { knownDevice, mintDeviceCookie, setDeviceCookie } from './device-cookie.js';
import { derivedKey } from './keys.js';

export const SESSION_COOKIE = 'kb_session';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every route not marked `config: { public: true }`. */
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    public?: boolean;
    /** Only a browser session, not an API key (the password change: a person re-entering the password). */
    sessionOnly?: boolean;
  }
}

/**
 * Every route (but signup/login/logout) needs a caller: the session cookie
 * or `Authorization: Bearer kb_...` (not for `sessionOnly` routes). A bearer header, when present, decides
 * alone, so a script never acts with a browser's session by accident.
 * Runs on `onRequest`, so an anonymous request learns nothing about schemas.
 */
export function registerAuth(app: FastifyInstance, services: () => ApiServices, config: ApiConfig): void {
  const sessions = new SessionCookies(config);
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (req.routeOptions.config.public) return;
    req.caller = await authenticate(req, services());
    if (!req.caller) throw apiErrors.unauthenticated();
    if (req.routeOptions.config.sessionOnly && req.caller.via !== 'session') throw apiErrors.sessionOnly();
    // Only a cookie rides along on a forged cross-site request; a bearer header is exempt.
    if (req.caller.via === 'session') sessions.checkCsrf(req);
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

/**
 * The browser's cookies in one place: the session (`kb_session`, httpOnly,
 * SameSite=Lax), its CSRF token (`kb_csrf`, csrf.ts) and the device cookie
 * (`kb_device`, device-cookie.ts). `Secure` when COOKIE_SECURE says always,
 * or when this request came over https (TLS, or a trusted proxy's
 * X-Forwarded-Proto: client.ts), as the OWASP Session Management cheat
 * sheet asks: a cookie set over https must never travel over http.
 */
export class SessionCookies {
  readonly client: ClientResolver;
  private readonly csrfKey: Buffer;
  private readonly deviceKey: Buffer;

  constructor(private readonly config: ApiConfig) {
    this.client = clientResolver(config);
    this.csrfKey = derivedKey(config.secretsKey, 'csrf');
    this.deviceKey = derivedKey(config.secretsKey, 'device');
  }

  /** After signup or login: a new session, its CSRF token, and this browser known to the account from now on. */
  open(req: FastifyRequest, reply: FastifyReply, email: string, session: { token: string; expiresAt: Date }): void {
    const secure = this.secure(req);
    reply.setCookie(SESSION_COOKIE, session.token, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: session.expiresAt });
    setCsrfCookie(reply, csrfTokenFor(this.csrfKey, session.token), session.expiresAt, secure);
    setDeviceCookie(reply, mintDeviceCookie(this.deviceKey, email), secure);
  }

  /** Logout: session and CSRF cookies go; the device cookie stays (the browser is still the owner's). */
  clear(req: FastifyRequest, reply: FastifyReply): void {
    const secure = this.secure(req);
    reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: '/' });
    clearCsrfCookie(reply, secure);
  }

  /** 403 KB_ERR_CSRF unless the request is safe or carries this session's token (cookie and header). */
  checkCsrf(req: FastifyRequest): void {
    checkCsrf(req, this.csrfKey, req.cookies[SESSION_COOKIE] ?? '');
  }

  /** The device id when this browser signed in to `email` before (its cookie verifies), else null. */
  knownDevice(req: FastifyRequest, email: string): string | null {
    return knownDevice(req, this.deviceKey, email);
  }

  private secure(req: FastifyRequest): boolean {
    return this.config.cookieSecure || this.client(req).https;
  }
}
