import qrcode from 'qrcode-generator';

/** A QR code as one SVG path: `size` modules a side (quiet zone included), `d` the dark modules. */
export interface QrPath {
  size: number;
  d: string;
}

/** Modules of light border the standard asks for around the symbol (ISO/IEC 18004: 4). */
const QUIET = 4;

/**
 * The QR code of `text` (byte mode, error correction M, the smallest version
 * that fits), drawn in the browser: no image service, no network. One path
 * of unit squares, so it scales crisply at any CSS size.
 */
export function qrPath(text: string): QrPath {
  const qr = qrcode(0, 'M');
  qr.addData(text, 'Byte');
  qr.make();
  const n = qr.getModuleCount();
  let d = '';
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) if (qr.isDark(row, col)) d += `M${col + QUIET} ${row + QUIET}h1v1h-1z`;
  }
  return { size: n + 2 * QUIET, d };
}
