export * from './header-secrets.js';
export * from './http-call.js';
export * from './rest-response.js';
