/**
 * Text PostgreSQL can store. `text` and `jsonb` refuse NUL (U+0000), and
 * `jsonb` refuses a lone UTF-16 surrogate written as a `\uD800` escape
 * (JSON.stringify writes them so): either fails the whole statement
 * ("unsupported Unicode escape sequence", "invalid byte sequence"), and a
 * failed statement after a tenant's call used to be retried by calling the
 * tenant again. Every boundary where text from tenants or phones enters
 * (results, prints, exceptions, live output, log fields, packets) passes it
 * through here once: free text is replaced visibly (U+FFFD, what a decoder
 * shows for bytes it cannot read), identifiers are refused by name
 * (`hasUnstorable`).
 */
export const REPLACEMENT_CHAR = '\uFFFD';

// NUL, or a surrogate that is not part of a well-formed pair (NUL is the point of the rule).
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** True when `s` holds a character PostgreSQL refuses (check identifiers with this, then refuse them). */
export function hasUnstorable(s: string): boolean {
  return UNSTORABLE.test(s);
}

/** `s` with every character PostgreSQL refuses replaced by U+FFFD (the same string when there is none). */
export function storableText(s: string): string {
  return UNSTORABLE.test(s) ? s.replace(UNSTORABLE_ALL, REPLACEMENT_CHAR) : s;
}

/**
 * A JSON-shaped value whose strings (keys included) are all storable. Returns
 * the same object when nothing needed replacing, so the common case costs
 * one walk and no copy.
 */
export function storableJson<T>(v: T): T {
  return clean(v) as T;
}

function clean(v: unknown): unknown {
  if (typeof v === 'string') return storableText(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const c = clean(v[i]);
      if (c !== v[i]) (out ??= v.slice())[i] = c;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | null = null;
  const src = v as Record<string, unknown>;
  for (const k of Object.keys(src)) {
    const ck = storableText(k);
    const c = clean(src[k]);
    if (ck !== k || c !== src[k]) {
      out ??= { ...src };
      if (ck !== k) delete out[k];
      out[ck] = c;
    }
  }
  return out ?? v;
}
