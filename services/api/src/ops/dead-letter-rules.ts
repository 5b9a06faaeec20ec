import type { DeadLetterReason } from '@domaeka/broker/contracts';

/**
 * Pure rules of the dead letters: where a message died and why (from the
 * broker's `x-death` header or our consumer wrapper's `x-kb-*` headers),
 * which headers are kept (nothing secret-shaped), and what a replay
 * publishes. No I/O here, so it is unit tested.
 */

/** Bodies larger than this keep only their first bytes and cannot be replayed. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** `GET /admin/dead-letters/:id` shows at most this much of the body as text. */
export const MAX_BODY_PREVIEW = 64 * 1024;

export interface Death {
  reason: DeadLetterReason;
  /** Our consumer's refusal text (`x-kb-reason`). */
  detail: string | null;
  /** Where it was published; null when unknown (our refusals record only queue and routing key). */
  exchange: string | null;
  routingKey: string | null;
  queue: string | null;
  count: number;
}

const BROKER_REASONS: ReadonlySet<string> = new Set(['expired', 'rejected', 'delivery_limit', 'maxlen']);

/** Maps the broker's `x-death` reason onto ours; anything new is `unknown`. */
export function reasonOf(raw: unknown): DeadLetterReason {
  const s = text(raw);
  return s !== null && BROKER_REASONS.has(s) ? (s as DeadLetterReason) : 'unknown';
}

/**
 * Why and where a message died. Our consumer wrapper refuses a message by
 * publishing it to the DLX itself with `x-kb-reason`, `x-kb-queue` and
 * `x-kb-routing-key` (no `x-death` is added then); the broker adds an
 * `x-death` entry (newest first) when a queue dead-letters it. A replay
 * strips both, so whichever is present describes the latest death.
 */
export function deathOf(headers: Record<string, unknown> | undefined): Death {
  const h = headers ?? {};
  const kbReason = text(h['x-kb-reason']);
  if (kbReason !== null) {
    return { reason: 'rejected', detail: kbReason, exchange: null, routingKey: text(h['x-kb-routing-key']), queue: text(h['x-kb-queue']), count: 1 };
  }
  const deaths = Array.isArray(h['x-death']) ? (h['x-death'] as unknown[]) : [];
  const last = deaths[0];
  if (last && typeof last === 'object') {
    const d = last as Record<string, unknown>;
    const keys = Array.isArray(d['routing-keys']) ? (d['routing-keys'] as unknown[]).map(text).filter((k): k is string => k !== null) : [];
    const count = Number(d.count);
    return {
      reason: reasonOf(d.reason),
      detail: null,
      exchange: text(d.exchange),
      routingKey: keys[0] ?? null,
      queue: text(d.queue),
      count: Number.isFinite(count) && count >= 1 ? Math.floor(count) : 1,
    };
  }
  return { reason: 'unknown', detail: null, exchange: null, routingKey: null, queue: null, count: 1 };
}

const SECRET_SHAPED = /secret|token|passw|authori[sz]ation|cookie|api[-_]?key|credential|signature|session/i;

/** Headers as JSON without anything secret-shaped (by name, at any depth). */
export function safeHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  return (jsonSafe(headers ?? {}, 0) as Record<string, unknown>) ?? {};
}

function jsonSafe(v: unknown, depth: number): unknown {
  if (v === null || v === undefined) return null;
  if (depth > 6) return '[deep]';
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map((x) => jsonSafe(x, depth + 1));
  if (typeof v === 'object') {
    // amqplib hands some typed values over as {type, value}.
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 2 && 'type' in o && 'value' in o) return jsonSafe(o.value, depth + 1);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) if (!SECRET_SHAPED.test(k)) out[k] = jsonSafe(x, depth + 1);
    return out;
  }
  return String(v);
}

/** Headers a replay sends: the kept ones without the record of the death (the message starts over). */
export function replayHeaders(kept: Record<string, unknown>, deadLetterId: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kept)) {
    if (k === 'x-death' || k.startsWith('x-first-death-') || k.startsWith('x-last-death-') || k.startsWith('x-kb-')) continue;
    out[k] = v;
  }
  out['x-kb-replayed-from'] = String(deadLetterId);
  return out;
}

/**
 * Where a replay goes: the exchange and routing key it was first published
 * with; when the exchange is unknown (our refusals), straight to the queue
 * it died in through the default exchange. Null: nowhere known.
 */
export function replayTarget(d: { exchange: string | null; routingKey: string | null; queue: string | null }): { exchange: string; routingKey: string } | null {
  if (d.exchange && d.routingKey !== null) return { exchange: d.exchange, routingKey: d.routingKey };
  if (d.queue) return { exchange: '', routingKey: d.queue };
  return null;
}

/** The body as stored: at most MAX_BODY_BYTES. */
export function keptBody(content: Buffer): { body: Buffer; bytes: number; truncated: boolean } {
  if (content.length <= MAX_BODY_BYTES) return { body: content, bytes: content.length, truncated: false };
  return { body: content.subarray(0, MAX_BODY_BYTES), bytes: content.length, truncated: true };
}

/** The body for an administrator: parsed JSON when it is JSON, else (the start of) its text. */
export function bodyView(body: Buffer, truncated: boolean): { json: unknown; text: string | null } {
  const s = body.subarray(0, MAX_BODY_PREVIEW).toString('utf8');
  if (!truncated && body.length <= MAX_BODY_PREVIEW) {
    try {
      return { json: JSON.parse(s), text: null };
    } catch {
      /* not JSON: shown as text */
    }
  }
  return { json: null, text: s };
}

function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return null;
}
