import { lookup } from 'node:dns/promises';
import { KbError } from '@domaeka/core';
import { AllowList, DomainList } from './allow-list.js';
import { hostOf, normaliseHost } from './host.js';
import { formatIp, parseIp, refusalReason, unmapIp } from './ip-ranges.js';

/** Resolves a host name to IP addresses (injectable so tests need no DNS). */
export type Resolver = (host: string) => Promise<string[]>;

export interface EgressPolicyOptions {
  /** EGRESS_ALLOW entries: `host:port` or CIDR that may be reached although private or loopback. */
  allow: string[];
  /** Tenant domain allowlist (sandbox code only); null = any public host. */
  domains?: string[] | null;
  resolver?: Resolver;
}

/**
 * `unresolved` marks a refusal because the name did not resolve: callers
 * report that as unreachable rather than as a forbidden address.
 */
export type EgressDecision =
  | { ok: true; host: string; port: number; address: string; family: 4 | 6 }
  | { ok: false; reason: string; unresolved?: boolean };

export class EgressDeniedError extends KbError {
  constructor(reason: string) {
    super('KB_ERR_EGRESS_DENIED', `outbound address refused: ${reason}`, 400);
  }
}

/** Every address, in the system resolver's order (as the OS would connect). */
export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true })).map((a) => a.address);

const deny = (reason: string): EgressDecision => ({ ok: false, reason });

/**
 * Decides whether an outbound connection may be made (Stripe Smokescreen is
 * the model): scheme and credentials of the URL, the tenant's domain list,
 * then EVERY resolved address against the refused ranges, unless
 * EGRESS_ALLOW names it. The address it returns must be the one connected
 * to (pinned), so a second DNS answer can never slip past the check.
 */
export class EgressPolicy {
  private readonly allow: AllowList;
  private readonly domains: DomainList | null;
  private readonly resolver: Resolver;

  constructor(opts: EgressPolicyOptions) {
    this.allow = new AllowList(opts.allow);
    this.domains = opts.domains ? new DomainList(opts.domains) : null;
    this.resolver = opts.resolver ?? systemResolver;
  }

  /** Checks a URL (scheme http/https, host, port) and resolves it; the returned address is pinned for the connection. */
  async checkUrl(url: string): Promise<EgressDecision> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return deny('not a valid URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return deny(`scheme "${parsed.protocol.slice(0, -1)}" is not allowed (http or https only)`);
    }
    // `http://user:pass@host/` is a classic way to make a URL look like another host.
    if (parsed.username || parsed.password) return deny('credentials in the URL are not allowed');
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    return this.check(hostOf(parsed), port);
  }

  /** Checks a host:port (for CONNECT). */
  async checkHostPort(host: string, port: number): Promise<EgressDecision> {
    const canonical = normaliseHost(host);
    if (!canonical) return deny(`"${host}" is not a valid host`);
    return this.check(canonical, port);
  }

  private async check(host: string, port: number): Promise<EgressDecision> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return deny(`port ${port} is not valid`);
    if (this.domains && !this.domains.matches(host)) return deny(`${host} is not in the domain allowlist`);
    const literal = parseIp(host);
    let addresses: string[];
    if (literal) {
      addresses = [host];
    } else {
      try {
        addresses = await this.resolver(host);
      } catch (err) {
        const code = (err as { code?: string }).code;
        return { ok: false, reason: `${host} does not resolve${code ? ` (${code})` : ''}`, unresolved: true };
      }
      if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve`, unresolved: true };
    }

    // The operator named this exact host:port: it may land anywhere it resolves to.
    const namedByOperator = this.allow.allowsHostPort(host, port);
    let pinned: { address: string; family: 4 | 6 } | null = null;
    for (const text of addresses) {
      const raw = parseIp(text);
      if (!raw) return deny(`${host} resolves to "${text}", which is not an IP address`);
      // ::ffff:a.b.c.d is the IPv4 host itself; judge and connect to it as IPv4.
      const ip = unmapIp(raw);
      if (!namedByOperator && !this.allow.allowsAddress(ip)) {
        const why = refusalReason(raw);
        if (why) return deny(literal ? `${host} is ${why}` : `${host} resolves to ${formatIp(raw)}, ${why}`);
      }
      pinned ??= { address: formatIp(ip), family: ip.family };
    }
    return { ok: true, host, port, ...pinned! };
  }
}
