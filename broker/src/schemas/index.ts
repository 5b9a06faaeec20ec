export * from './envelope.js';
export * from './analyze.js';
export * from './reply.js';
export * from './telemetry.js';
export * from './ingress.js';
export * from './runner.js';
export * from './gateway.js';
export * from './schedule.js';
