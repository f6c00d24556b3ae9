// A real sshd and ssh client judge our authorized_keys reading and our known_hosts / private key writing:
// sshd runs the forced command it parsed (we compare with the one we parsed), refuses the lines we refuse,
// and ssh(1) trusts host keys only through the known_hosts lines addKnownHost wrote.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addKnownHost, checkKnownHost, entryAllows, findAuthorizedKey, formatPublicKeyLine, generateKey, parseAuthorizedKeys, parsePrivateKey,
  parseKnownHosts, parsePublicKeyLine, writeOpenSSHPrivateKey,
} from './index.js';

function have(cmd: string): boolean {
  return spawnSync(cmd, ['-V'], { stdio: 'ignore' }).error === undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('impl/keys ↔ OpenSSH sshd and ssh', function () {
  let dir = '';
  let port = 0;
  let sshd: ChildProcess | undefined;
  let hostBlob: Uint8Array = new Uint8Array(0);
  const keys: Record<string, { file: string; blob: Uint8Array }> = {};

  before(async function () {
    if (!have('/usr/sbin/sshd') || !have('ssh') || !have('ssh-keygen')) {
      if (process.env.CI === 'true') throw new Error('sshd, ssh and ssh-keygen (openssh-server, openssh-client) are required under CI');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'ssh-harness-sshd-'));
    mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation directory
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')]);
    hostBlob = parsePrivateKey(readFileSync(join(dir, 'host_ed25519'))).publicBlob;
    // client keys written by us: the ssh client must load them
    for (const kind of ['ed25519', 'ecdsa-p384', 'rsa'] as const) {
      const { privateKey } = generateKey(kind, 2048);
      const file = join(dir, `id_${kind}`);
      writeFileSync(file, writeOpenSSHPrivateKey(privateKey, { comment: kind }), { mode: 0o600 });
      keys[kind] = { file, blob: parsePrivateKey(readFileSync(file, 'utf8')).publicBlob };
    }
    port = await freePort();
    writeFileSync(join(dir, 'sshd_config'), [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_ed25519')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no', 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'UsePAM no', `PidFile ${join(dir, 'sshd.pid')}`, 'LogLevel ERROR', 'UseDNS no', '',
    ].join('\n'));
    writeFileSync(join(dir, 'authorized_keys'), '');
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config'), '-o', 'LogLevel=INFO'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`sshd did not start: ${log}`)), 15000);
      sshd!.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        if (/Server listening/.test(log)) { clearTimeout(timer); resolve(); }
      });
      sshd!.once('exit', (code) => { clearTimeout(timer); reject(new Error(`sshd exited ${code}: ${log}`)); });
    });
  });

  after(() => {
    if (sshd?.pid !== undefined && sshd.exitCode === null) sshd.kill('SIGTERM'); // only the sshd this test started
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `ssh root@127.0.0.1 -p port` with one identity; a forced command replaces `true`. */
  function ssh(identity: string, knownHosts: string, strict = 'no'): { status: number | null; stdout: string } {
    const r = spawnSync('ssh', [
      '-F', '/dev/null', '-i', identity, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `StrictHostKeyChecking=${strict}`,
      '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', '-p', String(port), 'root@127.0.0.1', 'true',
    ], { encoding: 'utf8', timeout: 30000 });
    return { status: r.status, stdout: r.stdout };
  }
  const scratchKnownHosts = (): string => join(dir, 'kh-scratch');

  it('sshd runs the forced command we parsed, quotes and escapes included', () => {
    const commands = [
      'printf "%s|" "a b" c',
      'printf "%s|" "x,y" \\"q\\"',
      "printf '%s' 'single, quoted'",
      'echo back\\\\slash',
    ];
    for (const cmd of commands) {
      // write the option exactly as a person would: quotes inside escaped with a backslash
      const line = `command="${cmd.replace(/"/g, '\\"')}",no-pty ${formatPublicKeyLine(keys.ed25519!.blob, 'c')}`;
      writeFileSync(join(dir, 'authorized_keys'), `# test\n\n${line}\n`);
      const list = parseAuthorizedKeys(readFileSync(join(dir, 'authorized_keys'), 'utf8'));
      expect(list.problems).to.deep.equal([]);
      const ours = findAuthorizedKey(list, keys.ed25519!.blob)!.restrictions.command!;
      expect(ours).to.equal(cmd);
      const local = spawnSync('sh', ['-c', ours], { encoding: 'utf8' }).stdout;
      const remote = ssh(keys.ed25519!.file, scratchKnownHosts());
      expect(remote.status, cmd).to.equal(0);
      expect(remote.stdout, cmd).to.equal(local);
    }
  });

  it('sshd refuses the lines we refuse and picks the entry we pick', () => {
    const ed = formatPublicKeyLine(keys.ed25519!.blob);
    const ec = formatPublicKeyLine(keys['ecdsa-p384']!.blob);
    const rsa = formatPublicKeyLine(keys.rsa!.blob);
    writeFileSync(join(dir, 'authorized_keys'), [
      `no-such-option ${ed}`,
      `command="echo a",command="echo b" ${ec}`,
      `command="echo rsa-line" ${rsa}`,
      `command="echo ed-line" ${ed}`,
      '',
    ].join('\n'));
    const list = parseAuthorizedKeys(readFileSync(join(dir, 'authorized_keys'), 'utf8'));
    expect(list.problems.map((p) => p.line)).to.deep.equal([1, 2]);
    expect(findAuthorizedKey(list, keys['ecdsa-p384']!.blob)).to.equal(undefined);
    expect(ssh(keys['ecdsa-p384']!.file, scratchKnownHosts()).status).to.equal(255);
    expect(ssh(keys.rsa!.file, scratchKnownHosts()).stdout).to.equal('rsa-line\n');
    // sshd skips the bad first line and uses line 4, as findAuthorizedKey does
    expect(findAuthorizedKey(list, keys.ed25519!.blob)!.line).to.equal(4);
    expect(ssh(keys.ed25519!.file, scratchKnownHosts()).stdout).to.equal('ed-line\n');
  });

  it('from= decides like entryAllows', () => {
    const origin = { host: '127.0.0.1', ip: '127.0.0.1' }; // UseDNS no: sshd matches the address
    for (const from of ['127.0.0.1', '127.0.0.0/8', '127.0.0.*', '!127.0.0.1,*', '10.0.0.0/8', '*.example,127.0.0.1']) {
      writeFileSync(join(dir, 'authorized_keys'), `from="${from}",command="echo ok" ${formatPublicKeyLine(keys.ed25519!.blob)}\n`);
      const entry = parseAuthorizedKeys(readFileSync(join(dir, 'authorized_keys'), 'utf8')).entries[0]!;
      const allowed = entryAllows(entry, origin);
      expect(ssh(keys.ed25519!.file, scratchKnownHosts()).status === 0, from).to.equal(allowed);
    }
  });

  it('ssh(1) with StrictHostKeyChecking=yes trusts the host key through addKnownHost lines (plain and hashed)', () => {
    writeFileSync(join(dir, 'authorized_keys'), `command="echo in" ${formatPublicKeyLine(keys.ed25519!.blob)}\n`);
    const kh = join(dir, 'known_hosts');
    const other = parsePublicKeyLine(formatPublicKeyLine(parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey)).publicBlob));
    const cases: [string, number][] = [
      [addKnownHost('127.0.0.1', port, hostBlob), 0],
      [addKnownHost('127.0.0.1', port, hostBlob, { hash: true }), 0],
      [addKnownHost('127.0.0.1', port, other.blob), 255], // a different key of the same type: changed host key
      // [host]:port unknown: ssh(1) falls back to the bare name, but only an identical key counts there
      [addKnownHost('127.0.0.1', 22, hostBlob), 0],
      [addKnownHost('127.0.0.1', 22, other.blob), 255],
      [`${addKnownHost('127.0.0.1', port, hostBlob)}\n${addKnownHost('127.0.0.1', port, hostBlob, { marker: 'revoked' })}`, 255],
    ];
    for (const [text, status] of cases) {
      writeFileSync(kh, `${text}\n`);
      expect(ssh(keys.ed25519!.file, kh, 'yes').status, text.slice(0, 60)).to.equal(status);
      const ours = checkKnownHost(parseKnownHosts(text), '127.0.0.1', port, hostBlob);
      expect(ours === 'match' ? 0 : 255, `${ours}: ${text.slice(0, 60)}`).to.equal(status);
    }
  });
});
