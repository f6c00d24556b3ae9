import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTarget } from '../../targets/index.js';
import { needPeer } from '../../targets/peer-test-kit.js';
import { parseAlphabet } from '../alphabet.js';
import { differences } from '../diff.js';
import { learn } from '../learn.js';
import { equivalent, run } from '../mealy.js';
import { readModelFile, toMealy } from '../model-file.js';
import { writeLearnReport } from '../report.js';

describe('learn: our own server in-process (self)', function () {
  this.timeout(120_000);

  it('learns the handshake machine with strict kex: the key exchange path, and every property holds', async () => {
    const r = await learn({ target: 'self', alphabet: 'handshake', timeS: 120, randomWalks: 100 });
    expect(r.file.complete).to.equal(true);
    // reference path: our KEXINIT (peer's already in), our ECDH init → reply + NEWKEYS (+ EXT_INFO), our NEWKEYS, service
    expect(run(r.model, ['KEXINIT', 'KEX_ECDH_INIT', 'NEWKEYS', 'SERVICE_REQUEST_AUTH'])).to.deep.equal(['NO_RESP', 'KEX_ECDH_REPLY+NEWKEYS+EXT_INFO', 'NO_RESP', 'SERVICE_ACCEPT']);
    // strict kex: IGNORE between KEXINIT and NEWKEYS ends the connection (OpenSSH PROTOCOL)
    expect(run(r.model, ['KEXINIT', 'IGNORE'])[1]).to.match(/^DISCONNECT\(\d+\)\+CONN_CLOSED$/);
    // after the kex: an unknown message is answered with UNIMPLEMENTED (RFC 4253 §11.4)
    expect(run(r.model, ['KEXINIT', 'KEX_ECDH_INIT', 'NEWKEYS', 'UNKNOWN'])[3]).to.equal('UNIMPLEMENTED');
    for (const p of r.file.properties) expect(p.status, `${p.id}: ${p.why}`).to.not.equal('fail');
    expect(r.file.stats['resets']).to.be.greaterThan(0);
  });

  it('two runs with different seeds give the same model', async () => {
    const a = await learn({ target: 'self', alphabet: 'auth', timeS: 120, seed: 1, randomWalks: 100 });
    const b = await learn({ target: 'self', alphabet: 'auth', timeS: 120, seed: 2, randomWalks: 100 });
    expect(equivalent(a.model, b.model)).to.equal(true);
    expect(a.file.transitions).to.deep.equal(b.file.transitions); // minimised and numbered breadth-first: identical files
    // RFC 4252: a wrong password fails, the right one succeeds, and only then does a channel open
    expect(run(a.model, ['SERVICE_REQUEST_AUTH', 'USERAUTH_PW_BAD', 'CHANNEL_OPEN', 'USERAUTH_PW_OK', 'CHANNEL_OPEN']))
      .to.deep.equal(['SERVICE_ACCEPT', 'USERAUTH_FAILURE', 'DISCONNECT(2)+CONN_CLOSED', 'CONN_CLOSED', 'CONN_CLOSED']);
    expect(run(a.model, ['SERVICE_REQUEST_AUTH', 'USERAUTH_PW_OK', 'CHANNEL_OPEN'])).to.deep.equal(['SERVICE_ACCEPT', 'USERAUTH_SUCCESS', 'CHANNEL_OPEN_CONFIRMATION']);
  });

  it('writes JSON, DOT, HTML, JUnit and witness files, and diff finds where a broken server differs', async () => {
    // self:accept-before-newkeys is our server offering strict kex without enforcing it (harness/scenario/variants.ts), over loopback
    const alphabet = parseAlphabet({ name: 'kex-ignore', start: 'connected', kex: ['curve25519-sha256'], inputs: ['KEXINIT', 'KEX_ECDH_INIT', 'NEWKEYS', 'IGNORE'] });
    const good = await learn({ target: 'self', alphabet, timeS: 120, randomWalks: 50 });
    const bad = await learn({ target: 'self:accept-before-newkeys', alphabet, timeS: 120, randomWalks: 50 });
    expect(bad.file.stats['strictKex']).to.equal(true);
    const strict = bad.file.properties.find((p) => p.id === 'strict-kex')!;
    expect(strict.status).to.equal('fail');
    expect(strict.witness!.inputs).to.include('IGNORE');
    const dir = mkdtempSync(join(tmpdir(), 'learn-'));
    try {
      const files = writeLearnReport(bad.file, bad.model, dir);
      const back = readModelFile(files.json);
      expect(equivalent(toMealy(back), bad.model)).to.equal(true);
      expect(readFileSync(files.dot, 'utf8')).to.match(/^digraph/);
      expect(readFileSync(files.junit, 'utf8')).to.contain('<failure');
      expect(files.witnesses.length).to.be.greaterThan(0);
      const w = JSON.parse(readFileSync(files.witnesses[0]!, 'utf8'));
      expect(w.kind).to.equal('learn-witness');
      expect(w.replay).to.contain('learn replay');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const d = differences(good.model, bad.model, 3);
    expect(d.diffs.length).to.be.greaterThan(0);
    expect(d.diffs[0]!.inputs.length).to.be.lessThan(4);
  });

  it('rejects bad alphabet files with a clear error', () => {
    expect(() => parseAlphabet({ name: 'x', start: 'connected', inputs: ['NOPE'] })).to.throw(/unknown input/);
    expect(() => parseAlphabet({ name: 'x', start: 'later', inputs: ['IGNORE'] })).to.throw(/"start"/);
    expect(() => parseAlphabet([], 'f.json')).to.throw(/not a JSON object/);
    expect(() => parseAlphabet({ name: 'x', start: 'connected', inputs: ['IGNORE'], kex: ['nope-kex'] })).to.throw(/unknown kex/);
  });
});

describe('learn: a real peer over TCP (host OpenSSH sshd, reduced handshake alphabet)', function () {
  this.timeout(240_000);

  before(async function () {
    this.timeout(60_000);
    await needPeer(this, 'host sshd', async () => (await getTarget('sshd')).availability());
  });

  it('learns the strict-kex handshake of sshd: the reference path, disconnects on IGNORE inside the kex', async () => {
    const alphabet = parseAlphabet({ name: 'handshake-small', start: 'connected', kex: ['curve25519-sha256'], inputs: ['KEXINIT', 'KEX_ECDH_INIT', 'NEWKEYS', 'IGNORE'] });
    const r = await learn({ target: 'sshd', alphabet, timeS: 180, randomWalks: 60 });
    expect(r.file.complete, JSON.stringify(r.nondeterminism)).to.equal(true);
    expect(r.file.states).to.be.within(4, 12);
    expect(run(r.model, ['KEXINIT', 'KEX_ECDH_INIT', 'NEWKEYS'])).to.deep.equal(['NO_RESP', 'KEX_ECDH_REPLY+NEWKEYS+EXT_INFO', 'NO_RESP']);
    expect(run(r.model, ['KEXINIT', 'IGNORE'])[1]).to.match(/DISCONNECT\(\d+\)\+CONN_CLOSED$/);
    expect(r.file.properties.find((p) => p.id === 'strict-kex')!.status).to.equal('pass');
    expect(r.file.stats['probeEnded']).to.be.greaterThan(0);
  });
});
