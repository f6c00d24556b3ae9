/**
 * CI: the whole interop matrix (issue 6, "Must show"): our client against every server peer and every client
 * peer against our server, one handshake + publickey auth + exec per algorithm, written to
 * reports/<run-id>/interop/. Runs once (before hook, ~2–3 min on the shared 2-core machines, 3 handshakes at
 * once); the checks below read its report. A peer missing here fails under CI=true and is only logged otherwise.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runningCount } from '../../targets/cleanup.js';
import { matrixRows } from './rows.js';
import { defaultClientPeers, defaultServerPeers, runMatrix } from './run-matrix.js';
import { summaryTable, writeMatrixReport, type MatrixFiles } from './write-report.js';
import type { Cell, Direction, Kind, MatrixReport } from './types.js';

const CI = process.env['CI'] === 'true';

describe('interop matrix: every peer × every algorithm (reports/<run-id>/interop/)', function () {
  this.timeout(600_000);
  const servers = defaultServerPeers();
  const clients = defaultClientPeers();
  let report: MatrixReport;
  let files: MatrixFiles;

  const find = (direction: Direction, peer: string, kind: Kind, algorithm: string): Cell | undefined =>
    report.cells.find((c) => c.direction === direction && c.peer === peer && c.kind === kind && c.algorithm === algorithm);
  const ran = (direction: Direction, peer: string): boolean =>
    report.peers.some((p) => p.direction === direction && p.name === peer && !p.setupError);

  before(async function () {
    this.timeout(600_000);
    report = await runMatrix({
      servers, clients, rows: matrixRows(), concurrency: 3, timeoutMs: 30_000,
      progress: (line) => console.log(`      ${line}`),
    });
    files = writeMatrixReport(report, resolve('reports'));
    console.log(summaryTable(report).split('\n').map((l) => `      ${l}`).join('\n'));
    console.log(`      report: ${files.markdown}`);
  });

  it('writes JSON, Markdown and HTML that name every peer', () => {
    for (const f of [files.json, files.markdown, files.html]) expect(existsSync(f), f).to.equal(true);
    const json = JSON.parse(readFileSync(files.json, 'utf8')) as MatrixReport;
    expect(json.peers.filter((p) => p.direction === 'client').map((p) => p.name)).to.deep.equal(servers);
    expect(json.peers.filter((p) => p.direction === 'server').map((p) => p.name)).to.deep.equal(clients);
    const md = readFileSync(files.markdown, 'utf8');
    const html = readFileSync(files.html, 'utf8');
    for (const p of [...servers, ...clients]) {
      expect(md, `${p} in matrix.md`).to.contain(p);
      expect(html, `${p} in matrix.html`).to.contain(p);
    }
    expect(json.cells.length).to.equal(report.cells.length);
  });

  it('sets up every peer (a missing one fails under CI=true)', () => {
    const broken = report.peers.filter((p) => p.setupError && (CI || p.available));
    expect(broken.map((p) => `${p.name}: ${p.setupError}`)).to.deep.equal([]);
    for (const p of report.peers.filter((x) => x.setupError)) console.log(`      (not run here: ${p.name}: ${p.setupError})`);
  });

  it('covers every algorithm of ours for every peer that ran, with a reason for each fail and each unsupported cell', () => {
    const rows = matrixRows();
    for (const p of report.peers.filter((x) => !x.setupError)) {
      const mine = report.cells.filter((c) => c.direction === p.direction && c.peer === p.name);
      expect(mine.length, p.name).to.equal(Object.values(rows).reduce((n, r) => n + r.length, 0));
      expect(mine.some((c) => c.status === 'pass'), `${p.name} has a passing cell`).to.equal(true);
      for (const c of mine.filter((x) => x.status !== 'pass')) expect(c.reason, `${p.name} ${c.algorithm}`).to.be.a('string').and.not.equal('');
    }
  });

  it('tries every algorithm a server peer offers (unsupported only for AEAD-only MACs or documented limitations)', () => {
    for (const p of report.peers.filter((x) => x.direction === 'client' && !x.setupError)) {
      for (const [kind, names] of Object.entries(p.testedOffer ?? {}) as Array<[Kind, string[]]>) {
        for (const n of names) {
          const c = find('client', p.name, kind, n);
          if (!c || c.status !== 'unsupported') continue;
          expect(c.reason, `${p.name} ${kind} ${n}`).to.match(/AEAD|known peer limitation/);
        }
      }
    }
  });

  it('passes the cells that must pass: ML-KEM with OpenSSH 10, legacy algorithms re-enabled on OpenSSH, the common core everywhere', function () {
    const must: Array<[Direction, string, Kind, string]> = [
      ['client', 'openssh:trixie', 'kex', 'mlkem768x25519-sha256'],
      ...['openssh:bookworm', 'openssh:trixie', 'sshd'].flatMap((peer): Array<[Direction, string, Kind, string]> => [
        ['client', peer, 'kex', 'diffie-hellman-group1-sha1'], ['client', peer, 'kex', 'diffie-hellman-group-exchange-sha256'],
        ['client', peer, 'hostKey', 'ssh-rsa'], ['client', peer, 'cipher', '3des-cbc'], ['client', peer, 'cipher', 'chacha20-poly1305@openssh.com'],
        ['client', peer, 'mac', 'hmac-md5'], ['client', peer, 'mac', 'umac-128-etm@openssh.com'], ['client', peer, 'compression', 'zlib@openssh.com'],
      ]),
      // lsh 2.1 (2005) has neither: its cells are ssh-rsa and DH with SHA-1
      ...servers.filter((p) => p !== 'lsh').map((peer): [Direction, string, Kind, string] => ['client', peer, 'hostKey', 'ssh-ed25519']),
      ...servers.filter((p) => p !== 'lsh').map((peer): [Direction, string, Kind, string] => ['client', peer, 'kex', 'curve25519-sha256@libssh.org']),
      ['client', 'lsh', 'hostKey', 'ssh-rsa'], ['client', 'lsh', 'kex', 'diffie-hellman-group14-sha1'], ['server', 'lsh-client', 'kex', 'diffie-hellman-group14-sha1'],
      ['client', 'go', 'cipher', 'aes128-gcm@openssh.com'], ['server', 'go-client', 'kex', 'curve25519-sha256'],
      ['client', 'libssh', 'kex', 'curve25519-sha256'], ['server', 'libssh-client', 'cipher', 'chacha20-poly1305@openssh.com'],
      ['client', 'erlang', 'hostKey', 'ecdsa-sha2-nistp521'], ['server', 'erlang-client', 'kex', 'ecdh-sha2-nistp384'],
      ['client', 'twisted', 'mac', 'hmac-sha2-512'], ['server', 'twisted-client', 'cipher', 'aes256-ctr'],
      ['server', 'openssh-client', 'kex', 'sntrup761x25519-sha512'], ['server', 'openssh-client', 'hostKey', 'ecdsa-sha2-nistp521'],
      ['server', 'openssh-client', 'mac', 'umac-64@openssh.com'], ['server', 'asyncssh-client', 'cipher', 'aes256-gcm@openssh.com'],
      ['server', 'plink', 'hostKey', 'ssh-ed25519'], ['server', 'ssh2-client', 'kex', 'diffie-hellman-group-exchange-sha256'],
    ];
    const missed = must.filter(([d, peer]) => ran(d, peer)).map(([d, peer, kind, alg]) => ({ d, peer, kind, alg, c: find(d, peer, kind, alg) }))
      .filter((x) => x.c?.status !== 'pass')
      .map((x) => `${x.d === 'client' ? `our client → ${x.peer}` : `${x.peer} → our server`} ${x.kind} ${x.alg}: ${x.c?.status ?? 'missing'} ${x.c?.reason ?? ''}`);
    expect(missed).to.deep.equal([]);
  });

  it('has no failing cell (documented peer limitations are unsupported, with why)', () => {
    const fails = report.cells.filter((c) => c.status === 'fail')
      .map((c) => `${c.direction === 'client' ? `our client → ${c.peer}` : `${c.peer} → our server`} ${c.kind} ${c.algorithm}: ${c.reason ?? ''}`);
    expect(fails).to.deep.equal([]);
  });

  it('leaves no peer process or container running', () => {
    expect(runningCount()).to.equal(0);
  });
});
