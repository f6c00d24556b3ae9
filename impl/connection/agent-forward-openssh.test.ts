// Agent forwarding (OpenSSH PROTOCOL.agent) from our client through OpenSSH's sshd: auth-agent-req@openssh.com on a
// session, then sshd opens auth-agent@openssh.com channels to us, which we join to a real ssh-agent; `ssh-add -l`
// run on the server lists the key the agent holds.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFailure, Transport, bridgeChannelSocket, insecureAcceptAnyHostKey } from '../index.js';
import { execCollect } from '../client/exec.js';
import { fingerprintSHA256, formatPublicKeyLine, generateKey, parsePrivateKey, writeOpenSSHPrivateKey } from '../keys/index.js';

function have(cmd: string, arg = '-V'): boolean {
  return spawnSync(cmd, [arg], { stdio: 'ignore' }).error === undefined;
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

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('agent forwarding ↔ OpenSSH sshd and ssh-agent (PROTOCOL.agent)', function () {
  this.timeout(60000);
  let dir = '';
  let port = 0;
  let sshd: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  const login = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey));
  const held = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ecdsa-p256').privateKey, { comment: 'held-by-agent' }));

  before(async function () {
    if (!have('/usr/sbin/sshd') || !have('ssh-agent', '-h') || !have('ssh-add', '-h')) {
      if (process.env.CI === 'true') throw new Error('sshd, ssh-agent and ssh-add (openssh-server, openssh-client) are required under CI');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'ssh-harness-agent-'));
    mkdirSync('/run/sshd', { recursive: true });
    const sock = join(dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    await until(() => existsSync(sock), 10000, 'ssh-agent listening');
    writeFileSync(join(dir, 'held'), writeOpenSSHPrivateKey(held.keyObject, { comment: 'held-by-agent' }), { mode: 0o600 });
    const add = spawnSync('ssh-add', [join(dir, 'held')], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`ssh-add: ${add.stderr}`);
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
    writeFileSync(join(dir, 'authorized_keys'), `${formatPublicKeyLine(login.publicBlob)}\n`);
    port = await freePort();
    writeFileSync(join(dir, 'sshd_config'), [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'AllowAgentForwarding yes', 'StrictModes no', 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
      'KbdInteractiveAuthentication no', 'UsePAM no', `PidFile ${join(dir, 'sshd.pid')}`, 'UseDNS no', '',
    ].join('\n'));
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
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
    // only the processes this test started
    if (sshd?.pid !== undefined && sshd.exitCode === null) sshd.kill('SIGTERM');
    if (agent?.pid !== undefined && agent.exitCode === null) agent.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('without auth-agent-req@openssh.com the server has no agent to offer', async () => {
    const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey });
    try {
      await t.startClient();
      await t.authPublicKey('root', login);
      const r = await execCollect(t, 'ssh-add -l');
      expect(r.code, r.stdout.toString()).to.equal(2); // ssh-add: "Could not open a connection to your authentication agent"
    } finally {
      await t.close();
    }
  });

  it("sshd reaches our local ssh-agent through auth-agent@openssh.com channels: `ssh-add -l` there lists the agent's key", async () => {
    const sock = join(dir, 'agent.sock');
    let agentChannels = 0;
    const t = new Transport(['127.0.0.1', port], {
      verifyHostKey: insecureAcceptAnyHostKey,
      checkChannelRequest: (kind) => (kind === 'auth-agent@openssh.com' ? true : OpenFailure.ADMINISTRATIVELY_PROHIBITED),
    });
    t.on('channel', (ch) => {
      if (ch.kind !== 'auth-agent@openssh.com') { void ch.close(); return; }
      agentChannels++;
      void bridgeChannelSocket(ch, connect(sock));
    });
    try {
      await t.startClient();
      await t.authPublicKey('root', login);
      const ch = await t.openSession();
      expect(await ch.requestAgentForwarding()).to.equal(true);
      await ch.exec('ssh-add -l');
      const out: Buffer[] = [];
      ch.on('data', (d: Buffer) => out.push(d));
      const status = await ch.exitStatus();
      const text = Buffer.concat(out).toString();
      expect(status, text).to.equal(0);
      expect(text).to.include(fingerprintSHA256(held.publicBlob));
      expect(agentChannels).to.be.greaterThan(0);
    } finally {
      await t.close();
    }
  });
});
