import { describe, expect, it } from 'vitest';
import { prepareHttpCall, readHttpAnswer } from './http-call.js';

describe('prepareHttpCall', () => {
  it('fills secrets, keeps our headers on top and sends no body with GET', () => {
    const r = prepareHttpCall(
      { url: 'https://api.example/x', method: 'GET', headers: { 'X-Key': '{{secret:KEY}}', Host: 'evil.example', 'x-kb-event-id': 'forged' } },
      { command: '날씨' },
      'ev-1',
      { KEY: 'k-1' },
    );
    expect(r).toEqual({
      ok: true,
      request: { url: 'https://api.example/x', method: 'GET', headers: { accept: 'application/json', 'user-agent': 'Domaeka-Dispatcher/1', 'X-Key': 'k-1', 'x-kb-event-id': 'ev-1' }, body: undefined },
    });
  });

  it('sends the JSON body otherwise, and fails on a missing secret', () => {
    const ok = prepareHttpCall({ url: 'https://api.example/x', method: 'POST', headers: {} }, { a: 1 }, 'ev', {});
    expect(ok.ok && ok.request.body).toBe('{"a":1}');
    expect(prepareHttpCall({ url: 'u', method: 'POST', headers: { A: '{{secret:NOPE}}' } }, {}, 'ev', {})).toMatchObject({ ok: false, code: 'KB_ERR_SECRET_MISSING' });
  });
});

describe('readHttpAnswer', () => {
  it('reads status, silence, non-JSON and answers', () => {
    expect(readHttpAnswer(502, '')).toMatchObject({ kind: 'error', code: 'KB_ERR_TARGET_STATUS' });
    expect(readHttpAnswer(204, '')).toEqual({ kind: 'silent' });
    expect(readHttpAnswer(200, '<html>')).toMatchObject({ kind: 'error', code: 'KB_ERR_TARGET_INVALID' });
    expect(readHttpAnswer(200, '{"text":"안녕"}')).toEqual({ kind: 'answer', answer: { kind: 'text', text: '안녕' } });
  });
});
