import { describe, expect, it } from 'vitest';
import { readRestAnswer, renderButtons } from './rest-response.js';
import { truncateUtf8 } from './http-call.js';

describe('readRestAnswer', () => {
  it('reads the seed REST standard answer', () => {
    expect(
      readRestAnswer({ success: true, response: { text: '🌤️ 화도읍 날씨', type: 'text', buttons: [] }, error: null, processing_time: 234 }),
    ).toEqual({ kind: 'text', text: '🌤️ 화도읍 날씨' });
  });

  it('accepts a bare {text}', () => {
    expect(readRestAnswer({ text: '안녕' })).toEqual({ kind: 'text', text: '안녕' });
  });

  it('renders buttons as `label: url` lines under the text', () => {
    const a = readRestAnswer({
      success: true,
      response: { text: '날씨', buttons: [{ label: '자세히 보기', url: 'https://weather.example/1' }, { label: '', url: 'https://x.example' }] },
    });
    expect(a).toEqual({
      kind: 'text',
      text: '날씨\n자세히 보기: https://weather.example/1\nhttps://x.example',
      // The answer as given, for channels that draw buttons (the Kakao channel skill).
      parts: { text: '날씨', buttons: [{ label: '자세히 보기', url: 'https://weather.example/1' }, { label: '', url: 'https://x.example' }], imageUrl: null },
    });
    expect(renderButtons('', [{ label: 'a', url: 'u' }])).toBe('a: u');
  });

  it('reads image answers by URL or Base64, with the text as caption', () => {
    expect(readRestAnswer({ response: { type: 'image', url: 'https://img.example/a.png', text: '지도' } })).toEqual({
      kind: 'image',
      caption: '지도',
      url: 'https://img.example/a.png',
      parts: { text: '지도', buttons: [], imageUrl: 'https://img.example/a.png' },
    });
    expect(readRestAnswer({ response: { type: 'image', image_base64: 'iVBO', format: 'png' } })).toEqual({
      kind: 'image',
      caption: '',
      base64: 'iVBO',
      format: 'png',
    });
    expect(readRestAnswer({ response: { type: 'image' } }).kind).toBe('invalid');
  });

  it('passes on the text of success:false, or nothing when there is none', () => {
    expect(readRestAnswer({ success: false, response: { text: '없는 주문입니다' }, error: 'NOT_FOUND' })).toEqual({
      kind: 'failed',
      text: '없는 주문입니다',
      error: 'NOT_FOUND',
    });
    expect(readRestAnswer({ success: false, error: { code: 42 } })).toEqual({ kind: 'failed', text: null, error: '{"code":42}' });
  });

  it('treats an empty text as nothing to say', () => {
    expect(readRestAnswer({ success: true, response: { text: '' } })).toEqual({ kind: 'silent' });
    expect(readRestAnswer({ text: '' })).toEqual({ kind: 'silent' });
  });

  it('refuses shapes it cannot read', () => {
    expect(readRestAnswer([1, 2]).kind).toBe('invalid');
    expect(readRestAnswer('hello').kind).toBe('invalid');
    expect(readRestAnswer({ hello: 'world' }).kind).toBe('invalid');
    expect(readRestAnswer({ text: { nested: true } }).kind).toBe('invalid');
    expect(readRestAnswer({ text: 'x', buttons: 'nope' }).kind).toBe('invalid');
  });
});

describe('truncateUtf8', () => {
  it('cuts at a byte budget without splitting a character', () => {
    const text = '가'.repeat(100); // 3 bytes each
    const cut = truncateUtf8(text, 10);
    expect(cut).toBe('가가가');
    expect(truncateUtf8('short', 10)).toBe('short');
  });
});
