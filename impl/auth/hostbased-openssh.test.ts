// Host-based authentication (RFC 4252 §9) against OpenSSH in the local/openssh:bookworm container (host network):
// - our client authenticates to sshd (HostbasedAuthentication yes, the client host key in ssh_known_hosts, the
//   host/user pair in shosts.equiv);
// - OpenSSH's ssh client, signing through the setuid ssh-keysign with the container's host key
//   (EnableSSHKeysign yes), authenticates to our server, whose checkAuthHostbased sees that host key.
import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuthError, AuthResult, SSHServer, Transport, insecureAcceptAnyHostKey, type PublicKey } from '../index.js';
import { execCollect } from '../client/exec.js';
import { generateKey } from '../keys/generate.js';
import { writeOpenSSHPrivateKey } from '../keys/openssh-private.js';
import { parsePrivateKey } from '../keys/private-key.js';
import { formatPublicKeyLine, parsePublicKeyLine } from '../keys/public-line.js';
import type { HostbasedContext } from './types.js';

const run = promisify(execFile);
const IMAGE = 'local/openssh:bookworm';
const USER = 'sshharness'; // baked into the image by peers setup

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

function imageReady(): boolean {
  const r = spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore', timeout: 20000 });
  return r.status === 0;
}

async function waitForBanner(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('SSH-')); });
      s.once('error', () => resolve(false));
      setTimeout(() => { s.destroy(); resolve(false); }, 1000);
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`sshd in the container did not answer on ${port}`);
}

describe('hostbased authentication ↔ OpenSSH sshd and ssh-keysign (RFC 4252 §9)', function () {
  this.timeout(90000);
  let dir = '';
  let port = 0;
  let container = '';
  const clientHostKey = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey));
  const rsaHostKey = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('rsa', 2048).privateKey));

  before(async function () {
    if (!imageReady()) {
      if (process.env.CI === 'true') throw new Error(`docker and the ${IMAGE} image are required under CI (npm run setup builds it)`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'ssh-harness-hostbased-'));
    chmodSync(dir, 0o755);
    port = await freePort();
    writeFileSync(join(dir, 'sshd_config'), [
      `Port ${port}`, 'ListenAddress 127.0.0.1', 'HostKey /etc/ssh/ssh_host_ed25519_key',
      'HostbasedAuthentication yes', 'HostbasedUsesNameFromPacketOnly yes', 'IgnoreRhosts yes',
      'HostbasedAcceptedAlgorithms ssh-ed25519,rsa-sha2-512',
      'PubkeyAuthentication no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'UseDNS no', 'LogLevel VERBOSE', '',
    ].join('\n'));
    // sshd strips the trailing dot of the client host name before looking it up
    writeFileSync(join(dir, 'start.sh'), [
      'set -e',
      `echo 'ours.example ${formatPublicKeyLine(clientHostKey.publicBlob)}' > /etc/ssh/ssh_known_hosts`,
      `echo 'ours.example ${formatPublicKeyLine(rsaHostKey.publicBlob)}' >> /etc/ssh/ssh_known_hosts`,
      `echo 'ours.example ${USER}' > /etc/ssh/shosts.equiv`,
      // the container's ssh client may sign with its host key through ssh-keysign
      "printf 'Host *\\n  HostbasedAuthentication yes\\n  EnableSSHKeysign yes\\n' > /etc/ssh/ssh_config",
      'mkdir -p /run/sshd',
      'exec /usr/sbin/sshd -D -e -f /h/sshd_config',
      '',
    ].join('\n'));
    const { stdout } = await run('docker', ['run', '-d', '--rm', '--network', 'host', '-v', `${dir}:/h:ro`, IMAGE, 'sh', '/h/start.sh'], { timeout: 60000 });
    container = stdout.trim();
    await waitForBanner(port, Date.now() + 30000);
  });

  after(async () => {
    if (container) await run('docker', ['rm', '-f', container], { timeout: 30000 }).catch(() => undefined); // only the container this test started
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function ourClient(clientHost: string, clientUser: string, key = clientHostKey, algorithm?: string): Promise<{ t: Transport; error?: unknown }> {
    const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey });
    await t.startClient();
    try {
      await t.authHostbased(USER, key, clientHost, clientUser, algorithm === undefined ? {} : { algorithm });
      return { t };
    } catch (error) {
      return { t, error };
    }
  }

  it('our client logs into sshd with hostbased (ed25519 client host key, shosts.equiv)', async () => {
    const { t, error } = await ourClient('ours.example.', USER);
    try {
      expect(error).to.equal(undefined);
      const r = await execCollect(t, 'id -un');
      expect(r.stdout.toString()).to.equal(`${USER}\n`);
    } finally {
      await t.close();
    }
  });

  it('an RSA client host key signs with rsa-sha2-512 (server-sig-algs); sshd refuses rsa-sha2-256, which HostbasedAcceptedAlgorithms leaves out', async () => {
    const good = await ourClient('ours.example.', USER, rsaHostKey);
    await good.t.close();
    expect(good.error).to.equal(undefined);
    const bad = await ourClient('ours.example.', USER, rsaHostKey, 'rsa-sha2-256');
    await bad.t.close();
    expect(bad.error).to.be.instanceOf(AuthError);
  });

  it('sshd refuses a host name or client user that shosts.equiv does not list', async () => {
    for (const [host, user] of [['other.example.', USER], ['ours.example.', 'root']] as const) {
      const { t, error } = await ourClient(host, user);
      await t.close();
      expect(error, `${host} ${user}`).to.be.instanceOf(AuthError);
    }
  });

  it("OpenSSH's ssh with ssh-keysign logs into our server; checkAuthHostbased sees the container's host key", async () => {
    const { stdout: hostPub } = await run('docker', ['exec', container, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub'], { timeout: 20000 });
    const containerHostKey = parsePublicKeyLine(hostPub.trim()).blob;
    const seen: { user: string; key: PublicKey; ctx: HostbasedContext }[] = [];
    const server = new SSHServer({
      hostKeys: [generateKey('ed25519').privateKey],
      policy: {
        allowedAuths: () => ['hostbased'],
        checkAuthHostbased(user, key, ctx) {
          seen.push({ user, key, ctx });
          return Buffer.compare(Buffer.from(key.blob), Buffer.from(containerHostKey)) === 0 && ctx.clientUser === USER ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
        },
        checkChannelExecRequest: () => true,
      },
    }, (t) => {
      t.on('channel', (ch) => ch.once('exec', (command) => { ch.end(`hostbased ok: ${command}\n`); void ch.exit(0); }));
    });
    const { port: ourPort } = await server.listen(0, '127.0.0.1');
    try {
      const r = await run('docker', ['exec', '-u', USER, container, 'ssh', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
        '-o', 'PreferredAuthentications=hostbased', '-o', 'LogLevel=ERROR', '-p', String(ourPort), `${USER}@127.0.0.1`, 'x'], { timeout: 30000 });
      expect(r.stdout).to.equal('hostbased ok: x\n');
      const last = seen[seen.length - 1]!;
      expect(last.user).to.equal(USER);
      expect(last.ctx.clientUser).to.equal(USER);
      expect(last.ctx.clientHost).to.match(/\.$/); // ssh(1) sends the canonical name with a trailing dot
      expect(last.key.type).to.equal('ssh-ed25519');
    } finally {
      await server.close();
    }
  });
});
