import { describe, expect, it } from 'vitest';
import { KEY_MAX_CHARS, VALUE_MAX_BYTES, likePrefix, parseRequest } from './store-protocol.js';

const code = (f: Record<string, unknown>) => {
  const p = parseRequest(f);
  return p.ok ? 'ok' : p.error.code;
};

describe('store requests (data.sock frames)', () => {
  it('reads each op with its fields, the id and the call it names', () => {
    expect(parseRequest({ id: 3, call: 'c1', op: 'get', key: '포인트:홍길동' })).toEqual({ ok: true, request: { id: 3, call: 'c1', timed: false, op: 'get', key: '포인트:홍길동' } });
    expect(parseRequest({ id: 4, call: 'c1', op: 'set', key: 'k', value: '{"a":"값"}', ttl: 1.5, timed: true })).toEqual({
      ok: true,
      request: { id: 4, call: 'c1', timed: true, op: 'set', key: 'k', value: '{"a":"값"}', bytes: 11, ttlMs: 1500 },
    });
    expect(parseRequest({ id: 5, call: 'c1', op: 'incr', key: 'k' })).toMatchObject({ ok: true, request: { op: 'incr', by: '1' } });
    expect(parseRequest({ id: 5, call: 'c1', op: 'incr', key: 'k', by: -2.5 })).toMatchObject({ ok: true, request: { by: '-2.5' } });
    expect(parseRequest({ id: 6, call: 'c1', op: 'keys' })).toMatchObject({ ok: true, request: { op: 'keys', prefix: '' } });
    expect(parseRequest({ id: 7, call: 'c1', op: 'delete', key: 'k' })).toMatchObject({ ok: true, request: { op: 'delete', key: 'k' } });
  });

  it('names what is wrong with a key, a value, a ttl or a step', () => {
    expect(code({ op: 'get', key: '' })).toBe('KB_ERR_STORE_INVALID');
    expect(code({ op: 'get', key: 'ㄱ'.repeat(KEY_MAX_CHARS) })).toBe('ok');
    expect(code({ op: 'get', key: 'ㄱ'.repeat(KEY_MAX_CHARS + 1) })).toBe('KB_ERR_STORE_INVALID');
    // 200 characters outside the BMP are 400 UTF-16 units: characters are counted, not units.
    expect(code({ op: 'get', key: '😀'.repeat(KEY_MAX_CHARS) })).toBe('ok');
    expect(code({ op: 'get', key: 5 })).toBe('KB_ERR_STORE_INVALID');
    expect(code({ op: 'get', key: 'a\u0000b' })).toBe('KB_ERR_STORE_INVALID');
    expect(code({ op: 'get', key: 'a\ud800' })).toBe('KB_ERR_STORE_INVALID');
    expect(code({ op: 'set', key: 'k', value: '"\udc00"' })).toBe('KB_ERR_STORE_INVALID');
    expect(code({ op: 'set', key: 'k', value: `"${'a'.repeat(VALUE_MAX_BYTES - 2)}"` })).toBe('ok');
    expect(code({ op: 'set', key: 'k', value: `"${'a'.repeat(VALUE_MAX_BYTES - 1)}"` })).toBe('KB_ERR_STORE_VALUE_TOO_LARGE');
    expect(code({ op: 'set', key: 'k', value: 5 })).toBe('KB_ERR_STORE_PROTOCOL');
    expect(code({ op: 'set', key: 'k', value: '1', ttl: 0 })).toBe('KB_ERR_STORE_INVALID');
    expect(code({ op: 'set', key: 'k', value: '1', ttl: '5' })).toBe('KB_ERR_STORE_INVALID');
    expect(code({ op: 'incr', key: 'k', by: 2 ** 60 })).toBe('KB_ERR_STORE_INVALID');
    expect(code({ op: 'incr', key: 'k', by: '1' })).toBe('KB_ERR_STORE_INVALID');
    expect(code({ op: 'drop', key: 'k' })).toBe('KB_ERR_STORE_PROTOCOL');
    const p = parseRequest({ id: 9, op: 'get', key: '' });
    expect(p).toMatchObject({ ok: false, id: 9, error: { message: expect.stringMatching(/^키는 1~200자여야 합니다 \/ key must be/) } });
  });

  it('takes a prefix literally in LIKE', () => {
    expect(likePrefix('')).toBe('%');
    expect(likePrefix('50%_off\\')).toBe('50\\%\\_off\\\\%');
  });
});
