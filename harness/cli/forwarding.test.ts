/**
 * Port forwarding loses no byte, in either direction, whoever half-closes first (RFC 4254 §7, §5.3): OpenSSH's
 * `ssh -L` and `ssh -R` through `ssh-harness serve --allow-forwarding` (the real command line, in its own process),
 * and our library's client doing the same through that server: direct-tcpip from a local listener, and
 * forwarded-tcpip from requestPortForward + accept(), both joined with bridgeChannelSocket.
 *
 * Each path runs 200 seeded connections (impl/connection/testing/tcp-traffic.ts), 8 at a time: client-first,
 * server-first, both-at-once, echo and silent, with sizes from 0 B to 8 MiB in each direction. Sizes are weighted
 * so the suite stays fast: the edges (0 B one way and 8 MiB the other, 8 MiB both ways) once per mode, the rest 5 %
 * 0 B and log-uniform up to 8 MiB, so a path moves ~200-270 MB instead of the ~1.7 GB of uniform sizes; every byte
 * is compared by SHA-256 and length against what the far end recorded. Then resets and early closes on either
 * side, and an ssh client killed mid-transfer: both ends see every connection end, the server keeps running, the
 * other tunnels keep working, and serve exits 0 on SIGTERM.
 * SSH_HARNESS_FORWARD_SEED / SSH_HARNESS_FORWARD_CONNECTIONS change the seed and the count.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { bridgeChannelSocket } from '../../impl/connection/socket-bridge.js';
import { ABORT_MODES, planConnections, runTraffic, TrafficServer, type PlannedConnection } from '../../impl/connection/testing/tcp-traffic.js';
import { insecureAcceptAnyHostKey, Transport } from '../../impl/Transport.js';
import { have, need } from './peer-kit.test-util.js';

const SEED = Number(process.env.SSH_HARNESS_FORWARD_SEED ?? 22);
const COUNT = Number(process.env.SSH_HARNESS_FORWARD_CONNECTIONS ?? 200);
const MAX_BYTES = 8 * 1024 * 1024;
const MAIN = ['--import', 'tsx', 'harness/cli/main.ts'];
const ignore = (): void => {};

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** Retries a connection to `port` until something accepts it (a tunnel that is still starting refuses). */
async function waitForListener(port: number, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dialer = (port: number) => (): net.Socket => net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });

