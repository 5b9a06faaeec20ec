/** Image bytes a phone can post: checked by their magic numbers, not by what a server claims. */
export const IMAGE_MAX_BYTES = 5 * 1024 * 1024;

export function sniffImageFormat(b: Buffer): 'png' | 'jpg' | 'gif' | 'webp' | null {
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpg';
  if (b.length >= 6 && (b.toString('latin1', 0, 6) === 'GIF87a' || b.toString('latin1', 0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return null;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Decodes `image_base64` (a `data:` URL prefix is tolerated); null when it is not Base64. */
export function decodeBase64Image(raw: string): Buffer | null {
  const data = raw.replace(/^data:[^,]*;base64,/i, '').replace(/\s+/g, '');
  if (data === '' || !BASE64.test(data)) return null;
  return Buffer.from(data, data.includes('-') || data.includes('_') ? 'base64url' : 'base64');
}
