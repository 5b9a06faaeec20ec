import { describe, expect, it } from 'vitest';
import { isSecretReference } from './backup-format.js';

describe('which header values an export file keeps', () => {
  it('keeps secret references, alone or after an auth scheme word', () => {
    expect(isSecretReference('{{secret:SHOP_TOKEN}}')).toBe(true);
    expect(isSecretReference('Bearer {{secret:SHOP_TOKEN}}')).toBe(true);
    expect(isSecretReference('{{secret:USER}}{{secret:PASS}}')).toBe(true);
  });

  it('leaves out anything with a literal that could be a credential', () => {
    expect(isSecretReference('Bearer abc123')).toBe(false);
    expect(isSecretReference('abc123{{secret:SHOP_TOKEN}}')).toBe(false);
    expect(isSecretReference('{{secret:lower}}')).toBe(false);
    expect(isSecretReference('')).toBe(false);
  });
});
