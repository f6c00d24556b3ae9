/** The matrix's pure parts: restrictions, known limitations, exit codes and the three report formats (no peers needed). */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAead, macCarrier, restrictTo, splitOffer } from './catalogue.js';
import { knownLimitation, type KnownLimitation, type WrapperDefect } from './known-limitations.js';
import { extend, withoutPseudo } from './offer.js';
import { matrixRows, rowCount } from './rows.js';
import { exitCodeOf, summarize } from './run-matrix.js';
import { toHtml } from './report-html.js';
import { mdText, toMarkdown } from './report-markdown.js';
import type { Cell, MatrixReport, PeerReport } from './types.js';
import { summaryTable, writeMatrixReport } from './write-report.js';

const cell = (o: Partial<Cell> & Pick<Cell, 'peer' | 'algorithm' | 'status'>): Cell => ({ direction: 'client', kind: 'kex', legacy: false, durationMs: 1, ...o });

function report(cells: Cell[], peers: PeerReport[]): MatrixReport {
  const rows = matrixRows({ kinds: ['kex'], grep: /^curve25519-sha256$|^diffie-hellman-group1-sha1$/ });
  return {
    runId: '20260101T000000Z-interop', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1234, concurrency: 3, cellTimeoutMs: 20000,
    algorithms: rows, peers, cells, summary: summarize(peers, cells),
  };
}

