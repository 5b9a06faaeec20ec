import { Type, type TInteger, type TUnsafe } from '@sinclair/typebox';
import type Ajv from 'ajv';
import type { DataValidateFunction } from 'ajv/dist/types/index.js';

/**
 * Ids in paths and query strings, parsed strictly in one place (issue 13,
 * hole 5). Text on the wire used to be coerced by ajv with `+x`, so
 * `/commands/0x10` was command 16 and `1e22` or `99999999999999999999`
 * reached PostgreSQL as a bigint out of range (500). As Stripe and GitHub
 * treat a malformed id in a path (`No such customer: 'abc'`, 404), an id
 * that cannot name a row is "not found", never an error of ours:
 *
 * - bigint ids (identity columns): canonical decimal only, `[1-9][0-9]*`, no
 *   sign, exponent, leading zero, spaces or other digits, and within the
 *   column's range 1..9223372036854775807;
 * - uuids: 8-4-4-4-12 hex, either case (RFC 9562 reads them case-insensitively),
 *   handed on in the canonical lower case; no `urn:uuid:` or braces.
 *
 * In a path anything else is 404 KB_ERR_NOT_FOUND (the error handler turns
 * every path-parameter failure into it); in a query (`?before=`,
 * `?commandId=`) 400 KB_ERR_VALIDATION naming the parameter.
 *
 * The schema is a string with a `pattern` (what OpenAPI readers see) and the
 * `x-kb-id` keyword (registered by `registerIdKeyword`), which checks the
 * range and replaces the text by the value the services take: a number for
 * bigint ids, the lower-case uuid. The app's ids are JS numbers (MikroORM
 * `BigIntType('number')`), exact up to 2^53 - 1; identity columns count
 * from 1 and never get there, so a valid id past it names no row: it is
 * handed on as 2^53, which matches no row and, as a `before` cursor, means
 * "from the newest" like the column's maximum would.
 */

export const BIGINT_MAX = 9223372036854775807n;
const BEYOND_SAFE = Number.MAX_SAFE_INTEGER + 1;
const DECIMAL = /^[1-9][0-9]{0,18}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

type IdKind = 'bigint' | 'uuid';

/** A bigint id (path or query); the handler gets a number. */
export function bigintId(description?: string): TUnsafe<number> {
  return Type.Unsafe<number>({ type: 'string', pattern: DECIMAL.source, 'x-kb-id': 'bigint', ...(description ? { description } : {}) });
}

/** A uuid (path or query); the handler gets it in lower case. */
export function uuidId(description?: string): TUnsafe<string> {
  return Type.Unsafe<string>({ type: 'string', pattern: UUID.source, 'x-kb-id': 'uuid', ...(description ? { description } : {}) });
}

/** `{ id }` path parameters, the common case. */
export const BigintIdParams = Type.Object({ id: bigintId() });
export const UuidIdParams = Type.Object({ id: uuidId() });

/**
 * A bigint id inside a JSON body (`commandId` of `POST /runs`): JSON numbers
 * are not coerced, so a plain integer schema bounded to what the app's
 * numbers hold keeps `1e22` from reaching PostgreSQL.
 */
export function bodyBigintId(opts: { description?: string } = {}): TInteger {
  return Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, ...opts });
}

/** Adds `x-kb-id` to the ajv instance that checks paths and query strings. */
export function registerIdKeyword(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: 'x-kb-id',
    modifying: true,
    errors: true,
    schemaType: 'string',
    compile: (kind: IdKind) => {
      const check: DataValidateFunction = (data, ctx) => {
        const parsed = kind === 'uuid' ? parseUuid(data) : parseBigintId(data);
        if (parsed === null) {
          const message = kind === 'uuid' ? 'must be a uuid' : `must be a decimal id from 1 to ${BIGINT_MAX}`;
          check.errors = [{ keyword: 'x-kb-id', instancePath: ctx?.instancePath ?? '', schemaPath: '#/x-kb-id', params: { kind }, message }];
          return false;
        }
        // Handlers get the value the services take (a number, the lower-case uuid).
        if (ctx?.parentData && ctx.parentDataProperty !== undefined) (ctx.parentData as Record<string | number, unknown>)[ctx.parentDataProperty] = parsed;
        return true;
      };
      return check;
    },
  });
}

/** The number a bigint id stands for, or null when it is not a canonical decimal within the column's range. */
export function parseBigintId(text: unknown): number | null {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 1 ? text : null;
  if (typeof text !== 'string' || !DECIMAL.test(text)) return null;
  const n = BigInt(text);
  if (n > BIGINT_MAX) return null;
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? BEYOND_SAFE : Number(n);
}

/** The uuid in canonical lower case, or null. */
export function parseUuid(text: unknown): string | null {
  return typeof text === 'string' && UUID.test(text) ? text.toLowerCase() : null;
}
