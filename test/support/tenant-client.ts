import type { ApiServer } from '../../services/api/src/app.js';
import { waitFor } from './wait.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
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

/** A signed-up tenant driving the API like a browser would (session cookie). */
export class TenantClient {
  private constructor(
    private readonly send: Send,
    readonly cookie: string,
  ) {}

  static async signup(api: ApiServer | { port: number }, email: string, name = '테스트 상점'): Promise<TenantClient> {
    const send = transport(api);
    const res = await send('POST', '/auth/signup', {}, { email, password: 'correct horse battery', name });
    if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
    return new TenantClient(send, res.cookies[0]!.split(';')[0]!);
  }

  async call<T = any>(method: Method, url: string, payload?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.send(method, url, { cookie: this.cookie }, payload);
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
