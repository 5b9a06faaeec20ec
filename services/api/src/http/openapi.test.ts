import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@domaeka/core';
import { buildApi, type ApiServer } from '../app.js';
import { parseApiConfig } from '../config.js';
import { DOCS_PREFIX } from './openapi.js';

type Spec = {
  openapi: string;
  paths: Record<string, Record<string, { tags?: string[]; security?: unknown[]; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> } }>>;
};

/** The spec comes from the route schemas themselves; nothing here needs the database or the broker. */
describe('OpenAPI document and page', () => {
  let api: ApiServer;
  let spec: Spec;
  beforeAll(async () => {
    api = buildApi(parseApiConfig({ SECRETS_KEY: 'ab'.repeat(32) }), { logger: createLogger('api', 'silent') });
    await api.app.ready();
    const res = await api.app.inject({ method: 'GET', url: `${DOCS_PREFIX}/json` });
    expect(res.statusCode).toBe(200);
    spec = res.json() as Spec;
  });
  afterAll(async () => {
    await api.app.close();
  });

  it('describes the /api/v1 routes with the bodies fastify validates', () => {
    expect(spec.openapi).toMatch(/^3\./);
    const create = spec.paths['/api/v1/commands']?.post;
    expect(create?.tags?.[0]).toMatch(/명령어/);
    const body = create?.requestBody?.content['application/json']?.schema;
    expect(body?.required).toEqual(expect.arrayContaining(['command', 'target']));
    expect(Object.keys(body?.properties ?? {})).toEqual(expect.arrayContaining(['command', 'pattern', 'timeoutMs', 'target']));
    expect(spec.paths['/api/v1/commands/{id}/rollback']?.post).toBeDefined();
    expect(spec.paths['/api/v1/runs']?.post).toBeDefined();
    expect(spec.paths['/api/v1/runs/{id}/stop']?.post).toBeDefined();
    expect(spec.paths['/api/v1/onboarding']?.get?.tags?.[0]).toMatch(/첫 사용 안내/);
  });

  it('says which routes need a caller: login is open, the password change takes the cookie only, the rest the cookie or a bearer key', () => {
    expect(spec.paths['/api/v1/auth/login']?.post?.security).toEqual([]);
    expect(spec.paths['/api/v1/auth/password']?.post?.security).toEqual([{ session: [] }]);
    expect(spec.paths['/api/v1/auth/password']?.post?.requestBody?.content['application/json']?.schema.required).toEqual(['currentPassword', 'newPassword']);
    expect(spec.paths['/api/v1/commands']?.get?.security).toEqual([{ session: [] }, { apiKey: [] }]);
  });

  it('keeps operator endpoints out of the public document', () => {
    expect(Object.keys(spec.paths).filter((p) => !p.startsWith('/api/v1/'))).toEqual([]);
  });

  it('serves a page to browse it', async () => {
    const res = await api.app.inject({ method: 'GET', url: `${DOCS_PREFIX}/` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toMatch(/swagger/i);
  });
});
