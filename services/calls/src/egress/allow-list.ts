import { cidrContains, parseCidr, parseIp, type Cidr, type Ip } from './ip-ranges.js';
import { normaliseHost } from './host.js';

/**
 * EGRESS_ALLOW: the operator's exceptions to the address rules. A
 * `host:port` entry names what a URL says (so `localhost:8080` does not also
 * open every name that resolves to 127.0.0.1); a CIDR entry (or a bare IP,
 * read as a single-address CIDR) names where the connection lands.
 */
export class AllowList {
  private readonly hostPorts = new Set<string>();
  private readonly cidrs: Cidr[] = [];

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim();
      if (entry) this.add(entry);
    }
  }

  allowsHostPort(host: string, port: number): boolean {
    return this.hostPorts.has(`${host}|${port}`);
  }

  allowsAddress(ip: Ip): boolean {
    return this.cidrs.some((c) => cidrContains(c, ip));
  }

  private add(entry: string): void {
    if (entry.includes('/')) {
      const cidr = parseCidr(entry);
      if (!cidr) throw new Error(`EGRESS_ALLOW: bad CIDR entry "${entry}"`);
      this.cidrs.push(cidr);
      return;
    }
    const ip = parseIp(entry);
    if (ip) {
      this.cidrs.push({ family: ip.family, base: ip.value, prefix: ip.family === 4 ? 32 : 128 });
      return;
    }
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
    const host = m && normaliseHost(m[1]!);
    const port = m ? Number(m[2]) : 0;
    if (!host || port < 1 || port > 65535) {
      throw new Error(`EGRESS_ALLOW: entry "${entry}" is neither host:port (IPv6 as [addr]:port) nor CIDR`);
    }
    this.hostPorts.add(`${host}|${port}`);
  }
}

/**
 * The tenant's domain allowlist: exact hosts, or `*.example.com` for names
 * below example.com (not example.com itself, as in Smokescreen).
 */
export class DomainList {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim();
      if (!entry) continue;
      const wildcard = entry.startsWith('*.');
      const host = normaliseHost(wildcard ? entry.slice(2) : entry);
      if (!host) throw new Error(`domain allowlist: bad entry "${entry}"`);
      if (wildcard) this.suffixes.push(`.${host}`);
      else this.exact.add(host);
    }
  }

  matches(host: string): boolean {
    return this.exact.has(host) || this.suffixes.some((s) => host.endsWith(s));
  }
}
