import { describe, expect, it } from 'vitest';
import { KbError } from '@domaeka/core';
import { SECRET_VALUE_MAX_BYTES, checkSecretName, checkSecretValue } from './secret-rules.js';

const codeOf = (f: () => unknown): string | null => {
  try {
    f();
    return null;
  } catch (err) {
    return err instanceof KbError ? err.code : String(err);
  }
};

describe('secret rules', () => {
  it('takes environment-variable names and refuses the rest and the reserved ones', () => {
    for (const ok of ['WEATHER_KEY', 'A', 'X1', `A${'B'.repeat(63)}`, 'KAKAO_TOKEN', 'PATHWAY']) expect(codeOf(() => checkSecretName(ok)), ok).toBeNull();
    for (const bad of ['', 'weather_key', '1KEY', '_KEY', 'KEY-1', 'KEY 1', `A${'B'.repeat(64)}`, '키', 'KEY\n']) {
      expect(codeOf(() => checkSecretName(bad)), bad).toBe('KB_ERR_SECRET_NAME');
    }
    for (const reserved of ['PATH', 'HOME', 'KB_RUNTIME_SOCKET', 'PYTHONPATH', 'PYTHONSTARTUP', 'LD_PRELOAD', 'LC_ALL', 'TZ']) {
      expect(codeOf(() => checkSecretName(reserved)), reserved).toBe('KB_ERR_SECRET_NAME');
    }
  });

  it('takes 1..4096 bytes without NUL and never repeats the value in its message', () => {
    expect(checkSecretValue('ㄱ'.repeat(1365))).toHaveLength(1365); // 4,095 bytes
    expect(codeOf(() => checkSecretValue('a'.repeat(SECRET_VALUE_MAX_BYTES)))).toBeNull();
    for (const bad of ['', 'a\0b', 'x'.repeat(SECRET_VALUE_MAX_BYTES + 1), 'ㄱ'.repeat(1366)]) {
      expect(codeOf(() => checkSecretValue(bad))).toBe('KB_ERR_SECRET_VALUE');
    }
    try {
      checkSecretValue('sekrit\0value');
    } catch (err) {
      expect((err as Error).message).not.toContain('sekrit');
    }
  });
});
