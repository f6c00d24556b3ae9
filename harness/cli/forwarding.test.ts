/**
 * Port forwarding loses no byte, in either direction, whoever half-closes first (RFC 4254 §7, §5.3): OpenSSH's
 * `ssh -L` and `ssh -R` through `ssh-harness serve --allow-forwarding` (the real command line, in its own process),
 * and our library's client doing the same through that server: direct-tcpip from a local listener, and
 * forwarded-tcpip from requestPortForward + accept(), both joined with bridgeChannelSocket.
 *
 * Each path runs 200 seeded connections (impl/connection/testing/tcp-traffic.ts), 8 at a time: client-first,
 * server-first, both-at-once, echo and silent, with sizes from 0 B to 8 MiB in each direction. Sizes are weighted
 * (6 % 0 B, 6 % exactly 8 MiB, the rest log-uniform) so a path moves ~350 MB rather than 1.6 GB; every byte is
 * compared by SHA-256 and length against what the far end recorded. Then resets and early closes on either side:
 * both ends see the connection end, the server keeps running and the tunnels keep working.
 * SSH_HARNESS_FORWARD_SEED / SSH_HARNESS_FORWARD_CONNECTIONS change the seed and the count.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { bridgeChannelSocket } from '../../impl/connection/socket-bridge.js';
import { ABORT_MODES, planConnections, runTraffic, TrafficServer, type PlannedConnection } from '../../impl/connection/testing/tcp-traffic.js';
import { Transport } from '../../impl/Transport.js';
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
    const t = new Transport(['127.0.0.1', servePort]);
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
    serve.kill('SIGTERM');
    const code = await new Promise((r) => serve.once('close', r));
    expect(code, serveStderr).to.equal(0);
    expect(serveStderr).to.not.match(/Error|Unhandled|at .*\.ts:\d+/);
  });
});
