/**
 * Rekey mid-transfer in both directions against real OpenSSH (RFC 4253 §9, RFC 4344 §3): small byte limits force
 * many re-exchanges while data streams through `cat`, and every byte must come back intact and in order. With
 * zlib@openssh.com too: each side starts a fresh compression stream at every NEWKEYS (RFC 4253 §6.2).
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { insecureAcceptAnyHostKey, Transport } from '../../impl/Transport.js';
import { have, need, run } from '../cli/peer-kit.test-util.js';
import { startServe, type RunningServer } from '../cli/serve.js';
import { sshdTarget } from '../targets/sshd.js';
import type { RunningTarget } from '../targets/types.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('rekey mid-transfer against OpenSSH, both directions (RFC 4253 §9, RFC 4344 §3)', function () {
  this.timeout(120_000);

  describe('our client → sshd (both sides with small rekey limits)', () => {
    let sshd: RunningTarget;
    before(async function () {
      need(this, have('/usr/sbin/sshd'), 'sshd (openssh-server)');
      // sshd rekeys its own direction every 1 MiB; we rekey ours every 768 KiB
      sshd = await sshdTarget.start({ extraConfig: ['RekeyLimit 1M', 'Compression yes'] });
    });
    after(async () => { await sshd?.stop(); });

    const cases = [{ cipher: 'aes128-gcm@openssh.com' }, { cipher: 'aes128-ctr' }, { cipher: 'aes128-gcm@openssh.com', compression: 'zlib@openssh.com' }];
    for (const { cipher, compression } of cases) {
      it(`${cipher}${compression ? ` + ${compression}` : ''}: 12 MiB through cat, byte-exact, with many rekeys initiated by both sides`, async () => {
        let kexes = 0;
        const t = new Transport([sshd.host, sshd.port], {
          verifyHostKey: insecureAcceptAnyHostKey,
          algorithms: { cipher: [cipher], ...(compression ? { compression: [compression] } : {}) },
          rekey: { bytes: 768 * 1024 },
          trace: { onKeys: () => { kexes++; } },
        });
        await t.connect({ username: sshd.credentials.user, password: sshd.credentials.password! });
        const ch = await t.openSession();
        await ch.exec('cat');
        // compressible (hex text) when compressed, so deflate does real work across each rekey
        const data = compression ? Buffer.from(randomBytes(6 << 20).toString('hex')) : randomBytes(12 << 20);
        const got: Buffer[] = [];
        ch.on('data', (d: Buffer) => got.push(d));
        const done = new Promise<void>((r) => ch.once('end', () => r()));
        ch.end(data);
        await done;
        expect(await ch.exitStatus()).to.equal(0);
        await t.close();
        const back = Buffer.concat(got);
        expect(back.length).to.equal(data.length);
        expect(sha(back)).to.equal(sha(data));
        expect(kexes).to.be.greaterThan(10);
      });
    }
  });

  describe('OpenSSH ssh → ssh-harness serve (the client rekeys every 1 MiB)', () => {
    let server: RunningServer;
    let dir: string;
    before(async function () {
      need(this, have('ssh'), 'ssh (openssh-client)');
      need(this, have('sshpass'), 'sshpass');
      dir = mkdtempSync(join(tmpdir(), 'rekey-'));
      server = await startServe({ host: '127.0.0.1', port: 0, user: 'alice', password: 'secret' });
    });
    after(async () => {
      await server?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const cases = [{ cipher: 'chacha20-poly1305@openssh.com' }, { cipher: 'aes256-gcm@openssh.com' }, { cipher: 'aes256-ctr' }, { cipher: 'chacha20-poly1305@openssh.com', compress: true }];
    for (const { cipher, compress } of cases) {
      it(`${cipher}${compress ? ' + compression (-C: zlib@openssh.com)' : ''}: 10 MiB through the built-in cat, byte-exact`, async function () {
        const data = compress ? Buffer.from(randomBytes(5 << 20).toString('hex')) : randomBytes(10 << 20);
        const args = ['-p', 'secret', 'ssh', '-p', String(server.port), '-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${join(dir, 'kh')}`,
          '-v', '-o', 'RekeyLimit=1M', '-o', 'PubkeyAuthentication=no', '-c', cipher, ...(compress ? ['-C'] : []), 'alice@127.0.0.1', 'cat'];
        const { code, stdout, stderr: err } = await run('sshpass', args, { input: data, timeoutMs: 60_000 });
        expect(code, err).to.equal(0);
        expect(sha(stdout), err).to.equal(sha(data));
        // ssh -v logs every key exchange it starts: the initial one plus one per MiB each way
        expect(err.match(/SSH2_MSG_KEXINIT sent/g)?.length ?? 0).to.be.greaterThan(5);
        if (compress) expect(err, 'ssh -v names the negotiated compression').to.match(/compression: zlib@openssh\.com/);
      });
    }
  });
});
