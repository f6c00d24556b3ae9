/**
 * The cold CPU row's machinery on a small upload (the row itself moves 1 GiB per run: `bench --only cold`): each
 * client in a fresh process against OpenSSH's sshd, CPU reported, the row's figures and ratio taken from the runs.
 * And the inflate row on a few MiB: the library's inflater gives back what the compressor was given.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { have, need } from '../cli/peer-kit.test-util.js';
import { packageRoot } from '../targets/state.js';
import { sshdTarget } from '../targets/sshd.js';
import type { RunningTarget } from '../targets/types.js';
import { coldCpuRows, runCold } from './cold.js';
import { compressedStream, inflateRows, sshLikePayloads } from './inflate.js';
import { zlibOpenssh } from '../../impl/crypto/compression/zlib.js';

describe('bench: cold CPU per byte vs ssh2 (fresh processes against sshd)', function () {
  this.timeout(120_000);
  let sshd: RunningTarget;
  before(async function () {
    need(this, have('/usr/sbin/sshd'), 'sshd (openssh-server)');
    // the child runs compiled, as a user's program would (npm run setup builds dist/)
    need(this, existsSync(join(packageRoot(), 'dist', 'harness', 'bench', 'cold-client.js')), 'dist/ (npm run build)');
    sshd = await sshdTarget.start();
  });
  after(async () => { await sshd?.stop(); });

  const ep = () => ({ host: sshd.host, port: sshd.port, user: sshd.credentials.user, password: sshd.credentials.password! });

  it('each client uploads in a process of its own and reports its CPU, setup included', async () => {
    for (const client of ['ours', 'ssh2'] as const) {
      const r = await runCold({ ...ep(), client, cipher: 'chacha20-poly1305@openssh.com', bytes: 8 << 20 });
      expect(r.setupCpuSeconds, client).to.be.greaterThan(0);
      expect(r.cpuSeconds, client).to.be.greaterThan(r.setupCpuSeconds);
      expect(r.uploadSeconds, client).to.be.greaterThan(0);
    }
  });

  it('a row per cipher: CPU-s/GiB of each client and the median of the per-round ratios, split into once-per-process and per-GiB', async () => {
    const lines: string[] = [];
    const rows = await coldCpuRows(ep(), { bytes: 4 << 20, reps: 1, log: (l) => lines.push(l), ciphers: [{ cipher: 'aes128-ctr', mac: 'hmac-sha2-256-etm@openssh.com' }] });
    expect(rows).to.have.length(3);
    const [row, once, perGiB] = rows;
    expect(row!.name).to.contain('aes128-ctr+hmac-sha2-256-etm@openssh.com');
    expect(row!.ratio).to.be.closeTo(row!.ours / row!.baseline, 1e-9); // one round: the ratio is that round's
    expect(lines.join('\n')).to.match(/round 1: ours [\d.]+ s CPU .* ssh2 [\d.]+ s CPU .* ssh2\/ours [\d.]+×/);
    // the split: what the full upload cost = once + per GiB × GiB, for each client
    const gib = (4 << 20) / 2 ** 30;
    expect(once!.ours + perGiB!.ours * gib).to.be.closeTo(row!.ours * gib, 1e-9);
    expect(once!.baseline! + perGiB!.baseline! * gib).to.be.closeTo(row!.baseline * gib, 1e-9);
    expect(once!.name).to.match(/once per process/);
    expect(perGiB!.name).to.match(/each further GiB/);
  });
});

describe('bench: zlib@openssh.com inflate row', () => {
  it('inflates what the compressor produced, packet by packet, and reports MB/s for both', () => {
    const payloads = sshLikePayloads(8);
    const d = zlibOpenssh.decompressor()!;
    compressedStream(payloads).forEach((w, i) => expect(Buffer.from(d.decompress(w, 256 * 1024)).equals(Buffer.from(payloads[i]!)), `packet ${i}`).to.equal(true));
    const [row] = inflateRows(2, 1);
    expect(row!.ours).to.be.greaterThan(0);
    expect(row!.baseline).to.be.greaterThan(0);
  });
});