describe('interop matrix: pure parts', () => {
  it('restricts one kind to one name, and a MAC cell also to one non-AEAD cipher', () => {
    expect(restrictTo('kex', 'curve25519-sha256')).to.deep.equal({ kex: ['curve25519-sha256'] });
    expect(restrictTo('mac', 'hmac-sha1', 'aes128-ctr')).to.deep.equal({ mac: ['hmac-sha1'], cipher: ['aes128-ctr'] });
    expect(macCarrier(['chacha20-poly1305@openssh.com', 'aes256-ctr'])).to.equal('aes256-ctr');
    expect(macCarrier(['chacha20-poly1305@openssh.com'])).to.equal(undefined);
    expect(isAead('aes128-gcm@openssh.com')).to.equal(true);
    expect(isAead('aes128-ctr')).to.equal(false);
  });

  it('separates our names from the peer\'s own and drops kex pseudo-algorithms', () => {
    const offer = { kex: ['curve448-sha512', 'curve25519-sha256', 'ext-info-s', 'kex-strict-s-v00@openssh.com'], hostKey: ['ssh-ed25519', 'ssh-dss'], cipher: [], mac: [], compression: ['none'] };
    const s = splitOffer(offer);
    expect(s.ours.kex).to.deep.equal(['curve25519-sha256']);
    expect(s.peerOnly.kex).to.deep.equal(['curve448-sha512']);
    expect(s.peerOnly.hostKey).to.deep.equal(['ssh-dss']);
    expect(withoutPseudo('kex', ['kexguess2@matt.ucc.asn.au', 'curve25519-sha256'])).to.deep.equal(['curve25519-sha256']);
    expect(extend(offer, { kex: ['diffie-hellman-group1-sha1', 'curve25519-sha256'] })).to.deep.equal({ kex: ['curve448-sha512', 'curve25519-sha256', 'diffie-hellman-group1-sha1'] });
  });

  it('covers every algorithm of ours by default, legacy included, and narrows on request', () => {
    const all = matrixRows();
    expect(all.kex.map((e) => e.name)).to.include.members(['mlkem768x25519-sha256', 'diffie-hellman-group1-sha1']);
    expect(all.cipher.find((e) => e.name === '3des-cbc')?.legacy).to.equal(true);
    expect(matrixRows({ legacy: false }).cipher.map((e) => e.name)).to.not.include('3des-cbc');
    expect(rowCount(matrixRows({ kinds: ['compression'] }))).to.equal(all.compression.length);
  });

  it('turns a matching documented peer limitation into unsupported, keeps everything else', () => {
    const limits: KnownLimitation[] = [{ direction: 'client', peer: 'p', kind: 'kex', algorithms: ['a'], why: 'documented', evidence: /boom/ }];
    const f = cell({ peer: 'p', algorithm: 'a', status: 'fail', reason: 'boom' });
    const u = knownLimitation(f, undefined, limits, []);
    expect(u.status).to.equal('unsupported');
    expect(u.reason).to.contain('documented').and.contain('boom');
    expect(knownLimitation({ ...f, algorithm: 'b' }, undefined, limits, []).status).to.equal('fail');
    expect(knownLimitation({ ...f, reason: 'some other failure' }, undefined, limits, []).status, 'evidence must match').to.equal('fail');
    expect(knownLimitation({ ...f, direction: 'server' }, undefined, limits, []).status).to.equal('fail');
    expect(knownLimitation({ ...f, status: 'pass' }, undefined, limits, []).status).to.equal('pass');
  });

  it('a wrapper defect passes only with the exact expected output', () => {
    const defects: WrapperDefect[] = [{ direction: 'server', peer: 'c', pattern: /Fatal Python error/, note: 'wrapper crashed at exit' }];
    const f = cell({ direction: 'server', peer: 'c', algorithm: 'a', status: 'fail', reason: 'exit null' });
    const ok = knownLimitation(f, { stdout: 'interop-ok\n', stderr: 'Fatal Python error: x\nmore' }, [], defects);
    expect(ok.status).to.equal('pass');
    expect(ok.note).to.contain('wrapper crashed');
    expect(ok.reason).to.equal(undefined);
    expect(knownLimitation(f, { stdout: 'other\n', stderr: 'Fatal Python error: x' }, [], defects).status).to.equal('fail');
    expect(knownLimitation(f, { stdout: 'interop-ok\n', stderr: 'something else' }, [], defects).status).to.equal('fail');
  });

  it('exit code: 0 without fails, 1 with a fail, 2 with a setup error (unless only unavailable and allowed)', () => {
    const peer: PeerReport = { name: 'p', direction: 'client', available: true, notes: [], durationMs: 1 };
    expect(exitCodeOf(report([cell({ peer: 'p', algorithm: 'curve25519-sha256', status: 'pass' })], [peer]))).to.equal(0);
    expect(exitCodeOf(report([cell({ peer: 'p', algorithm: 'curve25519-sha256', status: 'fail', reason: 'x' })], [peer]))).to.equal(1);
    const missing: PeerReport = { name: 'q', direction: 'client', available: false, setupError: 'not installed', notes: [], durationMs: 0 };
    expect(exitCodeOf(report([], [peer, missing]))).to.equal(2);
    expect(exitCodeOf(report([], [peer, missing]), { allowUnavailable: true })).to.equal(0);
    expect(exitCodeOf(report([], [peer, { ...missing, available: true, setupError: 'did not start' }]), { allowUnavailable: true })).to.equal(2);
  });

  it('renders every peer and reason, escaping peer text, and writes json/md/html', () => {
    const peers: PeerReport[] = [
      { name: 'srv', direction: 'client', version: 'X_1|2', available: true, notes: ['note <b>'], durationMs: 10 },
      { name: 'cli', direction: 'server', version: 'Y', available: true, notes: [], durationMs: 10 },
      { name: 'gone', direction: 'client', available: false, setupError: 'binary missing; run setup', notes: [], durationMs: 0 },
    ];
    const cells = [
      cell({ peer: 'srv', algorithm: 'curve25519-sha256', status: 'pass', negotiated: { kex: 'curve25519-sha256' } }),
      cell({ peer: 'srv', algorithm: 'diffie-hellman-group1-sha1', legacy: true, status: 'fail', reason: 'bad | thing\n<script>' }),
      cell({ direction: 'server', peer: 'cli', algorithm: 'curve25519-sha256', status: 'unsupported', reason: 'not implemented' }),
      cell({ direction: 'server', peer: 'cli', algorithm: 'diffie-hellman-group1-sha1', status: 'pass', note: 'wrapper crashed' }),
    ];
    const r = report(cells, peers);
    const md = toMarkdown(r);
    for (const p of ['srv', 'cli', 'gone']) expect(md).to.contain(p);
    expect(md).to.contain('bad \\| thing \\<script\\>');
    expect(md).to.contain('`diffie-hellman-group1-sha1` \\*');
    expect(md).to.contain('binary missing');
    expect(md).to.contain('not implemented');
    expect(md).to.contain('wrapper crashed');
    expect(mdText('a\u001b[31m|b')).to.equal('a \\[31m\\|b');
    const html = toHtml(r);
    expect(html).to.not.contain('<script>');
    expect(html).to.contain('&lt;script&gt;');
    expect(summaryTable(r)).to.contain('FAIL our client → srv kex diffie-hellman-group1-sha1');
    const base = mkdtempSync(join(tmpdir(), 'matrix-report-'));
    try {
      const files = writeMatrixReport(r, base);
      expect(files.dir).to.equal(join(base, r.runId, 'interop'));
      expect(JSON.parse(readFileSync(files.json, 'utf8'))).to.deep.equal(JSON.parse(JSON.stringify(r)));
      expect(readFileSync(files.markdown, 'utf8')).to.equal(md);
      expect(readFileSync(files.html, 'utf8')).to.equal(html);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
