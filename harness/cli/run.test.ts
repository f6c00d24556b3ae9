/**
 * `ssh-harness run` (the command-line contract in README.md): exit 0 with reports written for a passing run, 2 with file:line for a
 * malformed scenario, 2 with the reason for an unreachable target, 2 for usage errors; --list and --json.
 */
import { expect } from 'chai';
import { Command } from 'commander';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from './run.js';

interface Outcome { code: number; stdout: string; stderr: string }

/** Runs `ssh-harness run ...` in-process, capturing output and the exit code. */
async function cli(args: string[]): Promise<Outcome> {
  const program = new Command('ssh-harness').exitOverride();
  register(program);
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => { stdout += c.toString(); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => { stderr += c.toString(); return true; }) as typeof process.stderr.write;
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'ssh-harness', 'run', ...args]);
  } catch (e) {
    process.exitCode = (e as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { code, stdout, stderr };
}

describe('harness/cli: ssh-harness run', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'run-cli-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the smoke suite against self: exit 0, JUnit/JSON/Markdown/HTML written', async () => {
    const report = join(dir, 'smoke');
    const r = await cli(['--target', 'self', '--suite', 'smoke', '--report', report, '--quiet']);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    for (const f of ['junit.xml', 'report.json', 'summary.md', 'report.html']) expect(existsSync(join(report, f)), f).to.equal(true);
    const json = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8')) as { counts: { total: number; fail: number }; exitCode: number };
    expect(json.counts.fail).to.equal(0);
    expect(json.exitCode).to.equal(0);
    expect(r.stdout).to.match(/\d+ checks: \d+ passed, 0 failed/);
  });

  it('a malformed scenario file: exit 2 with file:line and what is wrong', async () => {
    const f = join(dir, 'broken.yaml');
    writeFileSync(f, 'defaults: { area: kex, level: MUST }\nchecks:\n  - id: x.broken\n    title: broken\n    spec: "RFC 4253 §7"\n    steps:\n      - connect: {}\n      - expect: { message: SSH_MSG_KEXINIT, whithin: 10 }\n');
    const r = await cli(['--target', 'self', '--suite', f, '--quiet']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/broken\.yaml:8:\d+: .*unknown key "whithin" \(did you mean "within"\?\)/);
  });

  it('an unreachable target: exit 2 with the reason', async () => {
    const r = await cli(['--target', 'tcp://127.0.0.1:1', '--user', 'u', '--password', 'p', '--suite', 'smoke', '--quiet']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/tcp:\/\/127\.0\.0\.1:1.*(ECONNREFUSED|no SSH banner|not reachable)/);
  });

  it('an unknown target or suite: exit 2', async () => {
    expect((await cli(['--target', 'nosuch-target', '--quiet'])).code).to.equal(2);
    const r = await cli(['--target', 'self', '--suite', 'nosuch-suite', '--quiet']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/not a suite name/);
  });

  it('--list prints the selected checks with their citations', async () => {
    const r = await cli(['--target', 'self', '--suite', 'auth', '--list']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^auth\.none-rejected\tMUST\tserver\tauth\tRFC 4252 §5\.2\t/m);
  });

  it('--json prints the summary with the report paths; a failing target exits 1', async () => {
    const r = await cli(['--target', 'self:none-auth-succeeds', '--suite', 'auth', '--grep', '^auth\\.none', '--json', '--report', join(dir, 'fail'), '--quiet']);
    expect(r.code).to.equal(1);
    const s = JSON.parse(r.stdout) as { exitCode: number; counts: { fail: number }; reports: { html: string } };
    expect(s.exitCode).to.equal(1);
    expect(s.counts.fail).to.be.greaterThan(0);
    expect(existsSync(s.reports.html)).to.equal(true);
  });
});
