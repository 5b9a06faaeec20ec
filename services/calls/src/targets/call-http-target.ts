import { performance } from 'node:perf_hooks';
import { safeFetch, type EgressPolicy, type SafeResponse } from '../egress/index.js';
import { AnswerReplier, type ImageAnswers } from './answer-reply.js';
import type { TenantSecrets } from './header-secrets.js';
import { RESPONSE_MAX_BYTES, describeFetchError, prepareHttpCall, readHttpAnswer, truncateUtf8, type HttpTargetSpec } from './http-call.js';
import { failure, type CallLog, type TargetResult } from './target-result.js';

export interface HttpTargetCall {
  /** Headers as stored (`{{secret:NAME}}` filled here, at call time). */
  target: HttpTargetSpec;
  /** The seed's REST standard request (restRequestBody). */
  body: Record<string, unknown>;
  eventId: string;
  secrets: TenantSecrets;
  /** The whole call's time, an image fetch included. */
  timeoutMs: number;
  images: ImageAnswers;
}

export interface HttpTargetOutcome extends TargetResult {
  /** The answer's body as it came (at most RESPONSE_MAX_BYTES); null when no answer came. */
  answerBody: string | null;
  /** Secret values the request's headers carried: whoever shows this outcome to a person hides them. */
  sentSecrets: string[];
}

/**
 * One call of a tenant's HTTP command, the same for a room message (the
 * dispatcher) and the editor's test call (the API): the request with its
 * secrets filled, sent through the egress policy (every call re-checks the
 * address: DNS can change), the answer read into the room's reply, and the
 * log row's fields. The log keeps only the body, never a header (values are
 * credentials).
 */
export async function callHttpTarget(policy: EgressPolicy, c: HttpTargetCall): Promise<HttpTargetOutcome> {
  const requestData = truncateUtf8(JSON.stringify(c.body));
  const prepared = prepareHttpCall(c.target, c.body, c.eventId, c.secrets);
  if (!prepared.ok) return { ...failure(prepared.code, prepared.message, { requestData }), answerBody: null, sentSecrets: [] };

  const headerValues = Object.values(prepared.request.headers ?? {});
  const sentSecrets = Object.values(c.secrets).filter((v) => v !== '' && headerValues.some((h) => h.includes(v)));
  const started = performance.now();
  let res: SafeResponse;
  try {
    res = await safeFetch(policy, { ...prepared.request, timeoutMs: c.timeoutMs, maxBytes: RESPONSE_MAX_BYTES });
  } catch (err) {
    const { code, message } = describeFetchError(err);
    return { ...failure(code, message, { requestData, responseTimeMs: performance.now() - started }), answerBody: null, sentSecrets };
  }

  const responseTimeMs = performance.now() - started;
  const text = res.body.toString('utf8');
  const log: CallLog = {
    requestData,
    responseData: truncateUtf8(text),
    statusCode: res.status,
    responseTimeMs,
    errorCode: null,
    errorMessage: null,
  };
  const seen = { answerBody: text, sentSecrets };
  const answer = readHttpAnswer(res.status, text);
  if (answer.kind === 'error') return { ...failure(answer.code, answer.message, log), ...seen };
  if (answer.kind === 'silent') return { reply: null, log, ...seen };
  const result = await new AnswerReplier(policy, c.images).toReply(answer.answer, log, c.timeoutMs - responseTimeMs);
  return { ...result, ...seen };
}
