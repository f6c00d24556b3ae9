/** The README's examples (examples/*.ts) run as written: each is executed in its own process and its output checked. */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { addKnownHost, generateHostKey, writeOpenSSHPrivateKey } from '../../impl/index.js';
import { startServe, type RunningServer } from '../cli/serve.js';

const run = promisify(execFile);
const tsx = (file: string, args: string[] = [], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', file, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });

describe('README examples', function () {
  this.timeout(90_000);

  it('examples/server-with-policy.ts: a policy-driven SSHServer and SSHClient.exec', async () => {
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

    it('refuses a host that is in no known_hosts file (RejectPolicy)', async () => {
      const kh = join(dir, 'known_hosts_empty');
      writeFileSync(kh, '');
      const err = await tsx('examples/client-exec.ts', ['echo no'], { ...env(), SSH_KNOWN_HOSTS: kh }).catch((e: { code: number; stderr: string }) => e);
      expect((err as { code: number }).code).to.equal(255);
      expect((err as { stderr: string }).stderr).to.match(/HostKeyMismatch: unknown host key .*RejectPolicy/);
    });

    it('refuses a server whose key differs from known_hosts', async () => {
      const kh = join(dir, 'known_hosts_wrong');
      writeFileSync(kh, addKnownHost('127.0.0.1', server.port, generateHostKey('ssh-ed25519').publicKey.blob) + '\n');
      const err = await tsx('examples/client-exec.ts', ['echo no'], { ...env(), SSH_KNOWN_HOSTS: kh }).catch((e: { code: number; stderr: string }) => e);
      expect((err as { stderr: string }).stderr).to.match(/HostKeyMismatch: HOST KEY CHANGED/);
    });
  });

  describe('examples/server.ts (the README server) under TCP probes and clients that leave mid-handshake', () => {
    let child: ChildProcess;
    let port = 0;
    let stderr = '';
    let dir: string;
    const hostKey = generateHostKey('ssh-ed25519');
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'examples-server-'));
      writeFileSync(join(dir, 'host_key'), writeOpenSSHPrivateKey(hostKey.keyObject), { mode: 0o600 });
      child = spawn(process.execPath, ['--import', 'tsx', 'examples/server.ts'], { env: { ...process.env, PORT: '0', HOST_KEY_FILE: join(dir, 'host_key') }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => { out += d.toString(); const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out); if (m) resolve(Number(m[1])); });
        child.once('exit', (code) => reject(new Error(`examples/server.ts exited (${code}) before listening: ${stderr}`)));
      });
    });
    after(async () => {
      child?.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    });

    it('300 probes and mid-handshake departures: the process lives, logs one line each, and a client still runs a command', async () => {
      const probe = (send?: string) => new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => { if (send) s.write(send); s.end(); });
        s.resume();
        s.on('error', () => undefined);
        s.on('close', () => resolve());
      });
      for (let i = 0; i < 300; i += 30) {
        await Promise.all(Array.from({ length: 30 }, (_, j) => probe(j % 3 === 0 ? undefined : j % 3 === 1 ? 'SSH-2.0-leaving\r\n' : 'GET / HTTP/1.0\r\n\r\n')));
      }
      for (let i = 0; i < 100 && stderr.split('\n').length <= 300; i++) await new Promise((r) => setTimeout(r, 20));
      const lines = stderr.trim().split('\n');
      expect(lines).to.have.length(300);
      for (const l of lines) expect(l).to.match(/^127\.0\.0\.1:\d+ (peer disconnected|expected the identification string)/);
      expect(child.exitCode).to.equal(null);
      const kh = join(dir, 'known_hosts');
      writeFileSync(kh, addKnownHost('127.0.0.1', port, hostKey.publicKey.blob) + '\n');
      const { stdout } = await tsx('examples/client-exec.ts', ['uptime'], { SSH_HOST: '127.0.0.1', SSH_PORT: String(port), SSH_USER: 'alice', SSH_PASSWORD: 'wonderland', SSH_KNOWN_HOSTS: kh });
      expect(stdout).to.equal('you ran: uptime\n');
      expect(stderr).to.not.match(/Unhandled|at .*\(/);
    });
  });
});
