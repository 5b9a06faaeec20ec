import type { ReplyRich } from '@domaeka/broker';
import { isDatabaseDown, storableText } from '@domaeka/core';
import { failure, type TargetResult } from '@domaeka/calls';

/**
 * What stands between a tenant's answer and the database, and how a failure
 * after the target was called is judged (issue 12): every message ends in
 * one reply or one visible error, and the target is called again only when
 * the earlier call may not have happened.
 */

/**
 * Most deliveries that may call the target for one event. A delivery that
 * finds our own row still pending (a crash or a database outage between
 * claim and completion) calls again, since the call may not have happened;
 * past this many the room is told instead, long before the queue's delivery
 * limit (~20) would dead-letter the message without a word to the room.
 */
export const MAX_ATTEMPTS = 3;

/** A SQLSTATE that changed the row's fate: the bot or its tenant was deleted mid-call. */
export const FOREIGN_KEY_VIOLATION = '23503';

/**
 * The result with every tenant-written text made storable (NUL and lone
 * surrogates become U+FFFD): the room sees the replacement where the tenant
 * wrote NUL, and `kb_outbox.reply` (jsonb, which refuses `\u0000`) and the
 * log row's text columns accept it. Only text the tenant wrote is walked
 * (reply text or caption, request, response, error message): images are
 * Base64 we made ourselves. Returns the same object when nothing changed.
 */
export function storableResult(r: TargetResult): TargetResult {
  const rich = r.reply?.rich ? storableRich(r.reply.rich) : undefined;
  if (rich !== r.reply?.rich) r = { ...r, reply: { ...r.reply!, rich } };
  const text = r.reply ? storableText(r.reply.text) : null;
  const requestData = r.log.requestData === null ? null : storableText(r.log.requestData);
  const responseData = r.log.responseData === null ? null : storableText(r.log.responseData);
  const errorMessage = r.log.errorMessage === null ? null : storableText(r.log.errorMessage);
  if (text === (r.reply?.text ?? null) && requestData === r.log.requestData && responseData === r.log.responseData && errorMessage === r.log.errorMessage) {
    return r;
  }
  return {
    ...r,
    reply: r.reply && text !== null ? { ...r.reply, text } : r.reply,
    log: { ...r.log, requestData, responseData, errorMessage },
  };
}

/** The answer's parts (only present with buttons or an image URL) made storable the same way; the same object when nothing changed. */
function storableRich(rich: ReplyRich): ReplyRich {
  const text = storableText(rich.text);
  const imageUrl = rich.imageUrl === null ? null : storableText(rich.imageUrl);
  const buttons = rich.buttons.map((b) => {
    const label = storableText(b.label);
    const url = storableText(b.url);
    return label === b.label && url === b.url ? b : { label, url };
  });
  if (text === rich.text && imageUrl === rich.imageUrl && buttons.every((b, i) => b === rich.buttons[i])) return rich;
  return { text, buttons, imageUrl };
}

/** The SQLSTATE of a PostgreSQL error (five characters), or null for anything else. */
export function sqlState(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/** Class 22 (data exception: untranslatable character, invalid byte sequence, value out of range). */
export function isDataException(err: unknown): boolean {
  return sqlState(err)?.startsWith('22') ?? false;
}

/**
 * How a failed completion (reply + log row, after the target was called) is
 * treated:
 * - `transient`: the database is down; the consumer holds the event and the
 *   retry finds our pending row (bounded by MAX_ATTEMPTS);
 * - `vanished`: the bot or tenant was deleted mid-call; the redelivery finds
 *   the bot gone and calls nothing;
 * - `data`: the database refused the content (SQLSTATE class 22 or 23):
 *   the same content would fail again, so it is answered with an error;
 * - `bug`: anything else of ours (a mapping that throws): also answered,
 *   because redelivery would only repeat it, and the target with it.
 */
export type StoreFailure = 'transient' | 'vanished' | 'data' | 'bug';

export function storeFailureKind(err: unknown): StoreFailure {
  if (isDatabaseDown(err)) return 'transient';
  const state = sqlState(err);
  if (state === FOREIGN_KEY_VIOLATION) return 'vanished';
  if (state?.startsWith('22') || state?.startsWith('23')) return 'data';
  return 'bug';
}

/**
 * What replaces a result that could not be stored: KB_ERR_INVALID_RESULT
 * when the database refused its content, KB_ERR_INTERNAL for a bug of ours.
 * It keeps the call's status and time but none of its text (the text is
 * what failed), so the replacement itself stores.
 */
export function unstoredResult(kind: 'data' | 'bug', err: unknown, original: TargetResult): TargetResult {
  const state = sqlState(err);
  const reason = storableText(`${state ? `${state} ` : ''}${err instanceof Error ? err.message : String(err)}`);
  const code = kind === 'data' ? 'KB_ERR_INVALID_RESULT' : 'KB_ERR_INTERNAL';
  return failure(code, `the result could not be stored: ${reason}`, {
    statusCode: original.log.statusCode,
    responseTimeMs: original.log.responseTimeMs,
  });
}

/** The answer to a delivery past MAX_ATTEMPTS: the room is told once, the target is not called again. */
export function givenUpResult(attempts: number): TargetResult {
  return failure('KB_ERR_INTERNAL', `answered after ${attempts - 1} failed attempts (crash or database outage between call and store); not run again`);
}

/**
 * The analyze consumer's verdict on an error thrown by a delivery (before
 * the target, or a completion that failed twice): the database down is a
 * dependency (hold and retry); a data exception means the event itself
 * holds something the database cannot store (a room name with NUL): it
 * would fail on every delivery, so it is dead-lettered once with the
 * reason instead of being redelivered ~20 times. Anything else: the
 * wrapper's default (nack; the delivery limit catches it).
 */
export function analyzeFailureKind(err: unknown): 'dependency' | 'refuse' | undefined {
  if (isDatabaseDown(err)) return 'dependency';
  if (isDataException(err)) return 'refuse';
  return undefined;
}
