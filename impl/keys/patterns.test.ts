import { expect } from 'chai';
import { matchHostAndIp, matchPattern, matchPatternList } from './index.js';

describe('impl/keys OpenSSH patterns (ssh_config(5) PATTERNS)', () => {
  it('matches * and ? like match.c match_pattern', () => {
    const cases: [string, string, boolean][] = [
      ['host', 'host', true], ['host', 'hos', false], ['host', 'h*', true], ['host', '*', true], ['', '*', true], ['', '?', false],
      ['host', 'h?st', true], ['hst', 'h?st', false], ['a.b.c', '*.c', true], ['abc', 'a*b*c', true], ['ac', 'a*b*c', false],
      ['[h]:22', '[h]:22', true], ['[h]:2222', '[h]:22', false], ['x', '**', true], ['aXbXc', 'a*c', true],
    ];
    for (const [s, p, want] of cases) expect(matchPattern(s, p), `${s} ~ ${p}`).to.equal(want);
  });

  it('stays linear-ish on pathological patterns (no backtracking blow-up)', () => {
    expect(matchPattern('a'.repeat(5000), `${'a*'.repeat(200)}b`)).to.equal(false);
  });

  it('pattern-lists: any positive match, a negated match overrides, case-insensitive', () => {
    expect(matchPatternList('Web1.Example.com', '*.example.com')).to.equal(1);
    expect(matchPatternList('db.example.com', '*.example.com,!db.example.com')).to.equal(-1);
    expect(matchPatternList('db.example.com', '!db.example.com,*.example.com')).to.equal(-1);
    expect(matchPatternList('other', '*.example.com,!db.example.com')).to.equal(0);
    expect(matchPatternList('x', '!y')).to.equal(0);
    expect(matchPatternList('x', ',,x,')).to.equal(1);
  });

  it('from= host-and-ip lists with CIDR and negation (match.c match_host_and_ip)', () => {
    expect(matchHostAndIp('client.example', '192.0.2.7', '*.example')).to.equal(true);
    expect(matchHostAndIp('client.other', '192.0.2.7', '192.0.2.0/24')).to.equal(true);
    expect(matchHostAndIp('client.other', '198.51.100.1', '192.0.2.0/24')).to.equal(false);
    expect(matchHostAndIp('client.other', '192.0.2.7', '192.0.2.*')).to.equal(true);
    expect(matchHostAndIp('client.example', '192.0.2.7', '*.example,!192.0.2.7')).to.equal(false);
    expect(matchHostAndIp('client.example', '192.0.2.7', '!client.example,192.0.2.0/24')).to.equal(false);
    expect(matchHostAndIp('h', '2001:db8::5', '2001:db8::/32')).to.equal(true);
    expect(matchHostAndIp('h', '2001:db9::5', '2001:db8::/32')).to.equal(false);
    expect(matchHostAndIp('h', '192.0.2.7', '192.0.2.0/33')).to.equal(false); // malformed CIDR denies
  });
});
