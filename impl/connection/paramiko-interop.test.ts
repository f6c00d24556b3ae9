/**
 * Our client → a paramiko server (Debian's python3-paramiko via /usr/bin/python3): password and publickey
 * (ed25519, rsa), exec with output and exit status, and accept() of a forwarded-tcpip channel the server opens
 * after our tcpip-forward request. The server is a small script written for this test.
 */
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePrivateKey } from '../keys/index.js';
import { insecureAcceptAnyHostKey, Transport } from '../Transport.js';

const SERVER = `
import socket, sys, threading, paramiko
host_key = paramiko.Ed25519Key.from_private_key_file(sys.argv[1])
authorized = set(sys.argv[2].split(','))
class S(paramiko.ServerInterface):
    def __init__(self):
        self.ev = threading.Event(); self.fwd_ev = threading.Event(); self.cmd = b''; self.fwd = None
    def get_allowed_auths(self, u): return 'password,publickey'
    def check_auth_password(self, u, p): return paramiko.AUTH_SUCCESSFUL if (u, p) == ('alice', 'pw') else paramiko.AUTH_FAILED
    def check_auth_publickey(self, u, k): return paramiko.AUTH_SUCCESSFUL if u == 'alice' and k.get_base64() in authorized else paramiko.AUTH_FAILED
    def check_channel_request(self, kind, cid): return paramiko.OPEN_SUCCEEDED if kind == 'session' else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
    def check_channel_exec_request(self, ch, cmd): self.cmd = cmd; self.ev.set(); return True
    def check_port_forward_request(self, addr, port):
        self.fwd = (addr, port or 4242); self.fwd_ev.set(); return port or 4242
def serve(sock):
    t = paramiko.Transport(sock); t.add_server_key(host_key); s = S()
    try:
        t.start_server(server=s)
        chan = t.accept(20)
        if chan is None or not s.ev.wait(20): return
        chan.sendall(b'paramiko ran ' + s.cmd); chan.send_exit_status(3); chan.shutdown_write(); chan.close()
        if s.fwd_ev.wait(5):
            c = t.open_forwarded_tcpip_channel(('10.1.1.1', 5555), s.fwd)
            c.sendall(b'hello from paramiko'); c.shutdown_write()
        while t.is_active(): t.join(0.1)
    except Exception as e:
        print('server error', repr(e), file=sys.stderr, flush=True)
    finally:
        t.close()
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); srv.bind(('127.0.0.1', 0)); srv.listen(8)
print(srv.getsockname()[1], flush=True)
while True:
    sock, _ = srv.accept(); threading.Thread(target=serve, args=(sock,), daemon=True).start()
`;

function havePython(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import paramiko'], { stdio: 'ignore' });
    execFileSync('sh', ['-c', 'command -v ssh-keygen'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('impl/Transport client → paramiko server', function () {
  this.timeout(60_000);
  let dir = '';
  let server: ChildProcess | undefined;
  let port = 0;
  const keyFile = (n: string) => join(dir, n);

  before(async function () {
    if (!havePython()) {
      if (process.env.CI === 'true') throw new Error('python3-paramiko or ssh-keygen missing (run `ssh-harness peers setup`)');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'ssh-harness-paramiko-'));
    for (const [name, type] of [['host', 'ed25519'], ['ed', 'ed25519'], ['rsa', 'rsa']]) execFileSync('ssh-keygen', ['-q', '-t', type!, '-N', '', '-f', keyFile(name!)]);
    const authorized = ['ed', 'rsa'].map((n) => readFileSync(`${keyFile(n)}.pub`, 'utf8').split(' ')[1]).join(',');
    writeFileSync(keyFile('server.py'), SERVER);
    server = spawn('/usr/bin/python3', [keyFile('server.py'), keyFile('host'), authorized], { stdio: ['ignore', 'pipe', 'pipe'] });
    port = await new Promise<number>((resolve, reject) => {
      server!.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      server!.once('exit', () => reject(new Error('paramiko server exited')));
    });
  });
  after(() => {
    server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function execOn(t: Transport, cmd: string): Promise<{ out: string; code: number | null }> {
    const ch = await t.openSession();
    let out = '';
    ch.on('data', (d: Buffer) => (out += d));
    const ended = new Promise<void>((r) => ch.once('end', r));
    await ch.exec(cmd);
    const code = await ch.exitStatus();
    await ended;
    return { out, code };
  }

  it('password auth, exec, then accept() of the forwarded-tcpip channel paramiko opens', async () => {
    const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey });
    await t.connect({ username: 'alice', password: 'pw' });
    expect(t.remoteVersion).to.match(/paramiko/);
    expect(await execOn(t, 'uptime')).to.deep.equal({ out: 'paramiko ran uptime', code: 3 });
    expect(await t.requestPortForward('127.0.0.1', 0)).to.equal(4242);
    const ch = await t.accept(10_000);
    expect(ch?.kind).to.equal('forwarded-tcpip');
    expect(ch?.info.originator).to.deep.equal({ host: '10.1.1.1', port: 5555 });
    let got = '';
    ch!.on('data', (d: Buffer) => (got += d));
    await new Promise<void>((r) => ch!.once('end', r));
    expect(got).to.equal('hello from paramiko');
    await t.close();
  });

  for (const k of ['ed', 'rsa']) {
    it(`publickey auth (${k === 'ed' ? 'ssh-ed25519' : 'rsa-sha2-*'}) and exec`, async () => {
      const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey });
      await t.connect({ username: 'alice', privateKey: parsePrivateKey(readFileSync(keyFile(k))).toPrivateKey() });
      expect(t.isAuthenticated()).to.equal(true);
      expect(await execOn(t, 'id')).to.deep.equal({ out: 'paramiko ran id', code: 3 });
      await t.close();
    });
  }
});
