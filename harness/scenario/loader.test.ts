/**
 * Scenario files: schema errors carry file:line:col and say what is wrong; matrices expand with typed
 * substitution; the built-in suite loads, has ≥150 checks, each with an RFC-style citation, unique ids.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadChecks, loadDataFile, matrixRows, parseSpec, substitute } from './loader.js';
import { knownFor, parseKnown } from './known.js';
import { ScenarioFileError } from './schema.js';
import { builtinChecksSync, filterChecks } from './suite.js';

describe('harness/scenario: scenario files', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'scenario-test-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  }

  function errorOf(p: string): ScenarioFileError {
    try {
      loadDataFile(p, dir);
    } catch (e) {
      if (e instanceof ScenarioFileError) return e;
      throw e;
    }
    throw new Error('expected a ScenarioFileError');
  }

  const head = 'defaults: { area: kex, level: MUST }\nchecks:\n  - id: t.one\n    title: one\n    spec: "RFC 4253 §7.1: text"\n';

  it('a valid file compiles to checks with metadata and the source line', () => {
    const checks = loadDataFile(file('ok.yaml', `${head}    steps:\n      - connect: {}\n      - kex: {}\n`), dir);
    expect(checks).to.have.length(1);
    expect(checks[0]).to.include({ id: 't.one', level: 'MUST', area: 'kex', role: 'server' });
    expect(checks[0]!.spec).to.deep.equal([{ rfc: 'RFC 4253', section: '7.1', text: 'text' }]);
    expect(checks[0]!.source).to.deep.equal({ file: 'ok.yaml', line: 3 });
  });

  it('YAML syntax errors name the file and line', () => {
    const e = errorOf(file('syntax.yaml', 'checks:\n  - id: [unclosed\n    title: x\n'));
    expect(e.message).to.match(/^syntax\.yaml:\d+:\d+: YAML syntax/);
    expect(e.line).to.be.greaterThan(1);
  });

  it('a misspelt key is reported at its line with a suggestion', () => {
    const e = errorOf(file('typo.yaml', `${head}    steps:\n      - connect: {}\n      - expect: { mesage: SSH_MSG_KEXINIT }\n`));
    expect(e.line).to.equal(8);
    expect(e.message).to.match(/typo\.yaml:8:\d+: .*unknown key "mesage" \(did you mean "message"\?\)/);
  });

  it('an unknown step, a wrong type and a missing key are each reported where they are', () => {
    expect(errorOf(file('step.yaml', `${head}    steps:\n      - conect: {}\n`)).message).to.match(/step\.yaml:7:\d+: .*unknown step "conect" \(did you mean "connect"\?\)/);
    expect(errorOf(file('type.yaml', `${head}    steps:\n      - wait: soon\n`)).message).to.match(/type\.yaml:7:\d+: .*wait: expected a number/);
    expect(errorOf(file('missing.yaml', 'defaults: { area: kex, level: MUST }\nchecks:\n  - id: t.two\n    spec: "RFC 4253 §7"\n    steps: [{ connect: {} }]\n')).message)
      .to.match(/missing\.yaml:3:\d+: .*missing required key "title"/);
  });

  it('a message that does not encode is reported at its step with the field', () => {
    const e = errorOf(file('msg.yaml', `${head}    steps:\n      - connect: {}\n      - send: { type: SSH_MSG_CHANNEL_CLOSE, recipientChannel: notanumber }\n`));
    expect(e.message).to.match(/msg\.yaml:8:\d+: .*message does not encode/);
  });

  it('a missing level or area is reported at the check', () => {
    const e = errorOf(file('level.yaml', 'checks:\n  - id: t.three\n    title: x\n    area: kex\n    spec: "RFC 4253 §7"\n    steps: [{ connect: {} }]\n'));
    expect(e.message).to.match(/level\.yaml:2:\d+: .*missing "level"/);
  });

  it('duplicate ids are refused, naming both places', async () => {
    const a = file('a.yaml', `${head}    steps: [{ connect: {} }]\n`);
    const b = file('b.yaml', `${head}    steps: [{ connect: {} }]\n`);
    const err = await loadChecks([a, b], dir).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ScenarioFileError);
    expect((err as Error).message).to.match(/duplicate check id "t\.one" \(first defined at a\.yaml:3\)/);
  });

  it('matrix rows expand with typed substitution and are validated again after substitution', () => {
    const ok = file('matrix.yaml', 'defaults: { area: robustness, level: MUST }\nchecks:\n  - id: m.${n}\n    title: n=${n}\n    spec: "RFC 4253 §11.4"\n    matrix: { n: [12, 13] }\n    steps:\n      - connect: {}\n      - send-raw: { type: unknown, id: "${n}" }\n');
    expect(loadDataFile(ok, dir).map((c) => c.id)).to.deep.equal(['m.12', 'm.13']);
    const bad = file('matrix-bad.yaml', 'defaults: { area: robustness, level: MUST }\nchecks:\n  - id: m.${n}\n    title: x\n    spec: "RFC 4253 §11.4"\n    matrix: { n: [yes] }\n    steps:\n      - wait: "${n}"\n');
    expect(errorOf(bad).message).to.match(/matrix-bad\.yaml:8:\d+: .*after matrix substitution.*expected a number/);
  });

  it('matrixRows flattens mapping values; substitute keeps whole-string types', () => {
    expect(matrixRows({ a: [1, 2], b: [{ x: 'p' }] })).to.deep.equal([{ a: 1, x: 'p', b: { x: 'p' } }, { a: 2, x: 'p', b: { x: 'p' } }]);
    expect(substitute({ k: '${a}', s: 'n=${a}' }, { a: 7 })).to.deep.equal({ k: 7, s: 'n=7' });
    expect(parseSpec('OpenSSH PROTOCOL §1.9: strict')).to.deep.equal([{ rfc: 'OpenSSH PROTOCOL', section: '1.9', text: 'strict' }]);
  });

  it('JSON scenario files go through the same schema', () => {
    const p = file('j.json', JSON.stringify({ defaults: { area: 'kex', level: 'MUST' }, checks: [{ id: 'j.one', title: 'j', spec: 'RFC 4253 §7', steps: [{ connect: {} }, { kex: {} }] }] }));
    expect(loadDataFile(p, dir).map((c) => c.id)).to.deep.equal(['j.one']);
  });

  it('the built-in suite loads: ≥150 checks, unique ids, every one cites a spec section', () => {
    const all = builtinChecksSync();
    expect(all.length).to.be.at.least(150);
    expect(new Set(all.map((c) => c.id)).size).to.equal(all.length);
    for (const c of all) {
      expect(c.spec.length, c.id).to.be.greaterThan(0);
      for (const s of c.spec) expect(`${s.rfc} §${s.section}`, c.id).to.match(/^(RFC \d{4}|OpenSSH PROTOCOL(\.[a-z0-9]+)?|CVE-\d{4}-\d+) §\S+/);
    }
    const server = all.filter((c) => c.role === 'server');
    expect(server.length).to.be.at.least(150);
    expect(all.filter((c) => c.role === 'client').length).to.be.at.least(20);
    for (const suite of ['smoke', 'transport', 'auth', 'connection', 'robustness', 'security', 'client'] as const) {
      expect(filterChecks(all, { suites: [suite] }).length, suite).to.be.greaterThan(5);
    }
  });

  it('KNOWN.md entries match targets and check ids by glob', () => {
    const md = '## sshd, OpenSSH_*\n### bpp.bad-mac-*, kex.x\nwhy 1\n\n## dropbear\n### a.b\nwhy 2\n';
    expect(parseKnown(md)).to.have.length(2);
    expect(knownFor('sshd', undefined, md)('bpp.bad-mac-disconnect-reason')).to.equal('why 1');
    expect(knownFor('tcp://h:1', 'OpenSSH_9.2p1', md)('kex.x')).to.equal('why 1');
    expect(knownFor('dropbear', undefined, md)('kex.x')).to.equal(undefined);
  });
});
