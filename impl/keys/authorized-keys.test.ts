import { expect } from 'chai';
import { Writer } from '../wire/index.js';
import {
  encodePublicBlob, entryAllows, findAuthorizedKey, formatPublicKeyLine, generateKey, parseAuthorizedKeyLine, parseAuthorizedKeys,
} from './index.js';

describe('impl/keys authorized_keys (sshd(8) AUTHORIZED_KEYS FILE FORMAT)', () => {
  const a = encodePublicBlob(generateKey('ed25519').publicKey);
  const b = encodePublicBlob(generateKey('ecdsa-p384').publicKey);
  const c = encodePublicBlob(generateKey('ed25519').publicKey);
  const key = (blob: Uint8Array, comment = ''): string => formatPublicKeyLine(blob, comment);
  const sk = Buffer.from(new Writer().string('sk-ecdsa-sha2-nistp256@openssh.com').string('nistp256').string(new Uint8Array(65)).string('ssh:').finish()).toString('base64');

  it('reads the sshd(8) EXAMPLES lines', () => {
    const list = parseAuthorizedKeys([
      '# Comments are allowed at start of line. Blank lines are allowed.',
      '# Plain key, no restrictions',
      key(a, 'user@host'),
      '# Forced command, disable PTY and all forwarding',
      `restrict,command="dump /home" ${key(b)}`,
      '# Restriction of ssh -L forwarding destinations',
      `permitopen="192.0.2.1:80",permitopen="192.0.2.2:25" ${key(a)}`,
      '# Restriction of ssh -R forwarding listeners',
      `permitlisten="localhost:8080",permitlisten="[::1]:22000" ${key(a)}`,
      '# Configuration for tunnel forwarding',
      `tunnel="0",command="sh /etc/netstart tun0" ${key(a)}`,
      '# Override of restriction to allow PTY allocation',
      `restrict,pty,command="nethack" ${key(a)}`,
      '# Allow FIDO key without requiring touch',
      `no-touch-required sk-ecdsa-sha2-nistp256@openssh.com ${sk}`,
      '# Require user-verification (e.g. PIN or biometric) for FIDO key',
      `verify-required sk-ecdsa-sha2-nistp256@openssh.com ${sk}`,
      '# Trust CA key, allow touch-less FIDO if requested in certificate',
      `cert-authority,no-touch-required,principals="user_a" ${key(c)}`,
      '',
    ].join('\n'));
    expect(list.problems).to.deep.equal([]);
    const [plain, forced, open, listen, tunnel, pty, noTouch, verify, caLine] = list.entries;
    expect(plain).to.include({ line: 3, comment: 'user@host', supported: true });
    expect(plain!.options).to.deep.equal([]);
    expect(plain!.restrictions).to.include({ pty: true, portForwarding: true, agentForwarding: true, x11Forwarding: true, userRc: true, certAuthority: false });
    expect(forced!.restrictions).to.include({ command: 'dump /home', pty: false, portForwarding: false, agentForwarding: false, x11Forwarding: false, userRc: false });
    expect(open!.restrictions.permitOpen).to.deep.equal(['192.0.2.1:80', '192.0.2.2:25']);
    expect(listen!.restrictions.permitListen).to.deep.equal(['localhost:8080', '[::1]:22000']);
    expect(tunnel!.restrictions).to.include({ tunnel: '0', command: 'sh /etc/netstart tun0' });
    expect(pty!.restrictions).to.include({ pty: true, portForwarding: false, command: 'nethack' });
    expect(noTouch).to.include({ type: 'sk-ecdsa-sha2-nistp256@openssh.com', supported: false });
    expect(noTouch!.restrictions.noTouchRequired).to.equal(true);
    expect(verify!.restrictions.verifyRequired).to.equal(true);
    expect(caLine!.restrictions).to.deep.include({ certAuthority: true, principals: ['user_a'], noTouchRequired: true });
  });

  it('dequotes values: \\" is a quote, spaces and commas stay inside quotes, other backslashes are kept', () => {
    const e = parseAuthorizedKeyLine(`command="echo \\"hi, there\\" \\\\n",environment="A=b c",no-pty ${key(a, 'the comment')}`);
    expect(e.options).to.deep.equal([{ name: 'command', value: 'echo "hi, there" \\\\n' }, { name: 'environment', value: 'A=b c' }, { name: 'no-pty' }]);
    expect(e.restrictions.command).to.equal('echo "hi, there" \\\\n');
    expect(e.restrictions.environment).to.deep.equal([{ name: 'A', value: 'b c' }]);
    expect(e.comment).to.equal('the comment');
  });

  it('option names are case-insensitive; later flags override earlier ones; first environment wins', () => {
    const e = parseAuthorizedKeyLine(`NO-PTY,Pty,no-port-forwarding,environment="X=1",environment="X=2",environment="Y=3" ${key(a)}`);
    expect(e.restrictions).to.include({ pty: true, portForwarding: false });
    expect(e.restrictions.environment).to.deep.equal([{ name: 'X', value: '1' }, { name: 'Y', value: '3' }]);
  });

  it('refuses lines with unknown, malformed or duplicated options (sshd refuses the key)', () => {
    const bad = [
      `no-such-option ${key(a)}`,
      `command=ls ${key(a)}`,
      `command="ls ${key(a)}`,
      `command="a",command="b" ${key(a)}`,
      `from="a",from="b" ${key(a)}`,
      `no-pty=yes ${key(a)}`,
      `command ${key(a)}`,
      `environment="noequals" ${key(a)}`,
      `permitopen="nohost" ${key(a)}`,
      `permitopen="h:99999" ${key(a)}`,
      `expiry-time="2020" ${key(a)}`,
      `no-pty,,restrict ${key(a)}`,
      `no-pty;restrict ${key(a)}`,
      'no-pty',
      `no-pty ssh-ed25519 ${Buffer.from(new Writer().string('ssh-ed25519').string(new Uint8Array(31)).finish()).toString('base64')}`,
    ];
    const list = parseAuthorizedKeys(bad.join('\n'));
    expect(list.entries).to.deep.equal([]);
    expect(list.problems.map((p) => p.line)).to.deep.equal(bad.map((_, i) => i + 1));
    expect(list.problems[3]!.message).to.match(/duplicate command/);
    expect(list.problems[0]!.message).to.match(/unsupported option "no-such-option"/);
  });

  it('findAuthorizedKey matches the blob exactly and skips cert-authority lines', () => {
    const list = parseAuthorizedKeys([`cert-authority ${key(c)}`, `from="10.0.0.0/8" ${key(a)}`, key(b)].join('\n'));
    expect(findAuthorizedKey(list, a)?.line).to.equal(2);
    expect(findAuthorizedKey(list.entries, b)?.line).to.equal(3);
    expect(findAuthorizedKey(list, c)).to.equal(undefined);
  });

  it('entryAllows applies from= and expiry-time=', () => {
    const [from, exp] = parseAuthorizedKeys([`from="*.example,!bad.example,10.0.0.0/8" ${key(a)}`, `expiry-time="20300101Z" ${key(a)}`].join('\n')).entries;
    expect(entryAllows(from!, { host: 'ok.example', ip: '192.0.2.1' })).to.equal(true);
    expect(entryAllows(from!, { host: 'bad.example', ip: '10.1.2.3' })).to.equal(false);
    expect(entryAllows(from!, { host: '10.1.2.3', ip: '10.1.2.3' })).to.equal(true);
    expect(entryAllows(from!, { host: 'x.other', ip: '192.0.2.1' })).to.equal(false);
    expect(exp!.restrictions.expiresAt?.toISOString()).to.equal('2030-01-01T00:00:00.000Z');
    expect(entryAllows(exp!, { host: 'h', ip: '127.0.0.1', now: new Date('2029-12-31T23:59:59Z') })).to.equal(true);
    expect(entryAllows(exp!, { host: 'h', ip: '127.0.0.1', now: new Date('2030-01-01T00:00:01Z') })).to.equal(false);
  });
});
