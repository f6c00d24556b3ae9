/**
 * The survey: rows from conformance runs (pure), rendering and snapshots, usage errors, a small real survey (our
 * server, the Go server and client, smoke suite) end to end, and the scenario reproducers in corpora/.
 */
import { expect } from 'chai';
import { Command } from 'commander';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from '../cli/survey.js';
import { runReplay } from '../cli/replay.js';
import { setTimeScale } from '../scenario/expect.js';
import { selectChecks } from '../scenario/suite.js';
import type { CheckResult, RunSummary } from '../scenario/types.js';
import { runningCount } from '../targets/cleanup.js';
import { getClientPeer, getTarget } from '../targets/registry.js';
import { needPeer } from '../targets/peer-test-kit.js';
import { packageRoot } from '../targets/state.js';
import { cellText, fullRunLinks, snapshotLinks, surveyMarkdown, tableMarkdown } from './render.js';
import { rowOf } from './table.js';
import type { SurveyReport } from './types.js';
import { README_BEGIN, README_END, writeSnapshot } from './write.js';
import { retriage } from './retriage.js';

function result(id: string, area: CheckResult['area'], level: CheckResult['level'], verdict: CheckResult['verdict'], known?: string): CheckResult {
  return {
    id, title: `title of ${id}`, level, role: 'server', area, suites: [], spec: [{ rfc: 'RFC 4253', section: '11.4' }], source: { file: 'x.yaml', line: 1 },
    verdict, reason: `reason | of ${id}`, evidence: [{ t: 1, conn: 1, dir: 'c2s', text: 'SSH_MSG_KEXINIT' }], durationMs: 5, attempts: 1, seed: 's',
    ...(known ? { known } : {}),
  };
}

function summary(results: CheckResult[]): RunSummary {
  const count = (v: CheckResult['verdict']) => results.filter((r) => r.verdict === v).length;
  const counts = { pass: count('pass'), fail: count('fail'), inconclusive: count('inconclusive'), 'not-applicable': count('not-applicable'), total: results.length };
  return {
    runId: 'r', target: 'go', targetVersion: 'Go', clientTargets: [], suites: ['all'], seed: 's', startedAt: new Date(0).toISOString(), durationMs: 10,
    results, counts, byLevel: { MUST: counts, SHOULD: counts, MAY: counts }, exitCode: 1,
  };
}

const sample = rowOf({
  peer: 'go', role: 'server', reportLink: 'peers/go/report.html', durationMs: 1234,
  summary: summary([
    result('kex.a', 'kex', 'MUST', 'fail', 'explained'), result('kex.b', 'kex', 'SHOULD', 'fail'), result('kex.c', 'kex', 'MUST', 'pass'),
    result('auth.a', 'auth', 'MUST', 'pass'), result('conn.a', 'connection', 'MUST', 'inconclusive'),
  ]),
});

function report(rows = [sample]): SurveyReport {
  return {
    runId: '20261207T000000Z-survey', startedAt: new Date(0).toISOString(), durationMs: 60_000, machine: { cpus: 2, node: 'v20', loadAverage: 1.5 },
    jobs: 4, timeScale: 1, areas: ['auth', 'kex', 'connection'], rows,
    totals: { implementations: 1, servers: 1, clients: 0, checks: 5, must: 1, should: 1, untriaged: 2, setupErrors: 0 },
  };
}

describe('survey --from: triage from today\'s KNOWN.md', () => {
  it('explains what KNOWN.md now explains and drops what it no longer does; verdicts and failure counts stay as measured', () => {
    const md = '## go, Go\n\n### kex.b, conn.*\nnow explained.\n';
    const r = retriage(report(), md);
    const row = r.rows[0]!;
    expect(row.failures.map((f) => [f.id, f.known])).to.deep.equal([['kex.a', undefined], ['kex.b', 'now explained.'], ['conn.a', 'now explained.']]);
    expect(row.cells.kex).to.deep.include({ must: 1, should: 1, untriaged: 1 });
    expect(row.cells.connection).to.deep.include({ untriaged: 0 });
    expect(r.totals).to.deep.include({ must: 1, should: 1, untriaged: 1 });
    expect(retriage(report(), '').totals.untriaged).to.equal(3);
  });
});

