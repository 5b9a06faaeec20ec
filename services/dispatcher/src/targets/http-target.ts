import { callHttpTarget, failure, truncateUtf8, type EgressPolicy, type TargetResult } from '@domaeka/calls';
import { restRequest, type Target, type TargetCall } from './target.js';

/**
 * A room call of a tenant's HTTP command: the seed's REST standard request
 * made by @domaeka/calls' `callHttpTarget` (targets/call-http-target.ts),
 * the one the API's test call makes too, with image answers fetched.
 */
export class HttpTarget implements Target {
  constructor(private readonly policy: EgressPolicy) {}

  async call(c: TargetCall): Promise<TargetResult> {
    const target = c.command.target;
    if (target.type !== 'http') throw new Error('HttpTarget called for a non-http command');
    const body = restRequest(c);
    if (target.headers === null) {
      return failure('KB_ERR_INTERNAL', 'api headers could not be opened', { requestData: truncateUtf8(JSON.stringify(body)) });
    }
    const { reply, log } = await callHttpTarget(this.policy, {
      target: { url: target.url, method: target.method, headers: target.headers },
      body,
      eventId: c.eventId,
      secrets: c.secrets,
      timeoutMs: c.timeoutMs,
      images: 'fetch',
    });
    return { reply, log };
  }
}
