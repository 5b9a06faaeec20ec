import { storeErrors, type StoreError } from './store-errors.js';

/**
 * The store's requests on `/run/kb/data.sock` (services/runner/README.md,
 * "Store"), checked field by field: the frame comes from tenant code's
 * process, so nothing in it is trusted. Values travel as JSON text and go
 * to PostgreSQL as text (`::jsonb`): the runner never parses a tenant's
 * value, so numbers keep their digits and no object of the tenant's is
 * built in the runner.
 */

/** A request frame, a value of 64 KiB escaped once more inside the frame (quotes, backslashes), fits. */
export const FRAME_MAX_BYTES = 256 * 1024;
export const KEY_MAX_CHARS = 200;
/** One value: UTF-8 bytes of its compact JSON text. */
export const VALUE_MAX_BYTES = 64 * 1024;
/** `keys(prefix)` answers at most this many (sorted bytewise). */
export const KEYS_MAX = 1000;
/** Ten years: beyond, a key is better stored without a TTL. */
export const TTL_MAX_S = 10 * 365 * 24 * 3600;
/** A UTF-16 surrogate without its pair (String.prototype.isWellFormed is ES2024). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** `incr`'s step travels as a JSON number: exact up to 2^53 - 1. */
const BY_MAX = Number.MAX_SAFE_INTEGER;

interface Common {
  /** Echoed in the answer (the client's request number). */
  id: number | null;
  /** The call the request belongs to, as the runtime says (`callId` of the runner call); checked against the calls in flight. */
  call: unknown;
  /** Also answer `dbMs`: the database's time for this request as the runner measured it (the bench). */
  timed: boolean;
}

export type StoreRequest = Common &
  (
    | { op: 'get'; key: string }
    | { op: 'set'; key: string; value: string; bytes: number; ttlMs: number | null }
    | { op: 'incr'; key: string; by: string }
    | { op: 'delete'; key: string }
    | { op: 'keys'; prefix: string }
  );

export type StoreOp = StoreRequest['op'];
export const STORE_OPS: readonly StoreOp[] = ['get', 'set', 'incr', 'delete', 'keys'];

export type Parsed = { ok: true; request: StoreRequest } | { ok: false; id: number | null; error: StoreError };

/** A frame (a JSON object) as a request, or the named error to answer it with. */
export function parseRequest(f: Record<string, unknown>): Parsed {
  const id = typeof f.id === 'number' && Number.isSafeInteger(f.id) ? f.id : null;
  const fail = (error: StoreError): Parsed => ({ ok: false, id, error });
  const common: Common = { id, call: f.call, timed: f.timed === true };
  if (typeof f.op !== 'string' || !(STORE_OPS as readonly string[]).includes(f.op)) return fail(storeErrors.protocol(`unknown op ${JSON.stringify(f.op)?.slice(0, 40)}`));
  const op = f.op as StoreOp;
  if (op === 'keys') {
    const prefix = f.prefix ?? '';
    const bad = textProblem(prefix, 0, '접두어', 'prefix');
    return bad ? fail(bad) : { ok: true, request: { ...common, op, prefix: prefix as string } };
  }
  const keyProblem = textProblem(f.key, 1, '키', 'key');
  if (keyProblem) return fail(keyProblem);
  const key = f.key as string;
  if (op === 'get' || op === 'delete') return { ok: true, request: { ...common, op, key } };
  if (op === 'incr') {
    const by = f.by ?? 1;
    if (typeof by !== 'number' || !Number.isFinite(by) || Math.abs(by) > BY_MAX) {
      return fail(storeErrors.invalid('incr의 by는 숫자여야 합니다', 'incr: by must be a finite number within 2^53'));
    }
    return { ok: true, request: { ...common, op, key, by: String(by) } };
  }
  const value = f.value;
  if (typeof value !== 'string' || value === '') return fail(storeErrors.protocol('set: value must be JSON text'));
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > VALUE_MAX_BYTES) return fail(storeErrors.valueTooLarge(VALUE_MAX_BYTES));
  // A lone surrogate would reach PostgreSQL as U+FFFD: a different value than the one stored.
  if (LONE_SURROGATE.test(value)) return fail(storeErrors.invalid('값에 짝이 없는 서로게이트 문자가 있습니다', 'the value has a lone surrogate'));
  const ttl = f.ttl ?? null;
  if (ttl !== null && (typeof ttl !== 'number' || !(ttl > 0) || ttl > TTL_MAX_S)) {
    return fail(storeErrors.invalid(`ttl은 0보다 크고 ${TTL_MAX_S}초 이하인 숫자여야 합니다`, `ttl must be a number of seconds in (0, ${TTL_MAX_S}]`));
  }
  return { ok: true, request: { ...common, op: 'set', key, value, bytes, ttlMs: ttl === null ? null : Math.max(1, Math.round(ttl * 1000)) } };
}

/** Null when `v` is a storable key (or prefix): a string of min..200 characters, no NUL, valid UTF-16. */
function textProblem(v: unknown, min: number, ko: string, en: string): StoreError | null {
  if (typeof v !== 'string') return storeErrors.invalid(`${ko}는 문자열이어야 합니다`, `${en} must be a string`);
  const chars = v.length > KEY_MAX_CHARS * 2 ? KEY_MAX_CHARS + 1 : [...v].length;
  if (chars < min || chars > KEY_MAX_CHARS) return storeErrors.invalid(`${ko}는 ${min}~${KEY_MAX_CHARS}자여야 합니다`, `${en} must be ${min} to ${KEY_MAX_CHARS} characters`);
  if (v.includes('\u0000')) return storeErrors.invalid(`${ko}에 NUL 문자를 쓸 수 없습니다`, `${en} must not contain NUL`);
  if (LONE_SURROGATE.test(v)) return storeErrors.invalid(`${ko}에 짝이 없는 서로게이트 문자가 있습니다`, `${en} has a lone surrogate`);
  return null;
}

/** `prefix` as a LIKE pattern (its own `\`, `%` and `_` taken literally). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
