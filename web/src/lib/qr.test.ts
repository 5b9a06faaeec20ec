import { describe, expect, it } from 'vitest';
import { qrPath } from './qr';

describe('qrPath', () => {
  it('draws a link as a QR symbol with its finder patterns and a quiet zone', () => {
    const url = 'https://shop.example.kr/api/v1/bridge-script/AbCdEfGhIjKlMnOpQrStUvWxYz012345';
    const qr = qrPath(url);
    const modules = qr.size - 8;
    // Versions are 21, 25, 29 ... modules a side; this link needs version 4 or 5 at level M.
    expect((modules - 17) % 4).toBe(0);
    expect(modules).toBeGreaterThanOrEqual(33);
    // The top-left finder pattern's outer ring starts right after the quiet zone.
    expect(qr.d.startsWith('M4 4h1v1h-1z')).toBe(true);
    expect(qrPath(url)).toEqual(qr);
  });
});
