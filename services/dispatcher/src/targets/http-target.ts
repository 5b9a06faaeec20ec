import { performance } from 'node:perf_hooks';
import { safeFetch, type EgressPolicy, type SafeResponse } from '@domaeka/core';
import { readRestAnswer } from './rest-response.js';
import { AnswerReplier, describe } from './answer-reply.js';
import { fillSecretHeaders } from './header-secrets.js';
import { failure, restRequest, truncateUtf8, type CallLog, type Target, type TargetCall, type TargetResult } from './target.js';

/** A tenant API answers in JSON; more than this is not a chat reply. */
export const RESPONSE_MAX_BYTES = 1024 * 1024;

// Set by us, never by a tenant's header list (they would break the exchange or spoof our identity).
const RESERVED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'x-kb-event-id']);

/**
 * Calls a tenant's HTTP API with the seed's REST standard through the
 * egress policy (every call re-checks the address: DNS can change), and
 * turns whatever happens into a reply for the room and a log row.
 */
export class HttpTarget implements Target {
  private readonly replies: AnswerReplier;

  constructor(private readonly policy: EgressPolicy) {
    this.replies = new AnswerReplier(policy);
  }

  async call(c: TargetCall): Promise<TargetResult> {
    const target = c.command.target;
    if (target.type !== 'http') throw new Error('HttpTarget called for a non-http command');
    const body = restRequest(c);
    const requestData = truncateUtf8(JSON.stringify(body));
    if (target.headers === null) {
      return failure('KB_ERR_INTERNAL', 'api headers could not be opened', { requestData });
    }
    // Filled here, per call; the log row keeps only the body, never a header (values are credentials).
    const tenantHeaders = fillSecretHeaders(target.headers, c.secrets);
    if (!tenantHeaders.ok) return failure(tenantHeaders.code, tenantHeaders.message, { requestData });

    const sendsBody = target.method !== 'GET' && target.method !== 'HEAD';
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'Domaeka-Dispatcher/1',
    };
    if (sendsBody) headers['content-type'] = 'application/json; charset=utf-8';
    for (const [k, v] of Object.entries(tenantHeaders.headers)) if (!RESERVED_HEADERS.has(k.toLowerCase())) headers[k] = v;
    // Lets a tenant API dedupe a call we repeat after a crash (also in metadata.event_id).
    headers['x-kb-event-id'] = c.eventId;

    const started = performance.now();
    const elapsed = () => performance.now() - started;
    let res: SafeResponse;
    try {
      res = await safeFetch(this.policy, {
        url: target.url,
        method: target.method,
        headers,
        body: sendsBody ? JSON.stringify(body) : undefined,
        timeoutMs: c.timeoutMs,
        maxBytes: RESPONSE_MAX_BYTES,
      });
    } catch (err) {
      const { code, message } = describe(err);
      return failure(code, message, { requestData, responseTimeMs: elapsed() });
    }

    const responseTimeMs = elapsed();
    const text = res.body.toString('utf8');
    const log: CallLog = {
      requestData,
      responseData: truncateUtf8(text),
      statusCode: res.status,
      responseTimeMs,
      errorCode: null,
      errorMessage: null,
    };
    if (res.status < 200 || res.status > 299) {
      return failure('KB_ERR_TARGET_STATUS', `target answered HTTP ${res.status}`, log);
    }
    // An empty 2xx answer (204 and the like) means the API has nothing to say.
    if (text.trim() === '') return { reply: null, log };

    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return failure('KB_ERR_TARGET_INVALID', 'response is not JSON', log);
    }
    return this.replies.toReply(readRestAnswer(parsed), log, c.timeoutMs - responseTimeMs);
  }
}
