/**
 * OpenSSH patterns (ssh_config(5) PATTERNS; match.c): `*` matches any run of characters, `?` exactly one,
 * a pattern-list is comma-separated and a `!` prefix negates. Used by known_hosts host fields and
 * authorized_keys from="…".
 */
import { BlockList, isIP } from 'node:net';

/**
 * Glob match of one pattern against a string. Iterative with single-star backtracking, so the work is
 * at most |s|·|pattern| steps whatever the input (no regex, no recursion).
 */
export function matchPattern(s: string, pattern: string): boolean {
  let si = 0, pi = 0, starP = -1, starS = 0;
  while (si < s.length) {
    const pc = pattern[pi];
    if (pc === '*') {
      starP = pi++;
      starS = si;
    } else if (pi < pattern.length && (pc === '?' || pc === s[si])) {
      si++;
      pi++;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/**
 * match.c match_pattern_list: 1 when a positive pattern matches and no negated one does, -1 when a
 * negated pattern matches (that overrides everything on the list), 0 otherwise. Host names compare
 * case-insensitively (`lower`).
 */
export function matchPatternList(s: string, list: string, lower = true): -1 | 0 | 1 {
  const subject = lower ? s.toLowerCase() : s;
  let got: 0 | 1 = 0;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const p = negated ? raw.slice(1) : raw;
    if (p.length === 0) continue;
    if (matchPattern(subject, lower ? p.toLowerCase() : p)) {
      if (negated) return -1;
      got = 1;
    }
  }
  return got;
}

/**
 * match.c addr_match_list: IP patterns may be CIDR (`10.0.0.0/8`, `fe80::/10`) or wildcards. -2 when a
 * CIDR entry is malformed, else as matchPatternList.
 */
export function matchAddressList(ip: string, list: string): -2 | -1 | 0 | 1 {
  const family = isIP(ip);
  let got: 0 | 1 = 0;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const p = negated ? raw.slice(1) : raw;
    if (p.length === 0) continue;
    let hit: boolean;
    const slash = p.indexOf('/');
    if (slash >= 0) {
      const net = p.slice(0, slash);
      const bits = Number(p.slice(slash + 1));
      const fam = isIP(net);
      if (fam === 0 || !/^\d{1,3}$/.test(p.slice(slash + 1)) || bits > (fam === 4 ? 32 : 128)) return -2;
      if (family !== fam) continue;
      const bl = new BlockList();
      bl.addSubnet(net, bits, fam === 4 ? 'ipv4' : 'ipv6');
      hit = bl.check(ip, family === 4 ? 'ipv4' : 'ipv6');
    } else {
      hit = family !== 0 && matchPattern(ip.toLowerCase(), p.toLowerCase());
    }
    if (hit) {
      if (negated) return -1;
      got = 1;
    }
  }
  return got;
}

/**
 * match.c match_host_and_ip (authorized_keys from="…"): true when the client's host name or address
 * matches the list and neither matches a negated entry. A malformed CIDR entry denies.
 */
export function matchHostAndIp(host: string, ip: string, list: string): boolean {
  const mip = matchAddressList(ip, list);
  if (mip === -2 || mip === -1) return false;
  const mhost = matchPatternList(host, list);
  if (mhost === -1) return false;
  return mhost === 1 || mip === 1;
}
