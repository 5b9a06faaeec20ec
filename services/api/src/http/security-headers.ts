import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every API answer (OWASP Secure Headers Project / REST
 * Security cheat sheet): no MIME sniffing, never framed, no referrer to
 * other sites; a JSON answer also gets `Content-Security-Policy:
 * default-src 'none'; frame-ancestors 'none'` so that, opened as a page, it
 * can load and run nothing. HTML the API serves itself (the OpenAPI
 * browser at /api/docs) keeps whatever policy its plugin sets.
 */
export const API_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
} as const;

const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('application/json') && !reply.hasHeader('content-security-policy')) reply.header('content-security-policy', JSON_CSP);
    return payload;
  });
}