describe('forwarding: every byte, half-close either side (ssh -L/-R through serve, and the library)', function () {
  this.timeout(240_000);
  let far: TrafficServer;
  let serve: ChildProcess;
  let servePort = 0;
  let serveStderr = '';
  const procs: ChildProcess[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  /** The entry port of each path once it is up, for the abort test. */
  const entries = new Map<string, number>();

  before(async function () {
    need(this, have('ssh') && have('sshpass'), 'OpenSSH client (ssh) and sshpass');
    far = await TrafficServer.start();
    serve = spawn(process.execPath, [...MAIN, 'serve', '--port', '0', '--allow-forwarding', '--user', 'alice', '--password', 'pw'], { stdio: ['ignore', 'pipe', 'pipe'] });
    serve.stderr!.on('data', (d: Buffer) => { serveStderr += d.toString(); });
    servePort = await new Promise<number>((resolve, reject) => {
      let out = '';
      serve.stdout!.on('data', (d: Buffer) => { out += d; const m = /listening on \S+:(\d+)\n/.exec(out); if (m) resolve(Number(m[1])); });
      serve.once('close', (code) => reject(new Error(`serve exited (${code}) before listening: ${serveStderr}`)));
    });
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    for (const p of procs) p.kill();
    if (serve && serve.exitCode === null) {
      serve.kill('SIGTERM');
      await new Promise((r) => serve.once('close', r));
    }
    await far?.close();
  });

  const tunnel = async (flag: '-L' | '-R'): Promise<number> => {
    const port = await freePort();
    const p = spawn('sshpass', ['-p', 'pw', 'ssh', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
      '-p', String(servePort), '-N', '-o', 'ExitOnForwardFailure=yes', flag, `${port}:127.0.0.1:${far.port}`, 'alice@127.0.0.1'], { stdio: 'ignore' });
    procs.push(p);
    await waitForListener(port);
    return port;
  };

  const client = async (): Promise<Transport> => {
    const t = new Transport(['127.0.0.1', servePort], { verifyHostKey: insecureAcceptAnyHostKey }); // a server of the test's own
    await t.connect({ username: 'alice', password: 'pw' });
    cleanups.push(() => t.close());
    return t;
  };

  const check = async (name: string, port: number, seed: number): Promise<void> => {
    entries.set(name, port);
    const plans = planConnections(seed, COUNT, MAX_BYTES);
    const r = await runTraffic(dialer(port), plans, far, { concurrency: 8 });
    console.log(`      ${name}: ${r.connections} connections, ${(r.bytes / 1e6).toFixed(0)} MB both ways in ${(r.ms / 1000).toFixed(1)} s (seed ${seed})`);
    expect(r.failures, `${r.failures.length} of ${r.connections} connections lost or changed bytes`).to.deep.equal([]);
    expect(serve.exitCode, `serve died: ${serveStderr}`).to.equal(null);
  };

  it(`ssh -L through serve: ${COUNT} connections of 0 B–8 MiB each way`, async () => {
    await check('ssh -L', await tunnel('-L'), SEED);
  });

  it(`ssh -R through serve: ${COUNT} connections of 0 B–8 MiB each way`, async () => {
    await check('ssh -R', await tunnel('-R'), SEED + 1);
  });

  it(`library direct-tcpip (a local listener, openChannel + bridgeChannelSocket): ${COUNT} connections`, async () => {
    const t = await client();
    const local = net.createServer({ allowHalfOpen: true }, (sock) => {
      sock.on('error', ignore);
      t.openChannel('direct-tcpip', ['127.0.0.1', far.port], [sock.remoteAddress ?? '127.0.0.1', sock.remotePort ?? 0])
        .then((ch) => bridgeChannelSocket(ch, sock), () => sock.destroy());
    });
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => local.close(() => r())));
    await check('library direct-tcpip', (local.address() as net.AddressInfo).port, SEED + 2);
  });

  it(`library forwarded-tcpip (requestPortForward, accept + bridgeChannelSocket): ${COUNT} connections`, async () => {
    const t = await client();
    const bound = await t.requestPortForward('127.0.0.1', 0);
    void (async () => {
      for (let ch = await t.accept(); ch; ch = await t.accept()) {
        const sock = net.connect({ host: '127.0.0.1', port: far.port, allowHalfOpen: true });
        sock.on('error', ignore);
        void bridgeChannelSocket(ch, sock);
      }
    })();
    await check('library forwarded-tcpip', bound, SEED + 3);
  });

  it('resets and early closes on either side end cleanly on every path; serve and the tunnels keep working', async () => {
    expect(entries.size, 'the four paths above ran first').to.equal(4);
    for (const [name, port] of entries) {
      // 5 of each abort mode, up to 1 MiB, then normal traffic again through the same tunnel
      const aborts = planConnections(SEED + 10, 20, 1024 * 1024, ABORT_MODES);
      const r = await runTraffic(dialer(port), aborts, far, { concurrency: 4, deadlineMs: 20_000 });
      expect(r.failures, `${name}: aborted connections did not end cleanly`).to.deep.equal([]);
      const after: PlannedConnection[] = planConnections(SEED + 11, 10, 256 * 1024);
      const again = await runTraffic(dialer(port), after, far, { concurrency: 4 });
      expect(again.failures, `${name}: traffic after the aborts`).to.deep.equal([]);
    }
    expect(serve.exitCode, `serve died: ${serveStderr}`).to.equal(null);
  });

  it('the ssh client is killed mid-transfer (-L and -R): every forwarded connection ends, serve keeps serving', async () => {
    for (const flag of ['-L', '-R'] as const) {
      const before = procs.length;
      const port = await tunnel(flag);
      const ssh = procs[before]!;
      const busy = planConnections(SEED + 20, 8, MAX_BYTES, ['both']).map((p) => ({ ...p, up: MAX_BYTES, down: MAX_BYTES }));
      const running = runTraffic(dialer(port), busy, far, { concurrency: 8, deadlineMs: 20_000, cut: true });
      await new Promise((r) => setTimeout(r, 300));
      ssh.kill('SIGKILL');
      const r = await running;
      // cut short, but every one of them ended at the client (none hung until the deadline) ...
      expect(r.failures, `${flag}: connections left hanging`).to.deep.equal([]);
      // ... and at the far end
      for (let i = 0; far.open > 0 && i < 200; i++) await new Promise((res) => setTimeout(res, 50));
      expect(far.open, `${flag}: far-end connections still open 10 s after the kill`).to.equal(0);
      if (flag === '-R') {
        // the listener went with the connection that asked for it
        const refused = await new Promise<boolean>((res) => { const c = net.connect(port, '127.0.0.1'); c.once('connect', () => { c.destroy(); res(false); }); c.once('error', () => res(true)); });
        expect(refused, 'the -R listener outlived its SSH connection').to.equal(true);
      }
    }
    const again = await runTraffic(dialer(entries.get('ssh -R')!), planConnections(SEED + 21, 10, 256 * 1024), far, { concurrency: 4 });
    expect(again.failures, 'the other tunnels after the kills').to.deep.equal([]);
    expect(serve.exitCode, `serve died: ${serveStderr}`).to.equal(null);
  });

  it('serve exits 0 on SIGTERM after all of this, with nothing on stderr', async () => {
    expect(serve.exitCode, `serve died: ${serveStderr}`).to.equal(null);
    serve.kill('SIGTERM');
    const code = await new Promise((r) => serve.once('close', r));
    expect(code, serveStderr).to.equal(0);
    expect(serveStderr).to.not.match(/Error|Unhandled|at .*\.ts:\d+/);
  });
});
