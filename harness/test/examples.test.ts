/** The README's examples (examples/*.ts) run as written: each is executed in its own process and its output checked. */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { addKnownHost, generateHostKey } from '../../impl/index.js';
import { startServe, type RunningServer } from '../cli/serve.js';

const run = promisify(execFile);
const tsx = (file: string, args: string[] = [], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', file, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });

describe('README examples', function () {
  this.timeout(90_000);

  it('examples/server-with-policy.ts: a policy-driven server and Client.exec', async () => {
    const { stdout } = await tsx('examples/server-with-policy.ts');
    expect(stdout.trim()).to.equal('0 you ran: uptime');
  });

  it('examples/port-forward.ts: direct-tcpip to a local echo service', async () => {
    const { stdout } = await tsx('examples/port-forward.ts');
    expect(stdout.trim()).to.equal('hello through the tunnel');
  });

  describe('examples/client-exec.ts against ssh-harness serve', () => {
    let server: RunningServer;
    let dir: string;
    const hostKey = generateHostKey('ssh-ed25519');
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'examples-'));
      server = await startServe({ host: '127.0.0.1', port: 0, user: 'alice', password: 'pw', hostKeys: [hostKey] });
    });
    after(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const env = () => ({ SSH_HOST: '127.0.0.1', SSH_PORT: String(server.port), SSH_USER: 'alice', SSH_PASSWORD: 'pw' });

    it('runs a command with a matching (hashed) known_hosts entry and propagates the exit status', async () => {
      const kh = join(dir, 'known_hosts');
      writeFileSync(kh, addKnownHost('127.0.0.1', server.port, hostKey.publicKey.blob, { hash: true }) + '\n');
      const { stdout } = await tsx('examples/client-exec.ts', ['echo hi there'], { ...env(), SSH_KNOWN_HOSTS: kh });
      expect(stdout).to.equal('hi there\n');
      const err = await tsx('examples/client-exec.ts', ['exit 3'], { ...env(), SSH_KNOWN_HOSTS: kh }).catch((e: { code: number }) => e);
      expect((err as { code: number }).code).to.equal(3);
    });

    it('refuses a server whose key differs from known_hosts', async () => {
      const kh = join(dir, 'known_hosts_wrong');
      writeFileSync(kh, addKnownHost('127.0.0.1', server.port, generateHostKey('ssh-ed25519').publicKey.blob) + '\n');
      const err = await tsx('examples/client-exec.ts', ['echo no'], { ...env(), SSH_KNOWN_HOSTS: kh }).catch((e: { code: number; stderr: string }) => e);
      expect((err as { stderr: string }).stderr).to.match(/HostKeyMismatch|mismatch/);
    });
  });
});
