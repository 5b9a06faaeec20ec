import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * One JSON logger per service; secrets are redacted wherever they appear.
 * `destination` (default stdout) lets tests read every line a service writes.
 */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
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
        // Tenant secrets (a runner call's payload, should one ever be logged whole).
        'secrets',
        '*.secrets',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
