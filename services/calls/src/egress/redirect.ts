import { KbError } from '@domaeka/core';

/** One request of an exchange; a redirect produces the next one. */
export interface Hop {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Headers that may follow a redirect to another origin. Tenant api_headers
 * are secrets of any name (`X-Api-Key`, not only Authorization/Cookie), so
 * everything not on this list stays with the origin it was meant for.
 */
const CROSS_ORIGIN_SAFE = new Set(['accept', 'accept-language', 'content-type', 'content-language', 'user-agent']);

/** Headers that describe a body, dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location', 'transfer-encoding']);

export function isRedirect(status: number | undefined): boolean {
  return status !== undefined && REDIRECT_STATUSES.has(status);
}

/**
 * The request a redirect asks for (Fetch standard rules): 303, and 301/302
 * after a POST, become a GET without body; 307/308 repeat method and body.
 * The caller re-checks the new URL through the egress policy.
 */
export function redirectHop(hop: Hop, status: number, location: string): Hop {
  let next: URL;
  try {
    next = new URL(location, hop.url);
  } catch {
    throw new KbError('KB_ERR_TARGET_UNREACHABLE', `redirect to an invalid location "${location.slice(0, 200)}"`, 502);
  }
  next.hash = '';
  const toGet = (status === 303 && hop.method !== 'HEAD') || ((status === 301 || status === 302) && hop.method === 'POST');
  const crossOrigin = next.origin !== new URL(hop.url).origin;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(hop.headers)) {
    const lower = name.toLowerCase();
    if (toGet && BODY_HEADERS.has(lower)) continue;
    if (crossOrigin && !CROSS_ORIGIN_SAFE.has(lower)) continue;
    headers[name] = value;
  }
  return { url: next.href, method: toGet ? 'GET' : hop.method, headers, body: toGet ? undefined : hop.body };
}
