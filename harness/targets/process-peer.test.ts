import { expect } from 'chai';
import { join } from 'node:path';
import { spawnPeer, type SpawnPeerOptions } from './process-peer.js';
import { isPeerError } from './errors.js';
import { pidAlive, runningCount } from './cleanup.js';
import { tempDir, type TempDir } from './local-tools.js';

describe('process peers: bad setup fails clearly, never hangs, leaves nothing', () => {
  let dir: TempDir;
  beforeEach(() => { dir = tempDir('process-peer-test'); });
  afterEach(() => { dir.remove(); expect(runningCount()).to.equal(0); });
  const opts = (o: Partial<SpawnPeerOptions>): SpawnPeerOptions => ({
    label: 'fixture', command: process.execPath, args: [], logPath: join(dir.path, 'log'), timeoutMs: 5000, readyPattern: /^ready$/m, fix: 'install fixture-pkg (run `ssh-harness peers setup`)', ...o,
  });

  it('a missing binary names the package that provides it', async () => {
    const err = await spawnPeer(opts({ command: '/nonexistent/dropbear' })).then(() => undefined, (e: unknown) => e);
    expect(isPeerError(err, 'missing-binary'), String(err)).to.equal(true);
    expect((err as Error).message).to.equal('fixture: /nonexistent/dropbear not found; install fixture-pkg (run `ssh-harness peers setup`)');
  });

  it('a peer that exits during startup is reported with its own log', async () => {
    const err = await spawnPeer(opts({ args: ['-e', 'console.error("bad config line 3"); process.exit(3)'] })).then(() => undefined, (e: unknown) => e);
    expect(isPeerError(err, 'startup-failed'), String(err)).to.equal(true);
    expect((err as Error).message).to.match(/exited during startup \(exit 3\)[\s\S]*peer log[\s\S]*bad config line 3/);
  });

  it('a peer that never gets ready times out with its log, and is killed', async () => {
    // sh, not node: the fixture must have printed before the deadline even on a loaded machine
    const err = await spawnPeer(opts({ command: '/bin/sh', args: ['-c', 'echo starting...; exec sleep 60'], timeoutMs: 1500 })).then(() => undefined, (e: unknown) => e);
    expect(isPeerError(err, 'startup-timeout'), String(err)).to.equal(true);
    expect((err as Error).message).to.match(/not ready within 1500 ms[\s\S]*starting\.\.\./);
  });

  it('"address already in use" in the log is a port-in-use error', async () => {
    const err = await spawnPeer(opts({ args: ['-e', 'console.error("Bind to port 22 failed: Address already in use."); process.exit(255)'] })).then(() => undefined, (e: unknown) => e);
    expect(isPeerError(err, 'port-in-use'), String(err)).to.equal(true);
  });

  it('a ready peer stops idempotently and its log survives the stop', async () => {
    const p = await spawnPeer(opts({ args: ['-e', 'console.log("ready"); setInterval(() => {}, 1000)'] }));
    expect(pidAlive(p.pid)).to.equal(true);
    await Promise.all([p.stop(), p.stop()]);
    expect(pidAlive(p.pid)).to.equal(false);
    expect(p.log.toString()).to.equal('ready\n');
  });
});
