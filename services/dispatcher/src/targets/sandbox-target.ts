import { performance } from 'node:perf_hooks';
import type { RunnerClient, RunnerError } from '@domaeka/broker';
import { failureReplyFor, roomMessageFor } from '@domaeka/core';
import {
  failure,
  readRestAnswer,
  sandboxProfile,
  textReply,
  truncateUtf8,
  type AnswerReplier,
  type CallLog,
  type TargetResult,
} from '@domaeka/calls';
import { restRequest, type Target, type TargetCall } from './target.js';

/**
 * What a call may take beyond the tenant's own timeout: a container start
 * when the pool is empty (~0.2-0.4 s here), the broker hops, a loaded host.
 * The deadline sent to the runner is timeout + this; the runner never
 * starts a call past it and kills at timeout + a little.
 */
export const CALL_OVERHEAD_MS = 2000;

/**
 * Sandbox commands: the tenant's Python runs on a runner over RPC (see
 * RunnerClient), with the seed's request dict as `params` and the plan's
 * limits as its profile and the plan's mode (ephemeral or dedicated). The answer becomes a reply like
 * an HTTP target's, and a kb_api_logs row (status_code null, response_data
 * = the result JSON).
 */
export class SandboxTarget implements Target {
  constructor(
    private readonly runners: RunnerClient,
    private readonly replies: AnswerReplier,
  ) {}

  async call(c: TargetCall): Promise<TargetResult> {
    const target = c.command.target;
    if (target.type !== 'sandbox') throw new Error('SandboxTarget called for a non-sandbox command');
    const params = restRequest(c);
    const requestData = truncateUtf8(JSON.stringify(params));
    const started = performance.now();
    const outcome = await this.runners.call({
      tenantId: c.command.tenantId,
      commandId: c.command.id,
      // The plan decides: free runs ephemeral, premium in the tenant's dedicated container.
      mode: c.plan.mode,
      profile: sandboxProfile(c.plan),
      code: target.code,
      codeVersion: target.codeVersion,
      params,
      secrets: c.secrets,
      ...(c.egress ? { egress: [...c.egress] } : {}),
      timeoutMs: c.timeoutMs,
      deadline: Date.now() + c.timeoutMs + CALL_OVERHEAD_MS,
    });
    const responseTimeMs = performance.now() - started;
    if (outcome.kind === 'failed') return failure(outcome.code, outcome.message, { requestData, responseTimeMs });

    const r = outcome.result;
    const log: CallLog = {
      requestData,
      responseData: r.ok ? truncateUtf8(JSON.stringify(r.result)) : null,
      statusCode: null,
      responseTimeMs,
      errorCode: null,
      errorMessage: null,
    };
    if (!r.ok || !r.result) return this.failed(r.error, log, c.errorReply);
    const answered = await this.replies.toReply(readRestAnswer({ response: r.result }), log, c.timeoutMs - responseTimeMs);
    return r.sends?.length ? { ...answered, sends: r.sends } : answered;
  }

  /**
   * A run that failed: the room reads the tenant's own error reply for a
   * code error (or the polite default), never a line or a traceback; the
   * log row keeps the runtime's Korean explanation, the message and the line.
   */
  private failed(error: RunnerError | null, log: CallLog, errorReply: string | null): TargetResult {
    const e = error ?? { code: 'KB_ERR_SANDBOX_CRASHED', message: 'the runner answered neither a result nor an error' };
    const said = e.explanation ? `${e.explanation.message}${e.explanation.hint ? ` ${e.explanation.hint}` : ''}\n` : '';
    const detail = said + (e.line ? `${e.message} (line ${e.line})` : e.message);
    // Seed form `success:false`: the tenant's own text goes to the room, as for an HTTP target.
    if (e.code === 'KB_ERR_TARGET_FAILED') {
      return {
        reply: textReply(e.text || roomMessageFor('KB_ERR_INTERNAL')),
        log: { ...log, errorCode: e.code, errorMessage: detail.slice(0, 1000) },
      };
    }
    const result = failure(e.code, detail, log);
    return { ...result, reply: textReply(failureReplyFor(e.code, errorReply)) };
  }
}
