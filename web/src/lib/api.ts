/**
 * The one way the web app talks to the API (`/api/v1`, same origin through
 * server.js): JSON in and out, `{error:{code,message}}` turned into an
 * ApiError, and the CSRF double-submit header on every unsafe request (the
 * API copies nothing for us: the readable `kb_csrf` cookie goes back as
 * `x-csrf-token`).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export type Fetch = typeof fetch;

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function csrfToken(): string | undefined {
  if (typeof document === 'undefined') return undefined;
  const hit = document.cookie.split(';').map((c) => c.trim()).find((c) => c.startsWith('kb_csrf='));
  return hit ? decodeURIComponent(hit.slice('kb_csrf='.length)) : undefined;
}

export async function api<T = unknown>(method: string, path: string, body?: unknown, f: Fetch = fetch): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (!SAFE.has(method)) {
    const token = csrfToken();
    if (token) headers['x-csrf-token'] = token;
  }
  let res: Response;
  try {
    res = await f(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(0, 'KB_ERR_NETWORK', `서버에 연결할 수 없습니다 / cannot reach the server (${String(err)})`);
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? `${res.status} ${res.statusText}`, e?.details);
  }
  return data as T;
}

/** The Korean half of an API message ("한국어 / English"), or the whole when the UI is in English. */
export function messageOf(err: unknown, lang: 'ko' | 'en' = 'ko'): string {
  const msg = err instanceof Error ? err.message : String(err);
  const i = msg.indexOf(' / ');
  if (i < 0) return msg;
  return lang === 'ko' ? msg.slice(0, i) : msg.slice(i + 3);
}
