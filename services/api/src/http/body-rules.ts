import Ajv, { type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { apiErrors } from '../errors.js';

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
 * - Query strings and path parameters are text on the wire, so they are
 *   coerced to the schema's numbers and booleans.
 */
export function registerBodyRules(app: FastifyInstance): void {
  const common: Options = { useDefaults: true, allErrors: false, removeAdditional: false, strict: false };
  const bodies = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const others = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
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
    parseJson(req, text, (err, value) => {
      if (err) done(apiErrors.invalidBody(`JSON을 읽을 수 없습니다 / the body is not valid JSON: ${err.message}`), undefined);
      else if (!req.routeOptions.config.checksUnstorable && !wellFormed(value))
        done(apiErrors.invalidBody('짝이 없는 서로게이트 문자나 NUL 문자가 있습니다 / the body holds a lone surrogate or a NUL character'), undefined);
      else done(null, value);
    });
  });
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed = (s: string) => !s.includes('\u0000') && !LONE_SURROGATE.test(s);

/** Every string in the value (keys included) is well-formed UTF-16 without NUL. */
function wellFormed(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return isWellFormed(value);
  if (typeof value !== 'object' || value === null) return true;
  // Deeper than any of our schemas goes: the schema check refuses it anyway, this only bounds the walk.
  if (depth > 64) return true;
  if (Array.isArray(value)) return value.every((v) => wellFormed(v, depth + 1));
  return Object.entries(value).every(([k, v]) => isWellFormed(k) && wellFormed(v, depth + 1));
}
