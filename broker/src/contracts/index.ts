/**
 * What the API answers over HTTP and socket.io, by domain: the API builds
 * these views, the web reads them (`import type`, through `Json<>` where a
 * Date travels as its ISO string). Types and plain constants only, no Node
 * import: the web's bundle may not carry anything else of this package.
 */
export * from './json.js';
export * from './accounts.js';
export * from './bots.js';
export * from './commands.js';
export * from './runs.js';
export * from './logs.js';
export * from './ops.js';
export * from './onboarding.js';
export * from './kakao.js';
export * from './live-events.js';
export * from './schedules.js';
export * from './data.js';
export * from './backup.js';
