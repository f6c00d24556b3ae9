/**
 * The second algorithm batch against real OpenSSH 9.2 on this host: UMAC MACs (RFC 4418, OpenSSH PROTOCOL),
 * sntrup761x25519-sha512 (draft-josefsson-ntruprime-ssh) and diffie-hellman-group-exchange (RFC 4419), both
 * directions where our side can play it: our client → /usr/sbin/sshd, and /usr/bin/ssh → our `serve`.
 * Each connection authenticates with a password and pushes a few MiB through `cat`, byte-exact.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kexAlgorithms, macAlgorithms } from '../../impl/crypto/registry.js';
import type { KexAlgorithm, MacAlgorithm } from '../../impl/crypto/types.js';
import { umac128, umac128Etm, umac64, umac64Etm } from '../../impl/crypto/mac/umac.js';
import { sntrup761x25519Sha512, sntrup761x25519Sha512Openssh } from '../../impl/crypto/kex/sntrup761x25519.js';
import { dhGexSha1, dhGexSha256 } from '../../impl/crypto/kex/dh-gex.js';
import { insecureAcceptAnyHostKey, Transport } from '../../impl/Transport.js';
import { have, need, run } from '../cli/peer-kit.test-util.js';
import { startServe, type RunningServer } from '../cli/serve.js';
import { sshdTarget } from '../targets/sshd.js';
import type { RunningTarget } from '../targets/types.js';

const UMACS: readonly MacAlgorithm[] = [umac64, umac128, umac64Etm, umac128Etm];
const KEXES: readonly KexAlgorithm[] = [sntrup761x25519Sha512, sntrup761x25519Sha512Openssh, dhGexSha256, dhGexSha1];

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MIB = 1 << 20;

describe('second algorithm batch ↔ OpenSSH 9.2 (UMAC, sntrup761x25519, group exchange)', function () {
  this.timeout(120_000);
  before(() => {
    for (const m of UMACS) expect(macAlgorithms.get(m.name)).to.equal(m);
    for (const k of KEXES) expect(kexAlgorithms.get(k.name)).to.equal(k);
  });

  describe('our client → sshd', () => {
    let sshd: RunningTarget;
    before(async function () {
      need(this, have('/usr/sbin/sshd'), 'sshd (openssh-server)');
      sshd = await sshdTarget.start({
        algorithms: {
          mac: UMACS.map((m) => m.name),
          cipher: ['aes128-ctr', 'aes256-ctr', 'aes128-gcm@openssh.com'],
          kex: ['curve25519-sha256', ...KEXES.map((k) => k.name)],
        },
      });
    });
    after(async () => { await sshd?.stop(); });

    async function catThrough(algorithms: { kex?: string[]; ciphers?: string[]; macs?: string[] }, bytes: number): Promise<void> {
      const t = new Transport([sshd.host, sshd.port], { verifyHostKey: insecureAcceptAnyHostKey, algorithms });
      try {
        await t.connect({ username: sshd.credentials.user, password: sshd.credentials.password! });
        const ch = await t.openSession();
        await ch.exec('cat');
        const data = randomBytes(bytes);
        const got: Buffer[] = [];
        ch.on('data', (d: Buffer) => got.push(d));
        const done = new Promise<void>((r) => ch.once('end', () => r()));
        ch.end(data);
        await done;
        expect(await ch.exitStatus()).to.equal(0);
        const back = Buffer.concat(got);
        expect(back.length).to.equal(data.length);
        expect(sha(back)).to.equal(sha(data));
      } catch (err) {
        throw new Error(`${JSON.stringify(algorithms)}: ${(err as Error).message}\n--- sshd log ---\n${sshd.logs().slice(-3000)}`);
      } finally {
        await t.close();
      }
    }

    for (const mac of UMACS) {
      it(`${mac.name} with aes128-ctr: password auth, 4 MiB through cat, byte-exact`, async () => {
        await catThrough({ ciphers: ['aes128-ctr'], macs: [mac.name] }, 4 * MIB);
      });
    }
    for (const kex of KEXES) {
      it(`kex ${kex.name}: password auth, 2 MiB through cat, byte-exact (three handshakes)${kex.legacy ? ' (legacy, named explicitly)' : ''}`, async () => {
        // each handshake draws fresh keys: three runs make a lucky pass of a wrong KEM very unlikely
        for (let i = 0; i < 3; i++) await catThrough({ kex: [kex.name] }, 2 * MIB);
      });
    }
  });

  describe('OpenSSH ssh → ssh-harness serve', () => {
    let server: RunningServer;
    let dir: string;
    before(async function () {
      need(this, have('ssh'), 'ssh (openssh-client)');
      need(this, have('sshpass'), 'sshpass');
      dir = mkdtempSync(join(tmpdir(), 'crypto2-'));
      // paramiko's load_server_moduli: group exchange answers from the host's moduli file (built-in groups otherwise)
      if (existsSync('/etc/ssh/moduli')) expect(Transport.loadServerModuli('/etc/ssh/moduli')).to.equal(true);
      server = await startServe({
        host: '127.0.0.1', port: 0, user: 'alice', password: 'secret',
        algorithms: { macs: UMACS.map((m) => m.name), kex: ['curve25519-sha256', ...KEXES.map((k) => k.name)] },
      });
    });
    after(async () => {
      await server?.close();
      Transport.moduli = [];
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function sshCat(extra: string[], bytes: number): Promise<string> {
      const data = randomBytes(bytes);
      const args = ['-p', 'secret', 'ssh', '-p', String(server.port), '-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${join(dir, 'kh')}`,
        '-v', '-o', 'PubkeyAuthentication=no', ...extra, 'alice@127.0.0.1', 'cat'];
      const { code, stdout, stderr: err } = await run('sshpass', args, { input: data, timeoutMs: 60_000 });
      expect(code, err.slice(-3000)).to.equal(0);
      expect(sha(stdout), err.slice(-3000)).to.equal(sha(data));
      return err;
    }

    for (const kex of KEXES) {
      it(`ssh -o KexAlgorithms=${kex.name}: 2 MiB through the built-in cat, byte-exact (three handshakes)`, async () => {
        for (let i = 0; i < 3; i++) {
          // aes128-ctr: ssh asks group exchange for n = 3072 bits (dh_estimate of 128-bit keys)
          const log = await sshCat(['-o', `KexAlgorithms=${kex.name}`, '-c', 'aes128-ctr'], 2 * MIB);
          expect(log).to.include(`kex: algorithm: ${kex.name}`);
          if (kex.shape === 'dh-gex') expect(log).to.match(/SSH2_MSG_KEX_DH_GEX_REQUEST\(2048<3072<8192\) sent/);
        }
      });
    }
    it('ssh with aes256-ctr asks diffie-hellman-group-exchange-sha256 for 8192 bits and gets it', async () => {
      const log = await sshCat(['-o', 'KexAlgorithms=diffie-hellman-group-exchange-sha256', '-c', 'aes256-ctr'], 1 * MIB);
      expect(log).to.match(/SSH2_MSG_KEX_DH_GEX_REQUEST\(2048<8192<8192\) sent/);
      expect(log).to.match(/SSH2_MSG_KEX_DH_GEX_GROUP received/);
    });
    for (const mac of UMACS) {
      it(`ssh -m ${mac.name} -c aes256-ctr: 4 MiB through the built-in cat, byte-exact`, async () => {
        const log = await sshCat(['-m', mac.name, '-c', 'aes256-ctr'], 4 * MIB);
        expect(log).to.include(`MAC: ${mac.name}`);
      });
    }
  });
});
