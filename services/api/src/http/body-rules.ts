import Ajv, { type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { apiErrors } from '../errors.js';
import { registerIdKeyword } from './ids.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route checks NUL and lone surrogates itself (refuses identifiers by
     * name, replaces free text), so the body parser lets them through.
     */
    checksUnstorable?: boolean;
  }
}

/**
 * What the API accepts as a request, decided once:
 *
 * - Bodies are JSON (any other content type is 415). They must be valid
 *   UTF-8 and hold no lone surrogate (both would otherwise be stored as
 *   replacement characters, silently changing the tenant's text) and no NUL
 *   (PostgreSQL text cannot hold one); prototype-poisoning keys are refused
 *   as fastify does. A route marked `config: { checksUnstorable: true }`
 *   (chat text relayed from KakaoTalk, where a NUL is part of the message,
 *   not a typo) gets them and decides per field.
 * - Bodies are checked strictly: a field of the wrong type is an error, not
 *   coerced (`"command": 123` is refused, not stored as "123"), and a field
 *   the schema does not name is an error, not silently dropped, so a typo in
 *   a script (`timeoutMS`) is noticed.
 * - Bodies nest at most `JSON_MAX_DEPTH` (64) objects/arrays deep, counted
 *   on the text before it is parsed, as Jackson's `maxNestingDepth` and
 *   Ruby's JSON `max_nesting` bound their parsers: no schema of ours goes
 *   past a handful of levels, and run input (`POST /runs`) is walked by the
 *   sandbox's Python, whose json and repr recurse (1,000 levels crashed it).
 * - Query strings and path parameters are text on the wire, so they are
 *   coerced to the schema's numbers and booleans; ids are parsed strictly
 *   (`x-kb-id`, see `ids.ts`).
 */
export function registerBodyRules(app: FastifyInstance): void {
  const common: Options = { useDefaults: true, allErrors: false, removeAdditional: false, strict: false };
  const bodies = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const others = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  registerIdKeyword(others);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodies : others).compile(schema));

  const parseJson = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(apiErrors.invalidBody('UTF-8이 아닌 바이트가 있습니다 / the body is not valid UTF-8'), undefined);
      return;
    }
    if (nestedTooDeep(text, JSON_MAX_DEPTH)) {
      done(
        apiErrors.invalidBody(`JSON이 너무 깊게 중첩되어 있습니다 (최대 ${JSON_MAX_DEPTH}단계) / the body nests objects or arrays deeper than ${JSON_MAX_DEPTH} levels`),
        undefined,
      );
      return;
    }
    parseJson(req, text, (err, value) => {
      if (err) done(apiErrors.invalidBody(`JSON을 읽을 수 없습니다 / the body is not valid JSON: ${err.message}`), undefined);
      else if (!req.routeOptions.config.checksUnstorable && !wellFormed(value))
        done(apiErrors.invalidBody('짝이 없는 서로게이트 문자나 NUL 문자가 있습니다 / the body holds a lone surrogate or a NUL character'), undefined);
      else done(null, value);
    });
  });
}

/** How deep a request body may nest objects and arrays (the body itself is level 1). */
export const JSON_MAX_DEPTH = 64;

/**
 * True when the JSON text opens more than `max` objects/arrays at once.
 * Brackets inside strings do not count. One pass over the text, before the
 * parser builds anything; whether it is valid JSON the parser judges after
 * (either refusal is 400 KB_ERR_INVALID_BODY).
 */
export function nestedTooDeep(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed = (s: string) => !s.includes('\u0000') && !LONE_SURROGATE.test(s);

/** Every string in the value (keys included) is well-formed UTF-16 without NUL. */
function wellFormed(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return isWellFormed(value);
  if (typeof value !== 'object' || value === null) return true;
  // The parser refused anything deeper (JSON_MAX_DEPTH); this only bounds the walk.
  if (depth > JSON_MAX_DEPTH) return true;
  if (Array.isArray(value)) return value.every((v) => wellFormed(v, depth + 1));
  return Object.entries(value).every(([k, v]) => isWellFormed(k) && wellFormed(v, depth + 1));
}
