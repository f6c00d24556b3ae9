/**
 * `ssh-harness interop` through its register(program): usage errors exit 2 before anything starts, and a small
 * real run (two fast fixed-algorithm peers, compression rows only) writes the three reports and exits 0.
 */
import { expect } from 'chai';
import { Command } from 'commander';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from '../../cli/interop.js';
import { getTarget } from '../../targets/registry.js';
import { isRoot } from '../../targets/state.js';
import { needPeer } from '../../targets/peer-test-kit.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const program = new Command('ssh-harness').exitOverride();
  register(program);
  let out = '';
  let err = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => { out += String(s); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => { err += String(s); return true; }) as typeof process.stderr.write;
  const before = process.exitCode;
  try {
    process.exitCode = undefined;
    await program.parseAsync(['node', 'ssh-harness', 'interop', ...args]);
    return { code: Number(process.exitCode ?? 0), out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    process.exitCode = before;
  }
}

describe('ssh-harness interop (CLI)', function () {
  this.timeout(120_000);

  it('exits 2 with a clear message on usage errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--target', 'nosuch'], /--target: unknown peer "nosuch"/],
      [['--client-target', 'nosuch'], /--client-target: unknown peer "nosuch"/],
      [['--kind', 'kex,bogus'], /--kind: unknown kind "bogus"/],
      [['--grep', '('], /--grep:/],
      [['--grep', '^no-such-algorithm$'], /no algorithm selected/],
      [['--target', 'none', '--client-target', 'none'], /nothing to run/],
      [['--concurrency', '0'], /--concurrency: expected an integer/],
    ];
    for (const [args, msg] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.err, args.join(' ')).to.match(msg);
    }
  });

  it('runs a small matrix, prints the summary and writes reports/<run-id>/interop/', async function () {
    for (const name of ['dropbear', 'tinyssh']) {
      await needPeer(this, name, async () => {
        const a = await (await getTarget(name)).availability();
        return a.available && !isRoot() ? { available: false, reason: 'needs root' } : a;
      });
    }
    const base = mkdtempSync(join(tmpdir(), 'interop-cli-'));
    try {
      const r = await cli(['--target', 'dropbear', 'tinyssh', '--client-target', 'none', '--kind', 'compression', '--report', base, '--quiet']);
      expect(r.code, r.out + r.err).to.equal(0);
      expect(r.out).to.match(/dropbear\s+our client → peer/).and.match(/tinyssh\s+our client → peer/).and.match(/cells: \d+ pass, 0 fail/);
      const [runDir] = readdirSync(base);
      for (const f of ['matrix.json', 'matrix.md', 'matrix.html']) expect(existsSync(join(base, runDir!, 'interop', f)), f).to.equal(true);
      const j = await cli(['--target', 'tinyssh', '--client-target', 'none', '--kind', 'kex', '--grep', 'curve25519', '--report', base, '--quiet', '--json']);
      expect(j.code).to.equal(0);
      const parsed = JSON.parse(j.out) as { summary: { pass: number; fail: number }; exitCode: number };
      expect(parsed.summary.pass).to.equal(2);
      expect(parsed.exitCode).to.equal(0);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
