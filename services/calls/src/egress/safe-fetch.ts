import { KbError } from '@domaeka/core';
import { Deadline } from './deadline.js';
import { EgressDeniedError, type EgressDecision, type EgressPolicy } from './policy.js';
import { isRedirect, redirectHop, type Hop } from './redirect.js';
import { discard, readBody, sendHop } from './transport.js';

export { httpAgent as egressHttpAgent, httpsAgent as egressHttpsAgent } from './transport.js';

export interface SafeRequest {
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
  /** Response bodies larger than this abort with KB_ERR_TARGET_TOO_LARGE. */
  maxBytes: number;
  maxRedirects?: number;
}

export interface SafeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The URL finally answered (after redirects). */
  url: string;
}

function refusal(decision: Extract<EgressDecision, { ok: false }>): KbError {
  // A name that does not resolve is a dead target, not a forbidden one.
  if (decision.unresolved) return new KbError('KB_ERR_TARGET_UNREACHABLE', decision.reason, 502);
  return new EgressDeniedError(decision.reason);
}

/**
 * HTTP(S) request through the egress policy: DNS resolved by us and the
 * checked IP pinned for the connection, every redirect re-checked,
 * credentials (Authorization, Cookie) stripped on cross-host redirects,
 * a deadline over the whole exchange and a body size cap.
 * Errors are KbError with codes KB_ERR_EGRESS_DENIED, KB_ERR_TIMEOUT,
 * KB_ERR_TARGET_TOO_LARGE, KB_ERR_TARGET_UNREACHABLE.
 * Non-2xx answers are returned, not thrown: the caller decides what they mean.
 */
export async function safeFetch(policy: EgressPolicy, req: SafeRequest): Promise<SafeResponse> {
  const maxRedirects = req.maxRedirects ?? 3;
  const deadline = new Deadline(req.timeoutMs);
  let hop: Hop = {
    url: req.url,
    method: req.method.toUpperCase(),
    headers: { ...req.headers },
    body: req.body === undefined ? undefined : Buffer.from(req.body),
  };
  try {
    for (let redirects = 0; ; redirects++) {
      const decision = await deadline.race(policy.checkUrl(hop.url));
      if (!decision.ok) throw refusal(decision);
      const exchange = await sendHop(hop, decision, deadline);
      const { statusCode, headers } = exchange.res;
      if (isRedirect(statusCode) && headers.location) {
        discard(exchange);
        if (redirects >= maxRedirects) {
          throw new KbError('KB_ERR_TARGET_UNREACHABLE', `more than ${maxRedirects} redirects`, 502);
        }
        hop = redirectHop(hop, statusCode!, headers.location);
        continue;
      }
      const body = await readBody(exchange, req.maxBytes, deadline, hop.method);
      return { status: statusCode ?? 0, headers, body, url: hop.url };
    }
  } finally {
    deadline.clear();
  }
}
