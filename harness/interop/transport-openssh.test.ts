/**
 * Our transport engine against the host's real OpenSSH sshd (temporary config on 127.0.0.1): every kex, host key,
 * cipher and MAC of the first catalogue, strict kex, ext-info, and rekeys initiated by us (RFC 4253 §9).
 */
import { expect } from 'chai';
import { sshdTarget } from '../targets/sshd.js';
import type { RunningTarget } from '../targets/types.js';
import { EngineSession } from './engine-session.js';

const KEX = ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256'];
const HOSTKEY = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-256', 'rsa-sha2-512'];
const CIPHER = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes256-ctr'];
const MAC = ['hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com'];

describe('transport ↔ OpenSSH sshd (host, temp config)', function () {
  this.timeout(60_000);
  let sshd: RunningTarget;

  before(async () => {
    sshd = await sshdTarget.start({ algorithms: { kex: KEX, hostKey: HOSTKEY, cipher: CIPHER, mac: MAC } });
  });
  after(async () => { await sshd?.stop(); });

  async function handshake(algorithms: { kex?: string[]; hostKey?: string[]; cipher?: string[]; mac?: string[] }) {
    const s = await EngineSession.connect(sshd.host, sshd.port, { algorithms });
    try {
      const done = await s.waitFor('kexDone');
      s.act((e) => e.requestService('ssh-userauth'));
      await s.waitFor('serviceAccept');
      return { s, done };
    } catch (err) {
      s.close();
      throw new Error(`${JSON.stringify(algorithms)}: ${(err as Error).message}\n--- sshd log ---\n${sshd.logs().slice(-3000)}`);
    }
  }

  for (const kex of KEX) {
    it(`kex ${kex}`, async () => {
      const { s, done } = await handshake({ kex: [kex] });
      expect(done.algorithms.kex).to.equal(kex);
      expect(done.algorithms.strictKex).to.equal(true);
      s.close();
    });
  }
  for (const hostKey of HOSTKEY) {
    it(`host key ${hostKey}`, async () => {
      const { s, done } = await handshake({ hostKey: [hostKey] });
      expect(done.algorithms.hostKey).to.equal(hostKey);
      s.close();
    });
  }
  for (const cipher of CIPHER) {
    for (const mac of cipher.includes('gcm') ? ['hmac-sha2-256'] : MAC) {
      it(`cipher ${cipher}${cipher.includes('gcm') ? '' : ` + ${mac}`}: handshake, password auth, two rekeys`, async () => {
        const { s, done } = await handshake({ cipher: [cipher], mac: [mac] });
        expect(done.algorithms.cipherC2S).to.equal(cipher);
        // OpenSSH refuses re-exchanges before authentication (dispatch_protocol_error), so authenticate first (RFC 4252 §8)
        const { user, password } = sshd.credentials;
        s.act((e) => e.sendMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'password', changePassword: false, password: password! }));
        await s.waitFor('payload', 10_000, (e) => e.payload[0] === 52);
        // RFC 4253 §9: either side may rekey at any time; the server must follow and keep the session
        for (let i = 0; i < 2; i++) {
          const before = s.events.length;
          s.act((e) => e.rekey());
          await s.waitFor('kexDone', 10_000, (e) => !e.initial, before);
        }
        expect(s.engine.isClosed).to.equal(false);
        s.close();
      });
    }
  }

  it('receives server-sig-algs in SSH_MSG_EXT_INFO (RFC 8308 §3.1)', async () => {
    const { s } = await handshake({});
    const ext = await s.waitFor('extInfo');
    expect(Buffer.from(ext.extensions.get('server-sig-algs') ?? new Uint8Array()).toString()).to.match(/rsa-sha2-512/);
    s.close();
  });
});
