import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listPeers } from '../targets/peer-list.js';
import { BUILTIN_PEERS } from '../targets/registry.js';
import { needPeer } from '../targets/peer-test-kit.js';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe('ssh-harness peers', function () {
  it('list --json names every peer with availability; exit 0 only when all are available', async () => {
    const r = await cli(['peers', 'list', '--json']);
    const rows = JSON.parse(r.stdout) as Array<{ name: string; kind: string; available: boolean; version?: string; reason?: string }>;
    expect(rows.map((x) => x.name)).to.include.members(BUILTIN_PEERS);
    for (const row of rows.filter((x) => BUILTIN_PEERS.includes(x.name))) expect(row.available ? row.version : row.reason, row.name).to.be.a('string');
    expect(r.code).to.equal(rows.every((x) => x.available) ? 0 : 1);
  });

  it('setup with a bad option is a usage error (exit 2) naming the choices', async () => {
    const r = await cli(['peers', 'setup', '--suite', 'buster']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/unknown suite buster; choose from bookworm, trixie/);
  });

  it('stop with nothing recorded says so and exits 0', async () => {
    const state = mkdtempSync(join(tmpdir(), 'ssh-harness-state-'));
    try {
      const r = await cli(['peers', 'stop', '--json'], { SSH_HARNESS_STATE: state });
      expect(r.code).to.equal(0);
      expect(JSON.parse(r.stdout)).to.deep.equal({ stopped: [] });
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('setup on a machine that is already set up changes nothing', async function () {
    await needPeer(this, 'a set-up machine (run `ssh-harness peers setup`)', async () => {
      const missing = (await listPeers(BUILTIN_PEERS)).filter((p) => !p.available);
      return missing.length ? { available: false, reason: missing.map((p) => `${p.name}: ${p.reason}`).join('; ') } : { available: true };
    });
    const r = await cli(['peers', 'setup', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; steps: Array<{ step: string; status: string }> };
    expect(report.ok).to.equal(true);
    expect(report.steps.filter((s) => s.status !== 'ok'), 'steps that changed something').to.deep.equal([]);
    expect(r.stderr).to.match(/\[\d+\/(\d+)\] verify containers: ok/);
    expect(r.stderr).to.match(/\] compiled peers: ok .*go up to date, libssh up to date, erlang up to date/);
    expect(r.stderr).to.match(/\] verify more servers: ok .*twisted.*lsh.*erlang.*go.*libssh/);
  });
});
