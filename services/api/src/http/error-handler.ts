import type { FastifyError, FastifyInstance } from 'fastify';
import { KbError, isDatabaseDown, type Logger } from '@domaeka/core';

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Fastify's own 4xx errors (body parsing, content type, size) by status. */
const CLIENT_CODES: Record<number, string> = {
  400: 'KB_ERR_VALIDATION',
  404: 'KB_ERR_NOT_FOUND',
  405: 'KB_ERR_METHOD_NOT_ALLOWED',
  413: 'KB_ERR_PAYLOAD_TOO_LARGE',
  415: 'KB_ERR_UNSUPPORTED_MEDIA_TYPE',
};

/**
 * The one place an error becomes an HTTP answer `{error:{code,message}}`:
 * coded KbErrors keep their status, schema failures are 400
 * KB_ERR_VALIDATION, a dependency being down is 503, anything else is a
 * logged 500 that says nothing about its cause.
 */
export function registerErrorHandler(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const send = (status: number, code: string, message: string, details?: Record<string, unknown>) =>
      reply.code(status).send({ error: { code, message, ...(details ? { details } : {}) } } satisfies ErrorBody);

    if (err instanceof KbError) {
      // 429s say when to come back (rate limits, quotas that carry it).
      if (typeof err.details?.retryAfterSec === 'number') void reply.header('retry-after', String(err.details.retryAfterSec));
      return send(err.status, err.code, err.message, err.details);
    }
    // A path that cannot name anything (a malformed or out-of-range id, see ids.ts) is not found, as Stripe and GitHub answer.
    if (err.validation && err.validationContext === 'params') return send(404, 'KB_ERR_NOT_FOUND', `찾을 수 없습니다 / not found: ${validationMessage(err)}`);
    if (err.validation) return send(400, 'KB_ERR_VALIDATION', `입력 값이 올바르지 않습니다 / ${validationMessage(err)}`);
    if ((err as { dependencyDown?: boolean }).dependencyDown || isDatabaseDown(err)) {
      logger.warn({ err: String(err), url: req.url }, 'dependency down');
      return send(503, 'KB_ERR_UNAVAILABLE', '잠시 후 다시 시도해 주세요 / a dependency is unavailable, try again shortly');
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) return send(status, CLIENT_CODES[status] ?? 'KB_ERR_BAD_REQUEST', err.message);
    logger.error({ err, method: req.method, url: req.url }, 'unhandled error');
    return send(500, 'KB_ERR_INTERNAL', '서버 오류가 발생했습니다 / internal error');
  });

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'KB_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );
}

/** fastify's message, plus the name of a field the schema does not know (ajv keeps it apart). */
function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  const extra = first?.keyword === 'additionalProperties' ? (first.params as { additionalProperty?: string }).additionalProperty : undefined;
  return extra ? `${err.message}: '${extra}'` : err.message;
}
