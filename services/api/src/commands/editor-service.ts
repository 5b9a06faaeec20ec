import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { roomMessageFor } from '@domaeka/core';
import { RESPONSE_MAX_BYTES, compilePattern, describeFetchError, matchCommand, prepareHttpCall, readHttpAnswer, restRequestBody, safeFetch, truncateUtf8, type EgressPolicy, type RestAnswer } from '@domaeka/calls';
import { apiErrors } from '../errors.js';
import { AttemptLimiter } from '../accounts/attempt-limiter.js';
import type { Caller } from '../accounts/caller.js';
import { PATTERN_MAX_CHARS, checkHeaders, checkUrlShape, normaliseCommandWords, type HttpMethod } from './command-rules.js';

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

export type PatternResult =
  | { matched: true; command: string | null; parameters: string[]; groups: Record<string, string> }
  | { matched: false; command: string | null; reason: 'command' | 'pattern'; parameters: []; groups: Record<string, never> };

export interface HttpTestInput {
  target: { type: 'http'; url: string; method?: HttpMethod; headers?: Record<string, string> };
  /** Fields of the REST request; missing ones get the test defaults of `POST /runs`. */
  input?: { command?: string; parameters?: string[]; raw_text?: string; sender?: string; room?: string; channel_id?: string };
  timeoutMs?: number;
}

export interface HttpTestResult {
  ok: boolean;
  status: number | null;
  durationMs: number;
  /** What the room would get (an error's Korean room text included); null: the API chose silence. */
  reply: { type: 'text' | 'image'; text: string } | null;
  /** The answer's body, at most 16 KiB. */
  body: string | null;
  error: { code: string; message: string } | null;
}

/**
 * The command editor's helpers: try a pattern on a text, and make one call
 * to an HTTP target as a room message would. Both use @domaeka/core's rules
 * (commands/command-match.ts, targets/http-call.ts), the dispatcher's own,
 * so what the editor shows is what the room gets.
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
      : { matched: false, command, reason: m.reason, parameters: [], groups: {} };
  }

  async testHttp(caller: Caller, input: HttpTestInput): Promise<HttpTestResult> {
    const wait = this.calls.retryAfterSec(caller.tenantId);
    if (wait > 0) throw apiErrors.rateLimited('test calls', wait);
    this.calls.record(caller.tenantId);

    const t = input.target;
    const target = { url: checkUrlShape(t.url), method: t.method ?? 'POST', headers: checkHeaders(t.headers ?? {}) };
    const timeoutMs = Math.min(input.timeoutMs ?? DEFAULT_TIMEOUT_MS, await this.timeoutMaxMs(caller.tenantId));
    const eventId = randomUUID();
    const body = restRequestBody(testEvent(input.input ?? {}, eventId));
    const secrets = await this.secrets(caller.tenantId);
    const prepared = prepareHttpCall(target, body, eventId, secrets);
    if (!prepared.ok) return failed(prepared.code, prepared.message, { status: null, durationMs: 0, body: null });

    // The values put into headers never come back from here, even if the target echoes them.
    const hide = redactor(Object.values(secrets).filter((v) => v.length >= 4 && Object.values(prepared.request.headers ?? {}).some((h) => h.includes(v))));
    const started = performance.now();
    let status: number;
    let text: string;
    try {
      const res = await safeFetch(this.egress, { ...prepared.request, timeoutMs, maxBytes: RESPONSE_MAX_BYTES });
      status = res.status;
      text = res.body.toString('utf8');
    } catch (err) {
      const { code, message } = describeFetchError(err);
      return failed(code, hide(message), { status: null, durationMs: ms(started), body: null });
    }
    const seen = { status, durationMs: ms(started), body: hide(truncateUtf8(text, TEST_BODY_MAX_BYTES)) };
    const answer = readHttpAnswer(status, text);
    if (answer.kind === 'error') return failed(answer.code, answer.message, seen);
    if (answer.kind === 'silent') return { ok: true, ...seen, reply: null, error: null };
    return { ...seen, ...roomReply(answer.answer, hide) };
  }
}

/** The REST request's fields with the defaults of `POST /runs` (run-service requestDict). */
function testEvent(i: NonNullable<HttpTestInput['input']>, eventId: string) {
  const command = i.command ?? '테스트';
  const parameters = i.parameters ?? [];
  return {
    command,
    parameters,
    text: i.raw_text ?? [command, ...parameters].join(' '),
    sender: i.sender ?? '테스트 사용자',
    room: i.room ?? '테스트방',
    channelId: i.channel_id ?? 'test',
    timestamp: new Date().toISOString(),
    deviceKey: 'test',
    botName: 'test',
    eventId,
  };
}

/** As the dispatcher's AnswerReplier, without fetching an image URL (the editor shows the caption). */
function roomReply(a: RestAnswer, hide: (s: string) => string): Pick<HttpTestResult, 'ok' | 'reply' | 'error'> {
  switch (a.kind) {
    case 'text':
      return { ok: true, reply: { type: 'text', text: hide(a.text) }, error: null };
    case 'image':
      return { ok: true, reply: { type: 'image', text: hide(a.caption) }, error: null };
    case 'silent':
      return { ok: true, reply: null, error: null };
    case 'failed':
      return {
        ok: false,
        reply: { type: 'text', text: hide(a.text ?? roomMessageFor('KB_ERR_INTERNAL')) },
        error: { code: 'KB_ERR_TARGET_FAILED', message: hide(a.error.slice(0, 1000)) },
      };
    case 'invalid':
      return { ok: false, reply: { type: 'text', text: roomMessageFor('KB_ERR_TARGET_INVALID') }, error: { code: 'KB_ERR_TARGET_INVALID', message: a.reason } };
  }
}

function failed(code: string, message: string, seen: Pick<HttpTestResult, 'status' | 'durationMs' | 'body'>): HttpTestResult {
  return { ok: false, ...seen, reply: { type: 'text', text: roomMessageFor(code) }, error: { code, message: message.slice(0, 1000) } };
}

function redactor(values: string[]): (s: string) => string {
  if (values.length === 0) return (s) => s;
  return (s) => values.reduce((acc, v) => acc.split(v).join('********'), s);
}

function ms(started: number): number {
  return Math.round(performance.now() - started);
}
