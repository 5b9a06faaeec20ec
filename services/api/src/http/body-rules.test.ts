import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@domaeka/core';
import { buildApi, type ApiServer } from '../app.js';
import { parseApiConfig } from '../config.js';

/**
 * What the API refuses before any route looks at a body. The login route is
 * public, so these requests reach its schema without the database (which is
 * never opened here): a request that got past the checks would answer 503.
 */
describe('request bodies: UTF-8 JSON, strict types, no unknown fields', () => {
  let api: ApiServer;
  beforeAll(async () => {
    api = buildApi(parseApiConfig({ SECRETS_KEY: 'ab'.repeat(32) }), { logger: createLogger('api', 'silent') });
    await api.app.ready();
  });
  afterAll(async () => {
    await api.app.close();
  });
  const login = async (payload: string | Buffer) => {
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload });
    return { status: res.statusCode, error: (res.json() as { error: { code: string; message: string } }).error };
  };

  it('refuses bytes that are not UTF-8 instead of storing replacement characters', async () => {
    const r = await login(Buffer.concat([Buffer.from('{"email":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('@b.c","password":"12345678"}')]));
    expect(r).toMatchObject({ status: 400, error: { code: 'KB_ERR_INVALID_BODY', message: expect.stringMatching(/UTF-8/) } });
  });

  it('refuses a lone surrogate, in a value or a key', async () => {
    expect(await login('{"email":"\\ud800@b.c","password":"12345678"}')).toMatchObject({ status: 400, error: { code: 'KB_ERR_INVALID_BODY' } });
    expect(await login('{"\\udc00":1}')).toMatchObject({ status: 400, error: { code: 'KB_ERR_INVALID_BODY' } });
  });

  it('refuses a NUL character (PostgreSQL text cannot hold one) and any body that is not JSON', async () => {
    expect(await login('{"email":"a\\u0000@b.c","password":"12345678"}')).toMatchObject({ status: 400, error: { code: 'KB_ERR_INVALID_BODY' } });
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('KB_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses broken JSON and prototype poisoning', async () => {
    expect(await login('{"email":')).toMatchObject({ status: 400, error: { code: 'KB_ERR_INVALID_BODY' } });
    expect(await login('{"__proto__":{"isAdmin":true},"email":"a@b.c","password":"12345678"}')).toMatchObject({
      status: 400,
      error: { code: 'KB_ERR_INVALID_BODY' },
    });
  });

  it('does not coerce a wrong type and names a field the schema does not know', async () => {
    expect(await login('{"email":12345,"password":"12345678"}')).toMatchObject({
      status: 400,
      error: { code: 'KB_ERR_VALIDATION', message: expect.stringMatching(/email must be string/) },
    });
    expect(await login('{"email":"a@b.c","password":"12345678","isAdmin":true}')).toMatchObject({
      status: 400,
      error: { code: 'KB_ERR_VALIDATION', message: expect.stringMatching(/'isAdmin'/) },
    });
  });

  it('lets a well-formed body through to the route (which then needs the database)', async () => {
    expect(await login('{"email":"가나@b.c","password":"12345678 😀"}')).toMatchObject({ status: 503 });
  });
});
