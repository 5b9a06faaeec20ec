import { describe, expect, it } from 'vitest';
import { EgressPolicy, type EgressDecision, type Resolver } from './policy.js';

/** A resolver from a fixed table; names not in it fail like NXDOMAIN. */
function tableResolver(table: Record<string, string[]>, calls: string[] = []): Resolver {
  return async (host) => {
    calls.push(host);
    const found = table[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
}

const publicV4 = '93.184.216.34';
const resolver = tableResolver({
  'public.test': [publicV4],
  'public6.test': ['2606:4700::1111'],
  'private.test': ['10.0.0.7'],
  'mixed.test': [publicV4, '192.168.1.1'],
  'mapped.test': ['::ffff:169.254.169.254'],
  'empty.test': [],
  'api.example.com': [publicV4],
  'x.svc.example.org': [publicV4],
  'a.b.svc.example.org': [publicV4],
  'svc.example.org': [publicV4],
  'evil-svc.example.org': [publicV4],
  localhost: ['127.0.0.1'],
  'internal.test': ['10.1.2.3'],
});
const policy = new EgressPolicy({ allow: [], resolver });

function refused(d: EgressDecision): string {
  if (d.ok) throw new Error(`expected a refusal, got ${JSON.stringify(d)}`);
  return d.reason;
}

describe('EgressPolicy.checkUrl: address classes', () => {
  it.each([
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.255.255.254/', 'loopback'],
    ['http://10.0.0.1/', 'private address (RFC 1918)'],
    ['http://172.16.0.1/', 'private address (RFC 1918)'],
    ['http://172.31.255.255/', 'private address (RFC 1918)'],
    ['http://192.168.0.1/', 'private address (RFC 1918)'],
    ['http://169.254.169.254/latest/meta-data', 'link-local (cloud metadata)'],
    ['http://100.64.0.1/', 'carrier-grade NAT'],
    ['http://100.127.255.255/', 'carrier-grade NAT'],
    ['http://0.0.0.0/', '"this network"'],
    ['http://0.1.2.3/', '"this network"'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://239.255.255.250/', 'multicast'],
    ['http://240.0.0.1/', 'reserved'],
    ['http://255.255.255.255/', 'broadcast'],
    ['http://[::1]/', 'loopback'],
    ['http://[::]/', 'unspecified'],
    ['http://[fd00::1]/', 'unique local'],
    ['http://[fc00::1]/', 'unique local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://[ff02::1]/', 'multicast'],
    ['http://[::ffff:127.0.0.1]/', 'IPv4-mapped form of 127.0.0.1, a loopback'],
    ['http://[::ffff:a9fe:a9fe]/', 'IPv4-mapped form of 169.254.169.254'],
    ['http://[::127.0.0.1]/', 'IPv4-compatible'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'NAT64 form of 169.254.169.254, a link-local'],
    ['http://[64:ff9b::7f00:1]/', 'NAT64 form of 127.0.0.1'],
    ['http://[2002:a00:1::1]/', '6to4 form of 10.0.0.1'],
    ['http://[2002:7f00:1::]/', '6to4 form of 127.0.0.1'],
    ['http://[2001:0:4136:e378::1]/', 'Teredo'],
    ['http://[2001:db8::1]/', 'documentation'],
    ['http://[100::1]/', 'discard-only'],
    ['http://[fec0::1]/', 'site-local'],
    ['http://[4000::1]/', 'reserved IPv6'],
  ])('refuses %s (%s)', async (url, why) => {
    expect(refused(await policy.checkUrl(url))).toContain(why);
  });

  it.each([
    ['http://2130706433/', 'decimal'],
    ['http://0x7f.0.0.1/', 'hex'],
    ['http://0x7f.1/', 'hex short'],
    ['http://0177.0.0.1/', 'octal'],
    ['http://127.1/', 'short form'],
    ['http://%31%32%37.0.0.1/', 'percent-encoded'],
    ['http://127.0.0.1./', 'trailing dot'],
  ])('normalises the numeric trick %s (%s) to 127.0.0.1 and refuses it', async (url) => {
    expect(refused(await policy.checkUrl(url))).toBe('127.0.0.1 is a loopback address');
  });

  it('passes public addresses and pins them', async () => {
    expect(await policy.checkUrl('https://8.8.8.8/x')).toEqual({ ok: true, host: '8.8.8.8', port: 443, address: '8.8.8.8', family: 4 });
    expect(await policy.checkUrl('http://[2606:4700::1111]:8080/')).toEqual({
      ok: true, host: '2606:4700::1111', port: 8080, address: '2606:4700::1111', family: 6,
    });
    // Embedded public IPv4 in NAT64 / mapped forms is a public destination.
    expect((await policy.checkUrl('http://[64:ff9b::808:808]/')).ok).toBe(true);
    expect(await policy.checkUrl('http://[::ffff:8.8.8.8]/')).toMatchObject({ ok: true, address: '8.8.8.8', family: 4 });
  });
});

describe('EgressPolicy.checkUrl: URL shape', () => {
  it('allows only http and https', async () => {
    expect(refused(await policy.checkUrl('ftp://public.test/file'))).toBe('scheme "ftp" is not allowed (http or https only)');
    expect(refused(await policy.checkUrl('file:///etc/passwd'))).toContain('scheme "file"');
    expect(refused(await policy.checkUrl('gopher://public.test/'))).toContain('scheme "gopher"');
  });

  it('refuses credentials in the URL', async () => {
    expect(refused(await policy.checkUrl('http://user:pass@public.test/'))).toBe('credentials in the URL are not allowed');
    expect(refused(await policy.checkUrl('http://public.test@127.0.0.1/'))).toBe('credentials in the URL are not allowed');
  });

  it('refuses what is not a URL', async () => {
    expect(refused(await policy.checkUrl('not a url'))).toBe('not a valid URL');
    expect(refused(await policy.checkUrl('http://4294967296/'))).toBe('not a valid URL');
  });

  it('refuses port 0', async () => {
    expect(refused(await policy.checkUrl('http://public.test:0/'))).toBe('port 0 is not valid');
  });
});

describe('EgressPolicy: resolution', () => {
  it('resolves names and pins the first address', async () => {
    expect(await policy.checkUrl('http://public.test/a')).toEqual({ ok: true, host: 'public.test', port: 80, address: publicV4, family: 4 });
    expect(await policy.checkUrl('https://public6.test/')).toMatchObject({ ok: true, address: '2606:4700::1111', family: 6 });
  });

  it('refuses a name resolving to a private address', async () => {
    expect(refused(await policy.checkUrl('http://private.test/'))).toBe('private.test resolves to 10.0.0.7, a private address (RFC 1918)');
    expect(refused(await policy.checkUrl('http://localhost/'))).toContain('a loopback address');
  });

  it('checks every resolved address, not only the first', async () => {
    expect(refused(await policy.checkUrl('http://mixed.test/'))).toContain('192.168.1.1');
  });

  it('judges an IPv4-mapped answer by its IPv4 address', async () => {
    expect(refused(await policy.checkUrl('http://mapped.test/'))).toContain('169.254.169.254');
  });

  it('marks names that do not resolve as unresolved', async () => {
    expect(await policy.checkUrl('http://nowhere.test/')).toEqual({ ok: false, reason: 'nowhere.test does not resolve (ENOTFOUND)', unresolved: true });
    expect(await policy.checkUrl('http://empty.test/')).toMatchObject({ ok: false, unresolved: true });
  });

  it('never asks DNS about IP literals', async () => {
    const calls: string[] = [];
    const p = new EgressPolicy({ allow: [], resolver: tableResolver({}, calls) });
    expect((await p.checkUrl('http://8.8.8.8/')).ok).toBe(true);
    expect(calls).toEqual([]);
  });
});

describe('EgressPolicy: EGRESS_ALLOW', () => {
  const allowed = new EgressPolicy({
    allow: ['127.0.0.1:8080', 'localhost:9000', '[::1]:7000', '10.1.0.0/16', '192.168.5.5', 'fd00:1::/32'],
    resolver,
  });

  it('lets a host:port entry through at exactly that host and port', async () => {
    expect(await allowed.checkUrl('http://127.0.0.1:8080/x')).toEqual({ ok: true, host: '127.0.0.1', port: 8080, address: '127.0.0.1', family: 4 });
    expect(refused(await allowed.checkUrl('http://127.0.0.1:8081/'))).toContain('loopback');
    expect(refused(await allowed.checkUrl('http://127.0.0.1/'))).toContain('loopback');
    expect(refused(await allowed.checkUrl('https://127.0.0.1/'))).toContain('loopback');
    // Same address spelled as a number is the same host.
    expect((await allowed.checkUrl('http://2130706433:8080/')).ok).toBe(true);
  });

  it('matches host:port on the URL host, not on where another name resolves', async () => {
    expect(await allowed.checkUrl('http://localhost:9000/')).toMatchObject({ ok: true, address: '127.0.0.1' });
    expect(refused(await allowed.checkUrl('http://localhost:8080/'))).toContain('loopback');
    expect(refused(await allowed.checkUrl('http://127.0.0.1:9000/'))).toContain('loopback');
  });

  it('lets bracketed IPv6 host:port entries through', async () => {
    expect(await allowed.checkUrl('http://[::1]:7000/')).toMatchObject({ ok: true, address: '::1', family: 6 });
    expect(refused(await allowed.checkUrl('http://[::1]:7001/'))).toContain('loopback');
  });

  it('lets CIDR and bare-IP entries through by resolved address, any port', async () => {
    expect(await allowed.checkUrl('http://10.1.2.3:5000/')).toMatchObject({ ok: true, address: '10.1.2.3' });
    expect(await allowed.checkUrl('http://internal.test/')).toMatchObject({ ok: true, address: '10.1.2.3' });
    expect(refused(await allowed.checkUrl('http://10.2.0.1/'))).toContain('private');
    expect((await allowed.checkUrl('http://192.168.5.5/')).ok).toBe(true);
    expect(refused(await allowed.checkUrl('http://192.168.5.6/'))).toContain('private');
    expect((await allowed.checkUrl('http://[fd00:1::5]/')).ok).toBe(true);
    expect(refused(await allowed.checkUrl('http://[fd00:2::5]/'))).toContain('unique local');
  });

  it('rejects malformed entries at construction', () => {
    for (const bad of ['nonsense', '10.0.0.0/33', 'host:0', 'host:70000', '::1:80x', 'a/b/c', 'user@host:80']) {
      expect(() => new EgressPolicy({ allow: [bad] }), bad).toThrow(/EGRESS_ALLOW/);
    }
  });
});

describe('EgressPolicy: domain allowlist', () => {
  const scoped = new EgressPolicy({ allow: [], domains: ['api.example.com', '*.svc.example.org'], resolver });

  it('lets listed hosts and wildcard subdomains through', async () => {
    expect((await scoped.checkUrl('https://api.example.com/v1')).ok).toBe(true);
    expect((await scoped.checkUrl('https://API.Example.COM./v1')).ok).toBe(true);
    expect((await scoped.checkUrl('https://x.svc.example.org/')).ok).toBe(true);
    expect((await scoped.checkUrl('https://a.b.svc.example.org/')).ok).toBe(true);
  });

  it('refuses everything else, including the wildcard apex and IP literals', async () => {
    expect(refused(await scoped.checkUrl('https://svc.example.org/'))).toBe('svc.example.org is not in the domain allowlist');
    expect(refused(await scoped.checkUrl('https://evil-svc.example.org/'))).toContain('not in the domain allowlist');
    expect(refused(await scoped.checkUrl('https://public.test/'))).toContain('not in the domain allowlist');
    expect(refused(await scoped.checkUrl(`https://${publicV4}/`))).toContain('not in the domain allowlist');
  });

  it('still applies the address rules to listed domains', async () => {
    const p = new EgressPolicy({ allow: [], domains: ['private.test'], resolver });
    expect(refused(await p.checkUrl('http://private.test/'))).toContain('private address');
  });
});

describe('EgressPolicy.checkHostPort (CONNECT)', () => {
  it('normalises numeric tricks the same way as URLs', async () => {
    for (const host of ['2130706433', '0x7f.1', '0177.0.0.1', '127.1', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(refused(await policy.checkHostPort(host, 443)), host).toContain('loopback');
    }
  });

  it('refuses hosts that smuggle other URL parts', async () => {
    for (const host of ['public.test@127.0.0.1', 'public.test:80', 'public.test/x', 'a b', '127.0.0.1#x', '']) {
      expect(refused(await policy.checkHostPort(host, 443)), host).toContain('is not a valid host');
    }
  });

  it('passes public hosts and honours allow entries', async () => {
    expect(await policy.checkHostPort('public.test', 443)).toEqual({ ok: true, host: 'public.test', port: 443, address: publicV4, family: 4 });
    const allowed = new EgressPolicy({ allow: ['localhost:9000'], resolver });
    expect((await allowed.checkHostPort('LOCALHOST', 9000)).ok).toBe(true);
    expect(refused(await allowed.checkHostPort('localhost', 9001))).toContain('loopback');
    expect(refused(await policy.checkHostPort('public.test', 70000))).toBe('port 70000 is not valid');
  });
});
