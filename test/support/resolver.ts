import type { Resolver } from '@domaeka/calls';

/**
 * A resolver for the egress proxy that knows only the names it is given
 * (tests have no DNS); any other name fails as DNS would (ENOTFOUND).
 */
export function namesResolver(names: Record<string, string>): Resolver {
  return async (host) => {
    const address = names[host];
    if (address) return [address];
    throw Object.assign(new Error(`${host}: no such host`), { code: 'ENOTFOUND' });
  };
}
