export * from './cron.js';
export * from './phrases.js';
