export * from './answer-reply.js';
export * from './call-http-target.js';
export * from './header-secrets.js';
export * from './http-call.js';
export * from './image.js';
export * from './rest-response.js';
export * from './sandbox-profile.js';
export * from './target-result.js';
