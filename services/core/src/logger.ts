import pino, { type Logger } from 'pino';

export type { Logger };

/** One JSON logger per service; secrets are redacted wherever they appear. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    name: service,
    level,
    redact: {
      paths: [
        'secretKey',
        'salt',
        'password',
        '*.secretKey',
        '*.salt',
        '*.password',
        'headers.authorization',
        'headers.cookie',
        '*.headers.authorization',
        '*.headers.cookie',
        'apiHeaders',
        '*.apiHeaders',
        'auth.signature',
        '*.auth.signature',
      ],
      censor: '[redacted]',
    },
  });
}
