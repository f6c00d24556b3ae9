import { expect } from 'chai';
import fc from 'fast-check';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { encodeSftpPacket, encodeSftpStream, isSftpPacket, MAX_SFTP_STREAM, SFTP_TYPES as T, type SftpPacket } from './sftp.js';
import { SCRATCH_DIR, sftpPacketArb } from './arb/sftp.js';
import { sftpStepArb } from './arb/steps.js';
import { fromJson, toJson } from './value.js';
import { checkStep, CorpusFormatError } from './corpus.js';
import { CaseRun } from './executor.js';
import { useHostSshd } from './host-sshd-kit.js';

describe('fuzz: SFTP packets (draft-ietf-secsh-filexfer-02)', () => {
  it('encodes length, type, id and arguments by their JavaScript type (§3, §5 ATTRS)', () => {
    const p: SftpPacket = { type: T.OPEN, id: 7, args: ['/x', 0x1a, { flags: 0x4, permissions: 0o600 }] };
    expect(encodeSftpPacket(p).toString('hex')).to.equal(
      '00000017' + '03' + '00000007' + '00000002' + Buffer.from('/x').toString('hex') + '0000001a' + '00000004' + '00000180');
    // uint64, bytes, and a length that lies
    const q = encodeSftpPacket({ type: T.READ, id: 1, args: [Uint8Array.of(0, 0, 0, 2), 1n << 32n, 4096], length: 0 });
    expect(q.toString('hex')).to.equal('00000000' + '05' + '00000001' + '00000004' + '00000002' + '0000000100000000' + '00001000');
  });

  it('a stream stops before MAX_SFTP_STREAM', () => {
    const big: SftpPacket = { type: T.WRITE, id: 1, args: [Uint8Array.of(0, 0, 0, 0), 0n, new Uint8Array(30_000)] };
    expect(encodeSftpStream([big, big, big]).length).to.be.at.most(MAX_SFTP_STREAM);
    expect(encodeSftpStream([big, big, big]).length).to.equal(2 * encodeSftpPacket(big).length);
  });

  it('generated packets change the file system only under the scratch directory', () => {
    const writing = new Set<number>([T.SETSTAT, T.REMOVE, T.MKDIR, T.RMDIR, T.RENAME, T.SYMLINK]);
    const writingExt = new Set(['posix-rename@openssh.com', 'hardlink@openssh.com', 'lsetstat@openssh.com']);
    fc.assert(fc.property(sftpPacketArb, (p) => {
      const paths = p.args.filter((a): a is string => typeof a === 'string');
      let checked: string[] = [];
      if (writing.has(p.type)) checked = paths;
      else if (p.type === T.OPEN && typeof p.args[1] === 'number' && (p.args[1] & 0x3e) !== 0) checked = paths; // WRITE, APPEND, CREAT, TRUNC, EXCL
      else if (p.type === T.EXTENDED && writingExt.has(paths[0] ?? '')) checked = paths.slice(1);
      for (const path of checked) expect(path.startsWith(SCRATCH_DIR), `${p.type} ${path}`).to.equal(true);
    }), { numRuns: 3000, seed: 5 });
  });

  it('steps survive the corpus JSON round trip; malformed packets are a CorpusFormatError', () => {
    fc.assert(fc.property(sftpStepArb, (s) => {
      const back = fromJson(JSON.parse(JSON.stringify(toJson(s))));
      expect(toJson(back)).to.deep.equal(toJson(s));
      checkStep('x.json', back, 0);
      if (s.op === 'sftp') expect(s.packets.every(isSftpPacket)).to.equal(true);
    }), { numRuns: 300, seed: 6 });
    for (const packets of [[{ type: 3, id: 1, args: [null] }], [{ type: 'OPEN', id: 1, args: [] }], [{ type: 3, id: -1, args: [] }], 'x']) {
      expect(() => checkStep('x.json', { op: 'sftp', chan: 0, packets }, 0)).to.throw(CorpusFormatError);
    }
  });
});

describe('fuzz: sftp steps against host OpenSSH sshd (internal-sftp)', function () {
  this.timeout(60_000);
  const sshd = useHostSshd();

  it('the subsystem starts, INIT is sent first, and requests act on the file system', async () => {
    // a directory of its own: campaigns against the same host sshd change the fuzzers' scratch directory at will
    const dir = `/tmp/ssh-harness-sftp-test-${process.pid}`;
    const file = `${dir}/a`;
    rmSync(dir, { recursive: true, force: true });
    const handle = Uint8Array.of(0, 0, 0, 0);
    const link = await sshd().connect();
    const run = new CaseRun(link, sshd());
    try {
      expect(await run.reach('channel')).to.equal(true);
      await run.step({ op: 'sftp', chan: 0, init: 3, packets: [{ type: T.MKDIR, id: 1, args: [dir, { flags: 0 }] }, { type: T.OPEN, id: 2, args: [file, 0x1a, { flags: 0 }] }] });
      await run.step({ op: 'sftp', chan: 0, packets: [{ type: T.WRITE, id: 3, args: [handle, 0n, Buffer.from('written over sftp')] }, { type: T.CLOSE, id: 4, args: [handle] }] });
      // sftp-server is a process of its own: keep the session open until it has done the work
      const written = (): boolean => existsSync(file) && readFileSync(file, 'utf8') === 'written over sftp';
      await link.settle(written, 10_000);
      for (let i = 0; i < 100 && !written(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(file)).to.equal(true);
      expect(readFileSync(file, 'utf8')).to.equal('written over sftp');
    } finally {
      link.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
