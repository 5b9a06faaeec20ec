import type { ApiServer } from '../../services/api/src/app.js';
import { waitFor } from './wait.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Send = (method: Method, url: string, headers: Record<string, string>, body?: unknown) => Promise<{ status: number; text: string; cookies: string[] }>;

/** In-process (fastify inject) for tests that build the API; real HTTP for child-process services (chaos, bench). */
function transport(api: ApiServer | { port: number }): Send {
  if ('app' in api) {
    return async (method, url, headers, body) => {
      const res = await api.app.inject({ method, url: `/api/v1${url}`, headers, payload: body as object | undefined });
      const raw = res.headers['set-cookie'];
      return { status: res.statusCode, text: res.body, cookies: raw === undefined ? [] : Array.isArray(raw) ? raw : [raw] };
    };
  }
  const base = `http://127.0.0.1:${api.port}/api/v1`;
  return async (method, url, headers, body) => {
    const res = await fetch(base + url, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text(), cookies: res.headers.getSetCookie() };
  };
}

/** `name=value` of each Set-Cookie header, by name. */
function cookieJar(setCookies: string[]): Map<string, string> {
  const jar = new Map<string, string>();
  for (const c of setCookies) {
    const pair = c.split(';')[0]!;
    jar.set(pair.slice(0, pair.indexOf('=')), pair);
  }
  return jar;
}

/**
 * A signed-up tenant driving the API like a browser would: the session
 * cookie and the CSRF cookie, echoed in `x-csrf-token` on unsafe methods as
 * the web app does.
 */
export class TenantClient {
  private constructor(
    private readonly send: Send,
    /** The `Cookie` header: `kb_session=...; kb_csrf=...`. */
    readonly cookie: string,
    /** The `kb_csrf` value (the web app reads it from document.cookie). */
    readonly csrfToken: string,
  ) {}

  static async signup(api: ApiServer | { port: number }, email: string, name = '테스트 상점'): Promise<TenantClient> {
    const send = transport(api);
    const res = await send('POST', '/auth/signup', {}, { email, password: 'correct horse battery', name });
    if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
    const jar = cookieJar(res.cookies);
    const session = jar.get('kb_session');
    const csrf = jar.get('kb_csrf');
    if (!session || !csrf) throw new Error(`signup set no kb_session/kb_csrf cookie: ${res.cookies.join(' | ')}`);
    return new TenantClient(send, `${session}; ${csrf}`, csrf.slice('kb_csrf='.length));
  }

  async call<T = any>(method: Method, url: string, payload?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { cookie: this.cookie };
    if (method !== 'GET') headers['x-csrf-token'] = this.csrfToken;
    const res = await this.send(method, url, headers, payload);
    return { status: res.status, body: res.text ? (JSON.parse(res.text) as T) : (undefined as T) };
  }

  async ok<T = any>(method: Method, url: string, payload?: unknown): Promise<T> {
    const r = await this.call<T>(method, url, payload);
    if (r.status >= 300) throw new Error(`${method} ${url} -> ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /**
   * Approves a phone as an operator would: once it is listed (a device row
   * appears after the phone's first signed packet, its pong to our first ping).
   */
  async approveDevice(botId: string, deviceID: string): Promise<void> {
    await waitFor(async () => (await this.ok<{ deviceKey: string }[]>('GET', `/bots/${botId}/devices`)).some((d) => d.deviceKey === deviceID), {
      what: `device ${deviceID} listed`,
    });
    await this.ok('POST', `/bots/${botId}/devices/${encodeURIComponent(deviceID)}/approve`);
  }
}
