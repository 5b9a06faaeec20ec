import { randomUUID } from 'node:crypto';
import type { HttpMethod, HttpTestResult, PatternResult } from '@domaeka/broker/contracts';
import { callHttpTarget, compilePattern, matchCommand, restRequestBody, truncateUtf8, type EgressPolicy, type HttpTargetOutcome } from '@domaeka/calls';
import { apiErrors } from '../errors.js';
import { AttemptLimiter } from '../accounts/attempt-limiter.js';
import type { Caller } from '../accounts/caller.js';
import { testRestEvent } from '../runs/test-request.js';
import { PATTERN_MAX_CHARS, checkHeaders, checkUrlShape, normaliseCommandWords } from './command-rules.js';
import { commandHint } from './pattern-hint.js';

/** A room text is at most this long (the gateway drops longer ones). */
export const TEST_TEXT_MAX_CHARS = 65_000;
/** The answer body shown in the editor. */
export const TEST_BODY_MAX_BYTES = 16 * 1024;
const DEFAULT_TIMEOUT_MS = 5000;

export interface PatternTest {
  pattern?: string | null;
  text: string;
  command?: string | null;
}

export interface HttpTestInput {
  target: { type: 'http'; url: string; method?: HttpMethod; headers?: Record<string, string> };
  /** Fields of the REST request; missing ones get the test defaults of `POST /runs`. */
  input?: { command?: string; parameters?: string[]; raw_text?: string; sender?: string; room?: string; channel_id?: string };
  timeoutMs?: number;
}

/**
 * The command editor's helpers: try a pattern on a text, and make one call
 * to an HTTP target as a room message would. Both use @domaeka/calls
 * (commands/command-match.ts, targets/call-http-target.ts), the dispatcher's
 * own, so what the editor shows is what the room gets.
 */
export class EditorService {
  /**
   * Test calls per tenant: 30 a minute, in process memory (one API process).
   * Not counted against the plan's daily test runs: a call costs an outbound
   * request, like a room message, not a sandbox container.
   */
  private readonly calls: AttemptLimiter;

  constructor(
    private readonly egress: EgressPolicy,
    private readonly secrets: (tenantId: string) => Promise<Record<string, string>>,
    private readonly timeoutMaxMs: (tenantId: string) => Promise<number>,
    clock: () => number = Date.now,
  ) {
    this.calls = new AttemptLimiter({ limit: 30, windowMs: 60_000 }, clock);
  }

  /** RE2 only (linear time): a pattern that needs backtracking (lookaround, backreferences) does not compile, 400. */
  testPattern(input: PatternTest): PatternResult {
    const command = input.command ? normaliseCommandWords(input.command) : null;
    const pattern = input.pattern ? input.pattern : null;
    if (pattern === null && command === null) throw apiErrors.validation('패턴이나 명령어가 필요합니다 / give a pattern, a command or both');
    if (pattern !== null) {
      if (pattern.length > PATTERN_MAX_CHARS) throw apiErrors.patternTooLong(PATTERN_MAX_CHARS);
      try {
        compilePattern(pattern);
      } catch (err) {
        throw apiErrors.invalidPattern((err as Error).message);
      }
    }
    const m = matchCommand({ command, pattern }, input.text);
    return m.matched
      ? { matched: true, command, parameters: m.parameters, groups: m.groups }
      : { matched: false, command, reason: m.reason, parameters: [], groups: {}, ...(m.reason === 'command' && command !== null ? { hint: commandHint(command, input.text) } : {}) };
  }

  async testHttp(caller: Caller, input: HttpTestInput): Promise<HttpTestResult> {
    const wait = this.calls.retryAfterSec(caller.tenantId);
    if (wait > 0) throw apiErrors.rateLimited('test calls', wait);
    this.calls.record(caller.tenantId);

    const t = input.target;
    const target = { url: checkUrlShape(t.url), method: t.method ?? 'POST', headers: checkHeaders(t.headers ?? {}) };
    const timeoutMs = Math.min(input.timeoutMs ?? DEFAULT_TIMEOUT_MS, await this.timeoutMaxMs(caller.tenantId));
    const eventId = randomUUID();
    const body = restRequestBody(testRestEvent(input.input ?? {}, eventId));
    const secrets = await this.secrets(caller.tenantId);
    // An image answer shows its caption: its URL is not fetched for a test.
    return testResult(await callHttpTarget(this.egress, { target, body, eventId, secrets, timeoutMs, images: 'caption' }));
  }
}

/** The call as the editor shows it: the values put into headers never come back from here, even if the target echoes them. */
function testResult(out: HttpTargetOutcome): HttpTestResult {
  const hide = redactor(out.sentSecrets.filter((v) => v.length >= 4));
  const { reply, log } = out;
  return {
    ok: log.errorCode === null,
    status: log.statusCode,
    durationMs: Math.round(log.responseTimeMs),
    body: out.answerBody === null ? null : hide(truncateUtf8(out.answerBody, TEST_BODY_MAX_BYTES)),
    reply: reply && { type: reply.type, text: hide(reply.text) },
    error: log.errorCode === null ? null : { code: log.errorCode, message: hide(log.errorMessage ?? '') },
  };
}

function redactor(values: string[]): (s: string) => string {
  if (values.length === 0) return (s) => s;
  return (s) => values.reduce((acc, v) => acc.split(v).join('********'), s);
}
