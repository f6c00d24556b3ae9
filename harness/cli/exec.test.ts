/**
 * `ssh-harness exec` and the library client → a real OpenSSH sshd started on 127.0.0.1 with a temporary config
 * (harness/targets sshd): every kex, host key, cipher and MAC of the first catalogue, strict host key checks with
 * known_hosts written by OpenSSH (plain and hashed), a wrong key refused, password / publickey (also an encrypted
 * key from ssh-keygen) / keyboard-interactive, stdin forwarding and 10 MiB cat, exit status, direct-tcpip.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as net from 'node:net';
import { PassThrough } from 'node:stream';
import { Client } from '../../impl/Client.js';
import { HostKeyMismatch } from '../../impl/errors.js';
import { parsePrivateKey } from '../../impl/keys/index.js';
import { insecureAcceptAnyHostKey, Transport } from '../../impl/Transport.js';
import { sshdTarget } from '../targets/sshd.js';
import type { RunningTarget, StartOptions } from '../targets/types.js';
import { parseSshUrl, printable, runExec, type ExecRun, type HostKeyPolicy } from './exec.js';
import { have, need, run, sshKeygenKeys, type KeyFiles } from './peer-kit.test-util.js';
import { parseAlgorithmsFlag } from './serve.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** The real command line (harness/cli/main.ts) under tsx. */
const MAIN = ['--import', 'tsx', 'harness/cli/main.ts'];

async function sshdAvailable(): Promise<boolean> {
  return (await sshdTarget.availability()).available && process.getuid?.() === 0;
}

/** Runs exec in-process; collects stdout/stderr. */
async function execIn(r: Partial<ExecRun> & Pick<ExecRun, 'url' | 'command' | 'hostKeys'>, input: Uint8Array | string = ''): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  let err = '';
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => { err += d; });
  stdin.end(input);
  const code = await runExec({ stdin, stdout, stderr, ...r });
  return { code, stdout: Buffer.concat(out), stderr: err };
}

