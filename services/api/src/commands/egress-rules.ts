import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { apiErrors } from '../errors.js';

/**
 * Each name is checked on every CONNECT of the tenant's code (DomainList
 * scans the wildcards one by one), and the list travels to the runner: 50
 * names cover the handful of APIs a shop's commands call.
 */
export const MAX_EGRESS_DOMAINS = 50;

/** RFC 1035 letters-digits-hyphen label, after IDNA (so `xn--` labels pass). */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** The WHATWG URL parser reads a host whose last label is a number as IPv4 (`0x7f.1` is 127.0.0.1). */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/i;
/** Longest DNS name in text form. */
const MAX_NAME = 253;

const ipMessage = {
  ko: 'IP 주소는 등록할 수 없습니다. 도메인 이름을 적으세요',
  en: 'IP addresses are not accepted: name the domain',
};

/**
 * One allowlist entry in the form DomainList (`@domaeka/core` egress)
 * reads: lower case, punycode, no trailing dot; `*.example.com` for the
 * names below example.com. The result is a fixed point of core's
 * `normaliseHost` (a plain name of LDH labels whose last label is not a
 * number), so the runner's proxy compares exactly what was stored.
 *
 * Refused, each with a message naming the entry: schemes, ports, paths and
 * credentials (a domain is what is allowed, not a URL); IP literals (the
 * runner refuses private ones after resolution anyway, and a public IP
 * would bypass the point of naming domains); a bare `*` or `*.com` (that
 * opens everything or a whole top-level domain); single-label names.
 */
export function checkEgressDomain(raw: string): string {
  const entry = raw.trim();
  const shown = entry.length > 80 ? `${entry.slice(0, 80)}…` : entry;
  const refuse = (ko: string, en: string): never => {
    throw apiErrors.egressDomain(`도메인 "${shown}": ${ko} / domain "${shown}": ${en}`, raw);
  };

  if (entry === '') refuse('빈 항목입니다', 'the entry is empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) refuse('주소(URL)가 아니라 도메인 이름만 적습니다 (http:// 없이)', 'a domain name only, without a scheme');
  if (isIP(entry.replace(/^\[(.*)\]$/, '$1'))) refuse(ipMessage.ko, ipMessage.en);
  if (/[/?#\\]/.test(entry)) refuse('경로 없이 도메인 이름만 적습니다', 'a domain name only, without a path');
  if (entry.includes('@')) refuse('사용자 정보(@) 없이 도메인 이름만 적습니다', 'a domain name only, without credentials');
  if (entry.includes(':')) refuse('포트 없이 도메인 이름만 적습니다', 'a domain name only, without a port');

  const wildcard = entry.startsWith('*.');
  const base = wildcard ? entry.slice(2) : entry;
  if (entry === '*' || entry === '*.') refuse('"*" 하나로는 모든 도메인이 열립니다. *.example.com 처럼 적으세요', 'a bare "*" would allow every domain: write *.example.com');
  if (base.includes('*')) refuse('*는 맨 앞의 "*." 으로만 쓸 수 있습니다 (예: *.example.com)', '"*" is allowed only as a leading "*." (e.g. *.example.com)');

  // IDNA and lower case (the URL parser's own rules); '' when it is not a host at all.
  let ascii = domainToASCII(base);
  if (ascii.endsWith('.')) ascii = ascii.slice(0, -1);
  const labels = ascii.split('.');
  if (isIP(ascii) || (ascii !== '' && NUMERIC_LABEL.test(labels.at(-1)!))) refuse(ipMessage.ko, ipMessage.en);
  // A top-level domain always has a letter (the migration's check holds the same).
  if (ascii === '' || ascii.length > MAX_NAME || !labels.every((l) => LABEL.test(l)) || !/[a-z]/.test(labels.at(-1)!)) {
    refuse('올바른 도메인 이름이 아닙니다 (영문, 숫자, -, 점으로 된 이름, 예: api.example.com)', 'not a valid domain name (e.g. api.example.com)');
  }
  if (wildcard && labels.length < 2) refuse('최상위 도메인 전체(*.com 같은)는 열 수 없습니다', 'a whole top-level domain (like *.com) cannot be allowed');
  if (labels.length < 2) refuse('점(.)이 있는 도메인 이름을 적습니다 (예: api.example.com)', 'a domain name with a dot (e.g. api.example.com)');
  return wildcard ? `*.${ascii}` : ascii;
}

/** The list as stored: every entry checked, duplicates (after normalising) collapsed, sorted. */
export function checkEgressDomains(entries: readonly string[]): string[] {
  const domains = [...new Set(entries.map(checkEgressDomain))].sort();
  if (domains.length > MAX_EGRESS_DOMAINS) {
    throw apiErrors.validation(
      `외부 접속 도메인은 ${MAX_EGRESS_DOMAINS}개까지 등록할 수 있습니다 (${domains.length}개) / at most ${MAX_EGRESS_DOMAINS} domains (${domains.length} given)`,
    );
  }
  return domains;
}
