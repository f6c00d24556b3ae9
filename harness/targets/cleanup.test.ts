import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pidAlive, stopRecorded } from './cleanup.js';
import { containerExists } from './docker-api.js';
import { opensshContainerTarget } from './openssh-container.js';
import { needPeer } from './peer-test-kit.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * A child harness process that starts a peer process (a tiny Node listener) through spawnPeer, prints the
 * peer's PID, then ends the way `how` says. We check the peer is gone afterwards.
 */
function childScript(how: 'wait' | 'exit' | 'container'): string {
  if (how === 'container') {
    return `
      import { opensshContainerTarget } from ${JSON.stringify(join(here, 'openssh-container.ts'))};
      const t = await opensshContainerTarget('openssh:trixie', 'trixie').start();
      console.log('CONTAINER ' + t.containerId);
      setInterval(() => {}, 1000);
    `;
  }
  return `
    import { spawnPeer } from ${JSON.stringify(join(here, 'process-peer.ts'))};
    import { join } from 'node:path';
    import { mkdtempSync } from 'node:fs';
    import { tmpdir } from 'node:os';
    const dir = mkdtempSync(join(tmpdir(), 'cleanup-test-'));
    const p = await spawnPeer({ label: 'fixture', command: process.execPath,
      args: ['-e', "require('net').createServer().listen(0,'127.0.0.1',function(){console.log('listening on 127.0.0.1:'+this.address().port)});setInterval(()=>{},1000)"],
      logPath: join(dir, 'log'), timeoutMs: 10000, readyPattern: /listening on/, fix: 'n/a' });
    console.log('PEER ' + p.pid);
    ${how === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}
  `;
}

function startChild(how: 'wait' | 'exit' | 'container', state: string): Promise<{ peerPid: number; containerId?: string; child: ReturnType<typeof spawn>; exited: Promise<number | string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childScript(how)], {
    env: { ...process.env, SSH_HARNESS_STATE: state }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | string>((r) => child.on('exit', (code, sig) => r(sig ?? code ?? -1)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PEER (\d+)/.exec(out);
      if (m) resolve({ peerPid: Number(m[1]), child, exited });
      const c = /CONTAINER ([0-9a-f]{64})/.exec(out);
      if (c) resolve({ peerPid: -1, containerId: c[1]!, child, exited });
    });
    void exited.then((c) => reject(new Error(`fixture exited (${c}) before starting its peer: ${out}`)));
  });
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 50)); // bounded: 5 s
  return !pidAlive(pid);
}

describe('guaranteed cleanup of started peers', function () {
  let state: string;
  let saved: string | undefined;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'ssh-harness-state-'));
    saved = process.env['SSH_HARNESS_STATE'];
    process.env['SSH_HARNESS_STATE'] = state;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['SSH_HARNESS_STATE'];
    else process.env['SSH_HARNESS_STATE'] = saved;
    rmSync(state, { recursive: true, force: true });
  });

  it('Ctrl-C (SIGINT) of the harness stops its peers and exits 130', async () => {
    const { peerPid, child, exited } = await startChild('wait', state);
    expect(pidAlive(peerPid)).to.equal(true);
    child.kill('SIGINT');
    expect(await exited).to.equal(130);
    expect(await gone(peerPid)).to.equal(true);
  });

  it('Ctrl-C (SIGINT) of the harness removes its containers', async function () {
    await needPeer(this, 'openssh:trixie', () => opensshContainerTarget('openssh:trixie', 'trixie').availability());
    const { containerId, child, exited } = await startChild('container', state);
    expect(await containerExists(containerId!)).to.equal(true);
    child.kill('SIGINT');
    expect(await exited).to.equal(130);
    expect(await containerExists(containerId!)).to.equal(false);
  });

  it('process.exit() of the harness kills its peers synchronously', async () => {
    const { peerPid, exited } = await startChild('exit', state);
    expect(await exited).to.equal(0);
    expect(await gone(peerPid)).to.equal(true);
    expect(readdirSync(join(state, 'running'))).to.deep.equal([]);
  });

  it('after SIGKILL of the harness, `peers stop` ends the leftovers by recorded PID', async () => {
    const { peerPid, child, exited } = await startChild('wait', state);
    child.kill('SIGKILL');
    await exited;
    expect(pidAlive(peerPid)).to.equal(true);
    const report = stopRecorded();
    expect(report.map((r) => r.result)).to.deep.equal(['stopped']);
    expect(await gone(peerPid)).to.equal(true);
    expect(stopRecorded()).to.deep.equal([]);
  });
});
