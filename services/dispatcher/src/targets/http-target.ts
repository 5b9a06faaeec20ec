import { performance } from 'node:perf_hooks';
import { RESPONSE_MAX_BYTES, describeFetchError, prepareHttpCall, readHttpAnswer, safeFetch, truncateUtf8, type EgressPolicy, type SafeResponse } from '@domaeka/calls';
import { AnswerReplier } from './answer-reply.js';
import { failure, restRequest, type CallLog, type Target, type TargetCall, type TargetResult } from './target.js';


/**
 * Calls a tenant's HTTP API with the seed's REST standard through the
 * egress policy (every call re-checks the address: DNS can change), and
 * turns whatever happens into a reply for the room and a log row. The
 * request and the reading of the answer are @domaeka/core's
 * (targets/http-call.ts), shared with the API's test call.
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
    // Filled per call; the log row keeps only the body, never a header (values are credentials).
    const prepared = prepareHttpCall({ url: target.url, method: target.method, headers: target.headers }, body, c.eventId, c.secrets);
    if (!prepared.ok) return failure(prepared.code, prepared.message, { requestData });

    const started = performance.now();
    const elapsed = () => performance.now() - started;
    let res: SafeResponse;
    try {
      res = await safeFetch(this.policy, { ...prepared.request, timeoutMs: c.timeoutMs, maxBytes: RESPONSE_MAX_BYTES });
    } catch (err) {
      const { code, message } = describeFetchError(err);
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
    const answer = readHttpAnswer(res.status, text);
    if (answer.kind === 'error') return failure(answer.code, answer.message, log);
    if (answer.kind === 'silent') return { reply: null, log };
    return this.replies.toReply(answer.answer, log, c.timeoutMs - responseTimeMs);
  }
}