describe('survey table', () => {
  it('counts failed MUST and SHOULD checks per area, and what KNOWN.md does not explain', () => {
    expect(sample.implementation).to.equal('Go x/crypto/ssh');
    expect(sample.cells.kex).to.deep.include({ checks: 3, must: 1, should: 1, untriaged: 1 });
    expect(sample.cells.auth).to.deep.include({ checks: 1, must: 0, should: 0, untriaged: 0 });
    expect(sample.cells.connection).to.deep.include({ must: 0, should: 0, untriaged: 1 });
    expect(sample.failures.map((f) => f.link)).to.include('peers/go/report.html#check-kex.a');
    expect(cellText(sample.cells.kex)).to.equal('1M 1S!');
    expect(cellText(sample.cells.auth)).to.equal('✓');
    expect(cellText(sample.cells.connection)).to.equal('1?!');
    expect(cellText(undefined)).to.equal('·');
  });

  it('renders one Markdown row per implementation, linking each failing cell to its evidence, with peer text escaped', () => {
    const md = tableMarkdown(report(), fullRunLinks);
    const row = md.split('\n').find((l) => l.includes('Go x/crypto/ssh'))!;
    expect(row).to.contain('[1M 1S!](peers/go/report.html#check-kex.a)');
    expect(row).to.contain('| ✓ |');
    expect(tableMarkdown(report(), snapshotLinks)).to.contain('(evidence/go-server.md#kex)');
    const whole = surveyMarkdown(report(), fullRunLinks);
    expect(whole).to.contain('## Untriaged failures');
    expect(whole).to.contain('reason \\| of kex.b'); // a | from a peer cannot break the table
  });

  it('writes a self-contained snapshot and replaces the README block between its markers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssh-harness-survey-test-'));
    try {
      const readme = join(dir, 'README.md');
      writeFileSync(readme, `intro\n${README_BEGIN}\nold table\n${README_END}\nrest\n`);
      const snap = join(dir, 'docs', 'survey');
      const files = writeSnapshot(report(), undefined, snap, readme);
      expect(files).to.include(join(snap, 'evidence', 'go-server.md'));
      expect(readFileSync(join(snap, 'evidence', 'go-server.md'), 'utf8')).to.match(/### kex\.b[\s\S]*\*\*Untriaged\*\*/);
      const text = readFileSync(readme, 'utf8');
      expect(text).to.match(/^intro\n<!-- survey:begin -->\n/);
      expect(text).to.contain('(docs/survey/evidence/go-server.md#kex)');
      expect(text).not.to.contain('old table');
      expect(text).to.match(/<!-- survey:end -->\nrest\n$/);
      writeFileSync(readme, 'no markers\n');
      expect(() => writeSnapshot(report(), undefined, snap, readme)).to.throw(/no <!-- survey:begin -->/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

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
    await program.parseAsync(['node', 'ssh-harness', 'survey', ...args]);
    return { code: Number(process.exitCode ?? 0), out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    process.exitCode = before;
    setTimeScale(1);
  }
}

describe('ssh-harness survey (CLI)', function () {
  this.timeout(180_000);

  it('exits 2 with a clear message on usage errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--jobs', '0'], /--jobs: expected an integer in \[1, 16\]/],
      [['--target', 'nosuch'], /--target: unknown peer "nosuch"/],
      [['--client-target', 'nosuch-client'], /--client-target: unknown peer "nosuch-client"/],
      [['--target', 'none', '--client-target', 'none'], /nothing to survey/],
      [['--readme', 'README.md'], /--readme needs --snapshot/],
      [['--time-scale', '50'], /--time-scale: expected auto or a number in \[1, 10\]/],
      [['--grep', '('], /--grep: /],
      [['--from', 'survey.json'], /--from needs --snapshot/],
      [['--from', '/nonexistent/survey.json', '--snapshot', '/tmp/x'], /--from \/nonexistent\/survey.json: /],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.err, args.join(' ')).to.match(re);
    }
  });

  it('--from writes the snapshot of an earlier run without running anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssh-harness-survey-from-'));
    try {
      writeFileSync(join(dir, 'survey.json'), JSON.stringify(report()));
      const r = await cli(['--from', join(dir, 'survey.json'), '--snapshot', join(dir, 'snap')]);
      expect(r.code, r.err).to.equal(1); // the sample report has untriaged failures
      expect(readFileSync(join(dir, 'snap', 'README.md'), 'utf8')).to.contain('Go x/crypto/ssh');
      const json = JSON.parse(readFileSync(join(dir, 'snap', 'survey.json'), 'utf8')) as SurveyReport;
      expect(json.rows[0]!.failures.every((f) => f.evidence.length === 0)).to.equal(true); // the evidence is on the pages
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('surveys our server, the Go server and the Go client (smoke suite) into one table with evidence, leaving nothing running', async function () {
    const go = await getTarget('go');
    await needPeer(this, 'go', () => go.availability());
    await needPeer(this, 'go-client', async () => (await getClientPeer('go-client')).availability());
    const base = mkdtempSync(join(tmpdir(), 'ssh-harness-survey-cli-'));
    try {
      const r = await cli(['--target', 'self', 'go', '--client-target', 'go-client', '--suite', 'smoke', 'client', '--no-interop', '--time-scale', '1', '--report', base, '--json', '--quiet']);
      expect(r.code, r.err).to.be.oneOf([0, 1]);
      const summaryLine = JSON.parse(r.out) as { runId: string; totals: SurveyReport['totals'] };
      expect(summaryLine.totals).to.deep.include({ servers: 2, clients: 1, setupErrors: 0 });
      const dir = join(base, summaryLine.runId);
      for (const f of ['survey.json', 'survey.md', 'survey.html', 'peers/self/report.html', 'peers/go/report.html', 'peers/go-client/report.json']) expect(existsSync(join(dir, f)), f).to.equal(true);
      const rep = JSON.parse(readFileSync(join(dir, 'survey.json'), 'utf8')) as SurveyReport;
      expect(rep.rows.map((x) => `${x.peer}/${x.role}`)).to.deep.equal(['self/server', 'go/server', 'go-client/client']);
      expect(rep.rows[0]!.failures.filter((f) => f.verdict === 'fail')).to.deep.equal([]);
      const md = readFileSync(join(dir, 'survey.md'), 'utf8');
      expect(md).to.contain('| [Go x/crypto/ssh](peers/go/report.html) | server (`go`)');
      for (const f of rep.rows.flatMap((x) => x.failures)) expect(readFileSync(join(dir, f.link.split('#')[0]!), 'utf8')).to.contain(`id="${f.link.split('#')[1]}"`);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
    expect(runningCount()).to.equal(0);
  });
});

