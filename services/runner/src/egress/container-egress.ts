import { EgressPolicy, type Resolver } from '@domaeka/calls';
import type { EgressGrant } from './connect-proxy.js';

/** Policies built so far, by domain list: a dedicated tenant's calls reuse one, not one per call. */
const POLICIES_MAX = 500;

/**
 * The egress policies of this runner: EGRESS_ALLOW (the operator's
 * exceptions to the address rules) plus a tenant's domain allowlist, one
 * EgressPolicy per distinct list.
 */
export class EgressPolicies {
  private readonly byList = new Map<string, EgressPolicy>();

  constructor(
    private readonly allow: string[],
    private readonly resolver?: Resolver,
  ) {
    // A bad EGRESS_ALLOW entry stops the runner at start, not the first call that needs the network.
    new EgressPolicy({ allow });
  }

  forDomains(domains: readonly string[]): EgressPolicy {
    const key = domains.join('\n');
    let policy = this.byList.get(key);
    if (!policy) {
      if (this.byList.size >= POLICIES_MAX) this.byList.clear();
      policy = new EgressPolicy({ allow: this.allow, domains: [...domains], ...(this.resolver ? { resolver: this.resolver } : {}) });
      this.byList.set(key, policy);
    }
    return policy;
  }
}

/**
 * Whose egress a container's proxy serves right now: nobody's while it
 * waits in the pool (everything refused), then the tenant of the call it
 * runs, with that call's allowlist (`egress` of the runner call: absent on
 * plans without egress, so everything stays refused for them).
 */
export class ContainerEgress {
  private current: EgressGrant | null = null;
  private key = '';

  constructor(private readonly policies: EgressPolicies) {}

  grant(): EgressGrant | null {
    return this.current;
  }

  assign(tenantId: string, domains: readonly string[] | undefined): void {
    if (!domains) {
      this.current = null;
      this.key = '';
      return;
    }
    const key = `${tenantId}\n${domains.join('\n')}`;
    if (key === this.key) return;
    this.current = { tenantId, policy: this.policies.forDomains(domains) };
    this.key = key;
  }
}
