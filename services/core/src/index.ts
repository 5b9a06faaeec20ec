export * from './config.js';
export * from './secrets.js';
export * from './logger.js';
export * from './ops.js';
export * from './db/index.js';
export * from './errors.js';
export * from './broker-runtime.js';
