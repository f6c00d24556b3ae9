import { expect } from 'chai';
import { Writer } from '../wire/index.js';
import {
  addKnownHost, checkKnownHost, encodePublicBlob, findKnownHostEntries, formatPublicKeyLine, generateKey, hashHostName,
  knownHostKeyTypes, knownHostName, parseKnownHostLine, parseKnownHosts,
} from './index.js';

const blob = (kind: Parameters<typeof generateKey>[0]): Uint8Array => encodePublicBlob(generateKey(kind).publicKey);

describe('impl/keys known_hosts (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT)', () => {
  const edA = blob('ed25519');
  const edB = blob('ed25519');
  const ecA = blob('ecdsa-p256');
  const ca = blob('ed25519');
  const line = (hosts: string, b: Uint8Array, rest = ''): string => `${hosts} ${formatPublicKeyLine(b)}${rest}`;

  it('parses the sshd(8) example shapes: lists, comments, blank lines, markers', () => {
    const db = parseKnownHosts([
      '# Comments allowed at start of line',
      line('cvs.example.net,192.0.2.10', edA, '  my  comment '),
      '',
      `@revoked * ${formatPublicKeyLine(edB)}`,
      `@cert-authority *.mydomain.org,*.mydomain.com ${formatPublicKeyLine(ca)}`,
      '   ',
    ].join('\r\n'));
    expect(db.problems).to.deep.equal([]);
    expect(db.entries.map((e) => [e.line, e.marker, e.type])).to.deep.equal([[2, null, 'ssh-ed25519'], [4, 'revoked', 'ssh-ed25519'], [5, 'cert-authority', 'ssh-ed25519']]);
    expect(db.entries[0]!.comment).to.equal('my  comment');
    expect(db.entries[0]!.hosts).to.deep.equal({ kind: 'patterns', patterns: 'cvs.example.net,192.0.2.10' });
  });

  it('matches names, wildcards and negation (a negated match rejects the line)', () => {
    const db = parseKnownHosts([line('*.example.com,!bad.example.com,host?.lan', edA)].join('\n'));
    expect(checkKnownHost(db, 'www.example.com', 22, edA)).to.equal('match');
    expect(checkKnownHost(db, 'WWW.Example.COM', 22, edA)).to.equal('match');
    expect(checkKnownHost(db, 'bad.example.com', 22, edA)).to.equal('unknown');
    expect(checkKnownHost(db, 'host1.lan', 22, edA)).to.equal('match');
    expect(checkKnownHost(db, 'host12.lan', 22, edA)).to.equal('unknown');
    expect(checkKnownHost(db, 'example.com', 22, edA)).to.equal('unknown');
  });

  it('keys non-22 ports as [host]:port, and port 22 as the bare name', () => {
    expect(knownHostName('Host', 22)).to.equal('host');
    expect(knownHostName('::1', 2222)).to.equal('[::1]:2222');
    const db = parseKnownHosts([line('[a.example]:2222,[::1]:2200', edA), line('a.example', edB)].join('\n'));
    expect(checkKnownHost(db, 'a.example', 2222, edA)).to.equal('match');
    expect(checkKnownHost(db, 'a.example', 22, edA)).to.equal('mismatch');
    expect(checkKnownHost(db, 'a.example', 22, edB)).to.equal('match');
    expect(checkKnownHost(db, '::1', 2200, edA)).to.equal('match');
    expect(checkKnownHost(db, '::1', 22, edA)).to.equal('unknown');
    expect(checkKnownHost(db, 'a.example', 2223, edA)).to.equal('unknown');
    // ssh(1): an unknown [host]:port falls back to the bare name, for an identical key only
    expect(checkKnownHost(db, 'a.example', 2223, edB)).to.equal('match');
    expect(checkKnownHost(db, 'a.example', 2223, edB, { portFallback: false })).to.equal('unknown');
    expect(checkKnownHost(db, 'a.example', 2222, edB)).to.equal('mismatch');
  });

  it('mismatch only for the same key type; other types are unknown (ssh(1) HOST_NEW)', () => {
    const db = parseKnownHosts(line('h', edA));
    expect(checkKnownHost(db, 'h', 22, edB)).to.equal('mismatch');
    expect(checkKnownHost(db, 'h', 22, ecA)).to.equal('unknown');
    expect(knownHostKeyTypes(parseKnownHosts([line('h', edA), line('h', ecA), line('h', edB)].join('\n')), 'h')).to.deep.equal(['ssh-ed25519', 'ecdsa-sha2-nistp256']);
  });

  it('@revoked wins over a matching plain line; @cert-authority lines are not host keys', () => {
    const db = parseKnownHosts([line('h,g', edA), `@revoked * ${formatPublicKeyLine(edA)}`, `@cert-authority * ${formatPublicKeyLine(ca)}`].join('\n'));
    expect(checkKnownHost(db, 'h', 22, edA)).to.equal('revoked');
    expect(checkKnownHost(db, 'other', 22, edA)).to.equal('revoked');
    expect(checkKnownHost(db, 'h', 22, ca)).to.equal('mismatch'); // a CA key presented as a host key is just another ed25519 key
    expect(checkKnownHost(db, 'nohost', 22, ca)).to.equal('unknown');
    expect(findKnownHostEntries(db, 'h').map((e) => e.marker)).to.deep.equal([null, 'revoked', 'cert-authority']);
  });

  it('hashes names as HMAC-SHA1(salt, name) and matches hashed lines', () => {
    const salt = new Uint8Array(20).fill(7);
    const hashed = addKnownHost('Box.Example', 2222, edA, { hash: true, salt });
    expect(hashed.startsWith(`|1|${Buffer.from(salt).toString('base64')}|${Buffer.from(hashHostName('[box.example]:2222', salt)).toString('base64')} ssh-ed25519 `)).to.equal(true);
    const db = parseKnownHosts(`${hashed}\n${addKnownHost('plain.example', 22, ecA, { comment: 'c' })}\n`);
    expect(checkKnownHost(db, 'box.example', 2222, edA)).to.equal('match');
    expect(checkKnownHost(db, 'box.example', 22, edA)).to.equal('unknown');
    expect(checkKnownHost(db, 'box.example', 2222, edB)).to.equal('mismatch');
    expect(checkKnownHost(db, 'plain.example', 22, ecA)).to.equal('match');
    expect(addKnownHost('h', 22, edA, { marker: 'revoked' }).startsWith('@revoked h ssh-ed25519 ')).to.equal(true);
  });

  it('collects malformed lines as problems and keeps the rest', () => {
    const fakeSk = new Writer().string('sk-ssh-ed25519@openssh.com').string(new Uint8Array(32)).string('ssh:').finish();
    const db = parseKnownHosts([
      'onlyhost',
      'h ssh-ed25519 !!!notbase64',
      `h ssh-rsa ${formatPublicKeyLine(edA).split(' ')[1]}`,
      `@bogus h ${formatPublicKeyLine(edA)}`,
      `|2|abc|def ${formatPublicKeyLine(edA)}`,
      `|1|AAAA|BBBB ${formatPublicKeyLine(edA)}`,
      `h sk-ssh-ed25519@openssh.com ${Buffer.from(fakeSk).toString('base64')}`,
      `h ssh-ed25519 ${Buffer.from(new Writer().string('ssh-ed25519').string(new Uint8Array(31)).finish()).toString('base64')}`,
      'x'.repeat(70000),
      line('ok', edA),
    ].join('\n'));
    expect(db.problems.map((p) => p.line)).to.deep.equal([1, 2, 3, 4, 5, 6, 8, 9]);
    expect(db.problems[2]!.message).to.match(/blob says "ssh-ed25519"/);
    expect(db.entries.map((e) => [e.line, e.type, e.supported])).to.deep.equal([[7, 'sk-ssh-ed25519@openssh.com', false], [10, 'ssh-ed25519', true]]);
  });

  it('refuses to write host names that would change the line', () => {
    for (const bad of ['', 'a b', 'a,b', '*.x', '!x', 'a#b', '[x]:2']) expect(() => addKnownHost(bad, 22, edA), bad).to.throw(TypeError);
    expect(() => addKnownHost('h', 70000, edA)).to.throw(RangeError);
    expect(() => addKnownHost('h', 22, edA, { comment: 'a\nb' })).to.throw(/line break/);
    expect(parseKnownHostLine(addKnownHost('10.0.0.1', 22, edA)).hosts).to.deep.equal({ kind: 'patterns', patterns: '10.0.0.1' });
  });
});
