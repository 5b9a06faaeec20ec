import { Counter, type Registry } from 'prom-client';
import { describeFetchError, safeFetch, type EgressPolicy } from '@domaeka/calls';
import type { Logger } from '@domaeka/core';
import type { SkillResponse } from './skill-response.js';

/** What a skill call came to (`kb_api_kakao_skill_calls_total{outcome}`). */
export type SkillCallOutcome = 'answered' | 'callback' | 'late' | 'unknown_key' | 'error';

/** The channel's counters, on the API's registry (`/metrics`). */
export class KakaoMetrics {
  private readonly calls: Counter<'outcome'>;
  private readonly callbacks: Counter<'outcome'>;

  constructor(registry?: Registry) {
    const registers = registry ? [registry] : [];
    this.calls = new Counter({
      name: 'kb_api_kakao_skill_calls_total',
      help: 'Kakao channel skill calls: answered at once, by callback, late (no callback URL), unknown key (404), error',
      labelNames: ['outcome'],
      registers,
    });
    this.callbacks = new Counter({
      name: 'kb_api_kakao_callbacks_total',
      help: 'Final answers POSTed to Kakao callback URLs: delivered or failed',
      labelNames: ['outcome'],
      registers,
    });
  }

  call(outcome: SkillCallOutcome): void {
    this.calls.inc({ outcome });
  }

  callback(outcome: 'delivered' | 'failed'): void {
    this.callbacks.inc({ outcome });
  }
}

/** Kakao's answer to a callback is small JSON (`{taskId, status, message, timestamp}`). */
const ANSWER_MAX_BYTES = 64 * 1024;

/**
 * Sends a skill call's final answer to its callback URL: once (Kakao takes
 * one POST per URL), within the URL's minute, through the egress policy
 * like every outbound request of the platform (the URL comes from the
 * request: it must not reach a private address; EGRESS_ALLOW lets tests and
 * operators through). A callback that fails is logged with the reason and
 * counted; there is no second try.
 */
export class SkillCallbacks {
  constructor(
    private readonly policy: EgressPolicy,
    private readonly logger: Logger,
    private readonly metrics: KakaoMetrics,
  ) {}

  async send(url: string, response: SkillResponse, deadline: number, about: { eventId: string; botId: string }): Promise<boolean> {
    const timeoutMs = deadline - Date.now();
    if (timeoutMs <= 0) return this.failed(about, 'KB_ERR_TIMEOUT', 'the callback URL expired before the answer was ready');
    try {
      const res = await safeFetch(this.policy, {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json', 'user-agent': 'Domaeka-Kakao-Skill/1' },
        body: JSON.stringify(response),
        timeoutMs,
        maxBytes: ANSWER_MAX_BYTES,
        // One POST per URL: a redirect would be a second request.
        maxRedirects: 0,
      });
      if (res.status < 200 || res.status > 299) return this.failed(about, 'KB_ERR_TARGET_STATUS', `the callback URL answered HTTP ${res.status}`);
      const refusal = kakaoRefusal(res.body.toString('utf8'));
      if (refusal) return this.failed(about, 'KB_ERR_TARGET_FAILED', `Kakao refused the callback: ${refusal}`);
    } catch (err) {
      const { code, message } = describeFetchError(err);
      return this.failed(about, code, message);
    }
    this.metrics.callback('delivered');
    this.logger.info(about, 'Kakao callback delivered');
    return true;
  }

  private failed(about: { eventId: string; botId: string }, code: string, reason: string): false {
    this.metrics.callback('failed');
    this.logger.warn({ ...about, code, reason }, `Kakao callback failed (${reason}): the channel user got no final answer`);
    return false;
  }
}

/** Kakao answers 200 with `status: "FAIL"` (or `ERROR`) and a message when it does not take the callback. */
function kakaoRefusal(text: string): string | null {
  try {
    const body = JSON.parse(text) as { status?: unknown; message?: unknown };
    if (typeof body.status === 'string' && /^(fail|error)/i.test(body.status)) return typeof body.message === 'string' ? body.message : body.status;
  } catch {
    // Not JSON: a 2xx is taken as delivered.
  }
  return null;
}