describe('harness/cli exec → OpenSSH sshd (temporary config on 127.0.0.1)', function () {
  this.timeout(120_000);
  let sshd: RunningTarget;
  let keys: KeyFiles;
  let encrypted: KeyFiles;
  let knownHosts: string;

  before(async function () {
    need(this, await sshdAvailable() && have('ssh-keygen') && have('ssh-keyscan'), '/usr/sbin/sshd (as root), ssh-keygen and ssh-keyscan');
    keys = sshKeygenKeys();
    encrypted = sshKeygenKeys('correct horse');
    // our keys next to the test account's own, in a file sshd reads as that user
    const ak = join(keys.dir, 'authorized_keys');
    chmodSync(keys.dir, 0o755);
    // (keyboard-interactive needs PAM, whose debug lines reach the session's stderr under -e: its own sshd below)
    const opts: StartOptions = { extraConfig: [`AuthorizedKeysFile ${ak}`, 'StrictModes no'], authMethods: ['password', 'publickey'] };
    writeFileSync(ak, '');
    sshd = await sshdTarget.start(opts);
    writeFileSync(ak, [sshd.credentials.publicKeyLine ?? '', ...Object.values(keys.publicLines), encrypted.publicLines.ed25519].join('\n') + '\n', { mode: 0o644 });
    // known_hosts as OpenSSH writes it
    knownHosts = join(keys.dir, 'known_hosts');
    const scan = await run('ssh-keyscan', ['-p', String(sshd.port), '127.0.0.1']);
    writeFileSync(knownHosts, scan.stdout);
  });
  after(async () => { await sshd?.stop(); keys?.cleanup(); encrypted?.cleanup(); });

  const url = () => parseSshUrl(`ssh://${sshd.credentials.user}@127.0.0.1:${sshd.port}`, 'nobody');
  const strict = (): HostKeyPolicy => ({ mode: 'known-hosts', file: knownHosts, acceptNew: false });
  const pw = () => sshd.credentials.password!;

  it('password: a real command, its output and exit status', async () => {
    const r = await execIn({ url: url(), hostKeys: strict(), password: pw(), command: 'echo "$USER" && exit 3' });
    expect(r.stderr).to.equal('');
    expect(r.stdout.toString()).to.equal(`${sshd.credentials.user}\n`);
    expect(r.code).to.equal(3);
  });

  const matrix: string[] = [
    ...['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256'].map((k) => `kex=${k}`),
    ...['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-256', 'rsa-sha2-512'].map((h) => `hostkey=${h}`),
    ...['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes256-ctr'].map((c) => `cipher=${c}`),
    ...['hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com'].map((m) => `cipher=aes128-ctr,mac=${m}`),
  ];
  for (const spec of matrix) {
    it(`--algorithms ${spec}`, async () => {
      const r = await execIn({ url: url(), hostKeys: strict(), password: pw(), command: 'echo ok', algorithms: parseAlgorithmsFlag(spec) });
      expect(r.stderr).to.equal('');
      expect([r.code, r.stdout.toString()]).to.deep.equal([0, 'ok\n']);
    });
  }

  it('stdin is forwarded: 10 MiB through cat with the same SHA-256', async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const r = await execIn({ url: url(), hostKeys: strict(), password: pw(), command: 'cat' }, data);
    expect(r.code).to.equal(0);
    expect(sha(r.stdout)).to.equal(sha(data));
  });

  it('rekey mid-transfer forced by a small byte limit on our side: 10 MiB through cat intact', async () => {
    const data = randomBytes(10 * 1024 * 1024);
    let kex = 0;
    const c = await Client.connect(['127.0.0.1', sshd.port], { username: sshd.credentials.user, password: pw(), verifyHostKey: insecureAcceptAnyHostKey, transport: { rekey: { bytes: 512 * 1024 } } });
    c.transport.on('kex', () => kex++);
    const r = await c.exec('cat', { stdin: data });
    await c.close();
    expect(r.code).to.equal(0);
    expect(sha(r.stdout)).to.equal(sha(data));
    expect(kex).to.be.greaterThan(10);
  });

  for (const k of ['ed25519', 'ecdsa', 'rsa'] as const) {
    it(`publickey with an ssh-keygen ${k} key`, async () => {
      const privateKey = parsePrivateKey(readFileSync(keys.files[k])).toPrivateKey();
      const r = await execIn({ url: url(), hostKeys: strict(), privateKey, command: 'echo key' });
      expect([r.code, r.stdout.toString(), r.stderr]).to.deep.equal([0, 'key\n', '']);
    });
  }

  it('publickey with an encrypted ssh-keygen key (bcrypt-pbkdf), through the command line', async () => {
    const args = [...MAIN, 'exec', `ssh://${sshd.credentials.user}@127.0.0.1:${sshd.port}`,
      '--identity', encrypted.files.ed25519, '--known-hosts', knownHosts, '--', 'read x; echo "got $x"; exit 7'];
    const r = await run(process.execPath, args, { input: 'hello\n', env: { ...process.env, SSH_HARNESS_PASSPHRASE: 'correct horse' } });
    expect(r.stderr).to.equal('');
    expect(r.stdout.toString()).to.equal('got hello\n');
    expect(r.code).to.equal(7);
    const wrong = await run(process.execPath, args, { env: { ...process.env, SSH_HARNESS_PASSPHRASE: 'wrong' } });
    expect(wrong.code).to.equal(2);
  });

  it('keyboard-interactive (PAM password prompt) through the library', async () => {
    const kbd = await sshdTarget.start({ authMethods: ['keyboard-interactive'] });
    try {
      const t = new Transport(['127.0.0.1', kbd.port], { verifyHostKey: insecureAcceptAnyHostKey });
      await t.startClient();
      const prompts: string[] = [];
      expect(await t.authKeyboardInteractive(kbd.credentials.user, (_n, _i, ps) => { prompts.push(...ps.map((p) => p.prompt)); return ps.map(() => pw()); })).to.deep.equal([]);
      expect(prompts.join()).to.match(/[Pp]assword/);
      await t.close();
    } finally {
      await kbd.stop();
    }
  });

  it('known_hosts hashed by ssh-keygen -H is accepted', async () => {
    const hashed = join(keys.dir, 'known_hosts_hashed');
    writeFileSync(hashed, readFileSync(knownHosts));
    await run('ssh-keygen', ['-H', '-f', hashed]);
    expect(readFileSync(hashed, 'utf8')).to.match(/^\|1\|/);
    const r = await execIn({ url: url(), hostKeys: { mode: 'known-hosts', file: hashed, acceptNew: false }, password: pw(), command: 'echo hashed' });
    expect([r.code, r.stdout.toString()]).to.deep.equal([0, 'hashed\n']);
  });

  it('a wrong host key is refused (HostKeyMismatch, exit 255, nothing run)', async () => {
    const wrong = join(keys.dir, 'known_hosts_wrong');
    const impostor = readFileSync(`${keys.files.ed25519}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(wrong, `[127.0.0.1]:${sshd.port} ${impostor}\n`);
    const r = await execIn({ url: url(), hostKeys: { mode: 'known-hosts', file: wrong, acceptNew: false }, password: pw(), command: 'touch /tmp/should-not-exist', algorithms: { hostKey: ['ssh-ed25519'] } });
    expect(r.code).to.equal(255);
    expect(r.stderr).to.match(/CHANGED host key/);
    // the library: connect({ hostKey }) with another key
    const t = new Transport(['127.0.0.1', sshd.port]);
    const err = await t.connect({ username: sshd.credentials.user, password: pw(), hostKey: parsePrivateKey(readFileSync(keys.files.ed25519)).toPrivateKey().publicKey }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HostKeyMismatch);
  });

  it('an unknown host fails without --accept-new and is recorded with it (in a directory that does not exist yet, like a fresh ~/.ssh)', async () => {
    const file = join(keys.dir, 'fresh-home', '.ssh', 'known_hosts');
    const refused = await execIn({ url: url(), hostKeys: { mode: 'known-hosts', file, acceptNew: false }, password: pw(), command: 'echo' });
    expect(refused.code).to.equal(255);
    expect(refused.stderr).to.match(/--accept-new/);
    const added = await execIn({ url: url(), hostKeys: { mode: 'known-hosts', file, acceptNew: true }, password: pw(), command: 'echo new' });
    expect([added.code, added.stdout.toString()]).to.deep.equal([0, 'new\n']);
    expect(existsSync(file) && readFileSync(file, 'utf8')).to.match(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} `));
    const again = await execIn({ url: url(), hostKeys: { mode: 'known-hosts', file, acceptNew: false }, password: pw(), command: 'echo again' });
    expect(again.code).to.equal(0);
  });

  it('wrong password: exit 255 with the reason', async () => {
    const r = await execIn({ url: url(), hostKeys: strict(), password: 'nope', command: 'echo' });
    expect(r.code).to.equal(255);
    expect(r.stderr).to.match(/authentication failed/);
  });

  it('library: Client.exec, direct-tcpip to a local echo server', async () => {
    const r = await Client.exec(['127.0.0.1', sshd.port], { username: sshd.credentials.user, password: pw(), verifyHostKey: insecureAcceptAnyHostKey, stdin: 'abc' }, 'tr a-z A-Z; echo err >&2; exit 4');
    expect([r.stdout.toString(), r.stderr.toString(), r.code]).to.deep.equal(['ABC', 'err\n', 4]);
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((res) => echo.listen(0, '127.0.0.1', res));
    try {
      const c = await Client.connect(['127.0.0.1', sshd.port], { username: sshd.credentials.user, password: pw(), verifyHostKey: insecureAcceptAnyHostKey });
      const ch = await c.transport.openChannel('direct-tcpip', ['127.0.0.1', (echo.address() as net.AddressInfo).port], ['127.0.0.1', 40000]);
      const data = randomBytes(2 * 1024 * 1024);
      const got: Buffer[] = [];
      let n = 0;
      const done = new Promise<void>((res) => ch.on('data', (d: Buffer) => { got.push(d); n += d.length; if (n >= data.length) res(); }));
      ch.write(data);
      await done;
      expect(sha(Buffer.concat(got))).to.equal(sha(data));
      await c.close();
    } finally {
      await new Promise((res) => echo.close(res));
    }
  });

  it('the command line: exit status and usage errors (exit 2)', async () => {
    const cli = (args: string[]) => run(process.execPath, [...MAIN, 'exec', ...args]);
    const ok = await cli([`ssh://${sshd.credentials.user}@127.0.0.1:${sshd.port}`, '--password', pw(), '--known-hosts', knownHosts, '--', 'exit', '5']);
    expect(ok.code).to.equal(5);
    expect((await cli(['http://x', '--', 'true'])).code).to.equal(2);
    expect((await cli([`ssh://u@127.0.0.1:${sshd.port}`, '--algorithms', 'cipher=rot13', '--', 'true'])).code).to.equal(2);
  });
});

describe('harness/cli exec helpers', () => {
  it('parses ssh:// URLs', () => {
    expect(parseSshUrl('ssh://bob@example.com:2222', 'x')).to.deep.equal({ user: 'bob', host: 'example.com', port: 2222 });
    expect(parseSshUrl('ssh://[::1]', 'me')).to.deep.equal({ user: 'me', host: '::1', port: 22 });
    expect(() => parseSshUrl('bob@host', 'x')).to.throw(/expected ssh:/);
  });

  it('makes banners safe for a terminal', () => {
    expect(printable('hi\x1b[31m\r\nthere\x07')).to.equal('hi\\x1b[31m\nthere\\x07');
  });
});
