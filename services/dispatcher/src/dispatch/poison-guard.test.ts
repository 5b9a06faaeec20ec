import { describe, expect, it } from 'vitest';
import { roomMessageFor } from '@domaeka/core';
import { failure, textReply, type TargetResult } from '@domaeka/calls';
import { MAX_ATTEMPTS, analyzeFailureKind, givenUpResult, storableResult, storeFailureKind, unstoredResult } from './poison-guard.js';

const pgError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

const ok = (text: string, response: string | null = null): TargetResult => ({
  reply: textReply(text),
  log: { requestData: '{"room":"방"}', responseData: response, statusCode: 200, responseTimeMs: 12, errorCode: null, errorMessage: null },
});

describe('storableResult', () => {
  it('returns the very same result when nothing needs replacing (no copy on the common path)', () => {
    const r = ok('안녕하세요', '{"text":"안녕하세요"}');
    expect(storableResult(r)).toBe(r);
  });

  it('replaces NUL and lone surrogates visibly in the reply and every log text', () => {
    const r: TargetResult = {
      reply: { type: 'image', text: 'a\u0000b', media: [{ format: 'png', data: 'AAAA' }] },
      log: { requestData: 'q\u0000', responseData: '{"text":"a\u0000b"}', statusCode: 200, responseTimeMs: 3, errorCode: null, errorMessage: 'x\uD800y' },
    };
    const s = storableResult(r);
    expect(s.reply).toEqual({ type: 'image', text: 'a\uFFFDb', media: [{ format: 'png', data: 'AAAA' }] });
    expect(s.log).toMatchObject({ requestData: 'q\uFFFD', responseData: '{"text":"a\uFFFDb"}', errorMessage: 'x\uFFFDy', statusCode: 200 });
    // jsonb takes what JSON.stringify writes of it now.
    expect(JSON.stringify(s.reply)).not.toMatch(/\\u0000|\\ud800/i);
    expect(r.reply!.text).toBe('a\u0000b'); // the original is left alone
  });

  it('keeps a silent result silent', () => {
    const r: TargetResult = { reply: null, log: { ...ok('').log, responseData: '\u0000' } };
    expect(storableResult(r)).toEqual({ reply: null, log: { ...r.log, responseData: '\uFFFD' } });
  });
});

describe('storeFailureKind', () => {
  it('tells a database outage (retry), a deleted bot (redelivery ignores it), refused content and our bugs apart', () => {
    expect(storeFailureKind(pgError('57P01'))).toBe('transient');
    expect(storeFailureKind(pgError('ECONNREFUSED'))).toBe('transient');
    expect(storeFailureKind(new Error('Connection terminated unexpectedly'))).toBe('transient');
    expect(storeFailureKind(pgError('23503'))).toBe('vanished');
    expect(storeFailureKind(pgError('22P05', 'unsupported Unicode escape sequence'))).toBe('data');
    expect(storeFailureKind(pgError('22021'))).toBe('data');
    expect(storeFailureKind(pgError('23514'))).toBe('data');
    expect(storeFailureKind(new TypeError('x is undefined'))).toBe('bug');
    expect(storeFailureKind(pgError('42P01'))).toBe('bug');
  });
});

describe('unstoredResult', () => {
  it('answers refused content with KB_ERR_INVALID_RESULT and the reason, keeping no tenant text', () => {
    const r = unstoredResult('data', pgError('22P05', 'unsupported Unicode escape sequence'), ok('x', 'y'));
    expect(r.reply?.text).toBe(roomMessageFor('KB_ERR_INVALID_RESULT'));
    expect(r.log).toMatchObject({
      errorCode: 'KB_ERR_INVALID_RESULT',
      errorMessage: 'the result could not be stored: 22P05 unsupported Unicode escape sequence',
      requestData: null,
      responseData: null,
      statusCode: 200,
      responseTimeMs: 12,
    });
  });

  it('answers a bug of ours with KB_ERR_INTERNAL, its message made storable', () => {
    const r = unstoredResult('bug', new Error('bad\u0000thing'), failure('KB_ERR_TIMEOUT', 't'));
    expect(r.log.errorCode).toBe('KB_ERR_INTERNAL');
    expect(r.log.errorMessage).toBe('the result could not be stored: bad\uFFFDthing');
  });
});

describe('givenUpResult', () => {
  it('tells the room once and says in the log how many attempts failed', () => {
    const r = givenUpResult(MAX_ATTEMPTS + 1);
    expect(r.reply?.text).toBe(roomMessageFor('KB_ERR_INTERNAL'));
    expect(r.log.errorCode).toBe('KB_ERR_INTERNAL');
    expect(r.log.errorMessage).toContain(`after ${MAX_ATTEMPTS} failed attempts`);
  });
});

describe('analyzeFailureKind', () => {
  it('holds on a database outage, dead-letters once what the database can never store, leaves the rest to the default', () => {
    expect(analyzeFailureKind(pgError('08006'))).toBe('dependency');
    expect(analyzeFailureKind(pgError('22P05'))).toBe('refuse');
    expect(analyzeFailureKind(pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00'))).toBe('refuse');
    expect(analyzeFailureKind(pgError('23503'))).toBeUndefined();
    expect(analyzeFailureKind(new Error('x'))).toBeUndefined();
  });
});
