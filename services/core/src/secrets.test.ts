import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from './secrets.js';

describe('SecretBox', () => {
  it('round-trips and never stores the plain text', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal('k3y-비밀');
    expect(sealed).not.toContain('k3y');
    expect(box.open(sealed)).toBe('k3y-비밀');
  });
  it('refuses a value sealed with another key', () => {
    const sealed = new SecretBox(randomBytes(32)).seal('x');
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow();
  });
});
