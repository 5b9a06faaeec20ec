export * from './commands/command-match.js';
export * from './egress/index.js';
export * from './targets/index.js';
