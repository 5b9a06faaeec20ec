import { failure, restRequest, truncateUtf8, type Target, type TargetCall, type TargetResult } from './target.js';

/**
 * Sandbox commands are stored by the API but no runner exists yet: they
 * are answered with KB_ERR_NO_RUNNER (room message and log row) until the
 * runner service lands and this becomes its RPC client.
 */
export class SandboxTarget implements Target {
  async call(c: TargetCall): Promise<TargetResult> {
    return failure('KB_ERR_NO_RUNNER', 'no sandbox runner is available', { requestData: truncateUtf8(JSON.stringify(restRequest(c))) });
  }
}
