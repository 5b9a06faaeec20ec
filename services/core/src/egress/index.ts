/**
 * Egress policy (Smokescreen model), shared by the dispatcher's calls to
 * tenant URLs and (later) the runner's CONNECT proxy. INTERFACE ONLY until
 * the implementation lands: see the brief.
 */
export * from './policy.js';
export * from './safe-fetch.js';
