import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@domaeka/core';
import { buildApi, type ApiServer } from '../app.js';
import { parseApiConfig } from '../config.js';
import { JSON_MAX_DEPTH, nestedTooDeep } from './body-rules.js';
import { parseBigintId, parseUuid } from './ids.js';

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

describe('JSON depth and strict ids', () => {
  it('counts nesting on the text, brackets in strings aside', () => {
    expect(nestedTooDeep('{"a":'.repeat(63) + '1' + '}'.repeat(63), JSON_MAX_DEPTH)).toBe(false);
    expect(nestedTooDeep('['.repeat(64) + ']'.repeat(64), JSON_MAX_DEPTH)).toBe(false);
    expect(nestedTooDeep('['.repeat(65) + ']'.repeat(65), JSON_MAX_DEPTH)).toBe(true);
    expect(nestedTooDeep(JSON.stringify({ s: '{['.repeat(1000), t: 'a\\"{{{' }), 3)).toBe(false);
    expect(nestedTooDeep('[[],[],[[]]]', 3)).toBe(false);
    expect(nestedTooDeep('[[[[]]]]', 3)).toBe(true);
  });

  it('takes canonical decimal ids within the bigint range only', () => {
    expect(parseBigintId('16')).toBe(16);
    expect(parseBigintId('9007199254740991')).toBe(9007199254740991);
    // Valid for the column, beyond what the app's numbers tell apart: names no row.
    expect(parseBigintId('9223372036854775807')).toBe(2 ** 53);
    for (const bad of ['0x10', '1e1', '0', '-1', '+1', '007', ' 7', '7 ', '7.0', '９', '9223372036854775808', '99999999999999999999', '', 'Infinity']) {
      expect(parseBigintId(bad), bad).toBeNull();
    }
    expect(parseUuid('0191A2B3-C4D5-4E6F-8A9B-0C1D2E3F4A5B')).toBe('0191a2b3-c4d5-4e6f-8a9b-0c1d2e3f4a5b');
    for (const bad of ['urn:uuid:0191a2b3-c4d5-4e6f-8a9b-0c1d2e3f4a5b', '{0191a2b3-c4d5-4e6f-8a9b-0c1d2e3f4a5b}', '0191a2b3c4d54e6f8a9b0c1d2e3f4a5b']) {
      expect(parseUuid(bad), bad).toBeNull();
    }
  });
});
