import { describe, expect, it } from 'vitest';
import { parseManagementUrl, rabbitmqctlCommand } from './broker-admin.js';

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

describe('parseManagementUrl', () => {
  it('keeps the host: endpoints are origin + path, never a protocol-relative //api/...', () => {
    const m = parseManagementUrl('http://admin:s3cret@rabbitmq:15672');
    expect(`${m.origin}${m.basePath}/api/users/kb-bot-1`).toBe('http://rabbitmq:15672/api/users/kb-bot-1');
    expect(m.host).toBe('rabbitmq:15672');
  });

  it('keeps a path prefix without its trailing slash, and puts the credentials in the header only', () => {
    const m = parseManagementUrl('https://ops%40shop:p%3Ass@mq.example.com/rabbitmq/');
    expect(`${m.origin}${m.basePath}/api/overview`).toBe('https://mq.example.com/rabbitmq/api/overview');
    expect(m.authorization).toBe(`Basic ${Buffer.from('ops@shop:p:ss').toString('base64')}`);
    expect(JSON.stringify({ ...m, authorization: '' })).not.toMatch(/p%3Ass|p:ss|ops/);
  });

  it('refuses anything but http and https', () => {
    expect(() => parseManagementUrl('amqp://u:p@rabbitmq:5672')).toThrow(/http/);
  });
});
