export * from './cron.js';
export * from './phrases.js';
export * from './missed-fires.js';
