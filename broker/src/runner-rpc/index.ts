export { RunnerClient, REPLY_GRACE_MS, MIN_RUN_MS, type RpcOutcome, type RunnerClientOptions, type RunnerWaitStats } from './runner-client.js';
export { RunnerRegistry, RUNNER_EXPIRY_MS, type LiveRunner } from './runner-registry.js';
