import { describe, expect, it } from 'vitest';
import { hasUnstorable, storableJson, storableText } from './storable.js';

describe('storable text', () => {
  it('replaces NUL and lone surrogates visibly, keeps pairs', () => {
    expect(storableText('a\u0000b')).toBe('a\uFFFDb');
    expect(storableText('x\uD800y')).toBe('x\uFFFDy');
    expect(storableText('x\uDC00')).toBe('x\uFFFD');
    expect(storableText('웃음 😀')).toBe('웃음 😀');
    expect(hasUnstorable('😀')).toBe(false);
    expect(hasUnstorable('room\u0000')).toBe(true);
  });

  it('cleans JSON values deeply, keys too, and returns the same object when clean', () => {
    const clean = { a: ['b', { c: 1 }], d: null };
    expect(storableJson(clean)).toBe(clean);
    const dirty = { 'k\u0000': ['v\u0000', { n: 'x\uD801' }], ok: 'fine' };
    expect(storableJson(dirty)).toEqual({ 'k\uFFFD': ['v\uFFFD', { n: 'x\uFFFD' }], ok: 'fine' });
    expect(dirty['k\u0000'][0]).toBe('v\u0000');
    expect(() => JSON.parse(JSON.stringify(storableJson(dirty)))).not.toThrow();
  });
});
