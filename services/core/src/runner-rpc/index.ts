export { RunnerClient, REPLY_GRACE_MS, type RpcOutcome } from './runner-client.js';
export { RunnerRegistry, RUNNER_EXPIRY_MS, type LiveRunner } from './runner-registry.js';
