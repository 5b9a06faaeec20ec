import { describe, expect, it } from 'vitest';
import { rabbitmqctlCommand } from './broker-admin.js';

describe('rabbitmqctlCommand', () => {
  const password = '0123456789abcdef0123456789abcdef0123456789abcdef';

  it('puts a password on standard input, never in argv', () => {
    for (const op of ['add_user', 'change_password'] as const) {
      const cmd = rabbitmqctlCommand({ op, username: 'kb-bot-1', password });
      expect(cmd).toEqual({ args: ['-q', op, 'kb-bot-1'], stdin: `${password}\n` });
    }
  });

  it('gives steps without a secret an empty standard input', () => {
    expect(rabbitmqctlCommand({ op: 'set_permissions', username: 'u', configure: '^$', write: '^kb\\.ingress$', read: '^q$' })).toEqual({
      args: ['-q', 'set_permissions', '-p', '/', 'u', '^$', '^kb\\.ingress$', '^q$'],
      stdin: '',
    });
    expect(rabbitmqctlCommand({ op: 'delete_user', username: 'u' }).stdin).toBe('');
  });
});
