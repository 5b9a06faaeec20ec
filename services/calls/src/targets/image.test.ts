import { describe, expect, it } from 'vitest';
import { decodeBase64Image, sniffImageFormat } from './image.js';

describe('image helpers', () => {
  const png = Buffer.from('89504e470d0a1a0a0000', 'hex');
  it('tells images by their bytes', () => {
    expect(sniffImageFormat(png)).toBe('png');
    expect(sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpg');
    expect(sniffImageFormat(Buffer.from('<html>'))).toBeNull();
  });
  it('decodes Base64 with or without a data: prefix and refuses garbage', () => {
    expect(decodeBase64Image(png.toString('base64'))).toEqual(png);
    expect(decodeBase64Image(`data:image/png;base64,${png.toString('base64')}`)).toEqual(png);
    expect(decodeBase64Image('not base64!')).toBeNull();
  });
});
