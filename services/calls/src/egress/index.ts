/**
 * Egress policy (Smokescreen model), shared by the dispatcher's calls to
 * tenant URLs and (later) the runner's CONNECT proxy: `EgressPolicy` decides
 * and pins an address, `safeFetch` makes the HTTP exchange through it.
 */
export * from './policy.js';
export * from './safe-fetch.js';
export { DomainList } from './allow-list.js';
export { normaliseHost } from './host.js';
