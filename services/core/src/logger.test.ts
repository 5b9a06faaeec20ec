import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('redacts credentials and tenant secrets wherever a caller logs them whole', () => {
    const lines: string[] = [];
    const logger = createLogger('probe', 'info', { write: (l: string) => void lines.push(l) });
    logger.info(
      { call: { tenantId: 't1', secrets: { WEATHER_KEY: 'wk-secret-1' } }, secrets: { TOKEN: 'tok-secret-2' }, bot: { secretKey: 'bot-secret-3' } },
      'probe',
    );
    const text = lines.join('');
    expect(text).toContain('"tenantId":"t1"');
    for (const secret of ['wk-secret-1', 'tok-secret-2', 'bot-secret-3']) expect(text).not.toContain(secret);
  });
});