describe('scenario reproducers (corpora/<peer>/*.yaml)', function () {
  this.timeout(120_000);
  const corpora = join(packageRoot(), 'corpora');
  const files = readdirSync(corpora, { withFileTypes: true }).filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(corpora, d.name)).filter((f) => f.endsWith('.yaml')).map((f) => join(corpora, d.name, f)));

  it('load as scenario files whose checks cite their rule and say how to replay them', async () => {
    expect(files.length).to.be.at.least(8);
    for (const f of files) {
      const checks = await selectChecks({ suites: [f] });
      expect(checks.length, f).to.be.at.least(1);
      for (const c of checks) expect(c.id, f).to.match(/^repro\./) && expect(c.spec.length, f).to.be.at.least(1);
      expect(readFileSync(f, 'utf8'), f).to.match(/npx ssh-harness replay corpora\/\S+\.yaml --target \S+/);
    }
  });

  it('reproduce against the peer and pass against our own server (Go, CBC with an EtM MAC)', async function () {
    const go = await getTarget('go:cbc');
    await needPeer(this, 'go', () => go.availability());
    const file = join(corpora, 'go', 'cbc-etm-mac.yaml');
    const quiet = (): void => undefined;
    expect(await runReplay(file, { target: 'go:cbc' }, quiet, quiet)).to.equal(1);
    expect(await runReplay(file, { target: 'self' }, quiet, quiet)).to.equal(0);
    expect(runningCount()).to.equal(0);
  });
});
