/**
 * Report writers: JUnit XML is well formed with one testcase per check (failures carry the citation and the
 * evidence), the HTML report is self-contained and escapes what peers sent, Markdown has the counts.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize } from '../scenario/runner.js';
import type { CheckResult, TargetInfo } from '../scenario/types.js';
import { toHtml } from './html.js';
import { toJUnit } from './junit.js';
import { toMarkdown } from './markdown.js';
import { writeReports } from './write.js';

const base = { title: 't', role: 'server', suites: ['transport'], source: { file: 'scenarios/x.yaml', line: 3 }, durationMs: 12, attempts: 1, seed: 'abc' } as const;
const results: CheckResult[] = [
  { ...base, id: 'a.pass', level: 'MUST', area: 'kex', spec: [{ rfc: 'RFC 4253', section: '7.1' }], verdict: 'pass', reason: 'ok', evidence: [] },
  {
    ...base, id: 'b.fail', level: 'MUST', area: 'auth', spec: [{ rfc: 'RFC 4252', section: '5', text: 'MUST NOT be accepted' }], verdict: 'fail',
    reason: 'peer said <script>alert(1)</script> & "quit"\u0001',
    evidence: [{ t: 1, conn: 1, dir: 's2c', seq: 3, text: 'SSH_MSG_DISCONNECT', fields: '{"reason":11,"description":"</pre><img src=x>"}' }, { t: 2, conn: 1, dir: 'note', text: 'a note' }],
  },
  { ...base, id: 'c.na', level: 'SHOULD', area: 'kex', spec: [{ rfc: 'RFC 9142', section: '4' }], verdict: 'not-applicable', reason: 'not offered', evidence: [] },
  { ...base, id: 'd.inco', level: 'SHOULD', area: 'connection', spec: [{ rfc: 'RFC 4254', section: '5.2' }], verdict: 'inconclusive', reason: 'timeout', evidence: [] },
  { ...base, id: 'e.known', level: 'SHOULD', area: 'disconnect', spec: [{ rfc: 'RFC 4253', section: '11.1' }], verdict: 'fail', reason: 'closed', evidence: [], known: 'documented' },
];
const target: TargetInfo = { name: 'self', host: '127.0.0.1', port: 1, hostKeys: [], credentials: { user: 'u' }, version: 'v1' };
const summary = summarize({ runId: 'r1', target, suites: ['all'], seed: 'abc', startedAt: new Date(0), results });

describe('harness/report: JUnit, HTML, Markdown, JSON', () => {
  it('summary counts by verdict and level; exit code 1 for an unexplained failure', () => {
    expect(summary.counts).to.include({ pass: 1, fail: 2, 'not-applicable': 1, inconclusive: 1, total: 5 });
    expect(summary.byLevel.MUST).to.include({ pass: 1, fail: 1, total: 2 });
    expect(summary.exitCode).to.equal(1);
    expect(summarize({ runId: 'r2', target, suites: [], seed: 's', startedAt: new Date(0), results: results.filter((r) => r.id !== 'b.fail') }).exitCode).to.equal(0);
  });

  it('JUnit XML: one testcase per check, failure with citation and evidence, known departures skipped, well formed', () => {
    const xml = toJUnit(summary);
    expect(xml.match(/<testcase /g)).to.have.length(5);
    expect(xml).to.match(/<failure message="RFC 4252 §5: peer said &lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;quit&quot;\\x01" type="MUST">/);
    expect(xml).to.include('SSH_MSG_DISCONNECT');
    expect(xml).to.match(/<skipped message="known departure/);
    expect(xml).to.match(/<error message="inconclusive: timeout"/);
    if (existsSync('/usr/bin/python3')) {
      execFileSync('/usr/bin/python3', ['-c', 'import sys, xml.etree.ElementTree as E; E.fromstring(sys.stdin.read())'], { input: xml });
    }
  });

  it('HTML: self-contained, filterable, escapes peer text', () => {
    const html = toHtml(summary);
    expect(html).to.not.match(/(src|href)="(https?:)?\/\//);
    expect(html).to.not.include('<script>alert(1)');
    expect(html).to.not.include('<img src=x>');
    expect(html).to.include('&lt;img src=x&gt;');
    for (const id of ['f-area', 'f-verdict', 'f-level', 'f-text']) expect(html).to.include(`id="${id}"`);
    for (const r of results) expect(html).to.include(r.id);
    // a ladder diagram for each check that did not pass and has messages to draw (b.fail), escaped like the rest
    expect(html.match(/<svg class="ladder"/g)).to.have.length(1);
    expect(html).to.include('SSH_DISCONNECT_BY_APPLICATION');
  });

  it('Markdown: counts table and the failures with their citation', () => {
    const md = toMarkdown(summary);
    expect(md).to.match(/\| MUST \| 1 \| 1 \| 0 \| 0 \| 2 \|/);
    expect(md).to.include('## Failures (1)');
    expect(md).to.include('## Known departures (scenarios/KNOWN.md) (1)');
    expect(md).to.include('RFC 4252 §5');
  });

  it('writeReports puts all four files in the run directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reports-'));
    try {
      const f = writeReports(summary, dir);
      for (const p of [f.junit, f.json, f.markdown, f.html]) expect(existsSync(p), p).to.equal(true);
      expect((JSON.parse(readFileSync(f.json, 'utf8')) as { runId: string }).runId).to.equal('r1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
