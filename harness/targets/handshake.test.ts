/**
 * The full check per server target: our own client (impl/Client) completes key exchange, authenticates with
 * the target's credentials (password and publickey where the peer serves them), runs a command, and the
 * target stops leaving nothing behind. The banner/KEXINIT-only checks live in the per-target tests.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Client } from '../../impl/Client.js';
import { insecureAcceptAnyHostKey } from '../../impl/Transport.js';
import { parsePrivateKey } from '../../impl/keys/index.js';
import type { Target } from './types.js';
import { getTarget } from './registry.js';
import { containerExists } from './docker-api.js';
import { pidAlive, runningCount } from './cleanup.js';
import { needPeer } from './peer-test-kit.js';
import { isRoot } from './state.js';

const servers: Array<{ name: string; password: boolean; root: boolean }> = [
  { name: 'openssh:bookworm', password: true, root: false },
  { name: 'openssh:trixie', password: true, root: false },
  { name: 'sshd', password: true, root: true },
  { name: 'dropbear', password: true, root: true },
  { name: 'tinyssh', password: false, root: true },
  { name: 'paramiko', password: true, root: false },
  { name: 'asyncssh', password: true, root: false },
  { name: 'ssh2', password: true, root: false },
];

describe('our client against every server target (full handshake, auth, exec)', function () {
  for (const s of servers) {
    it(s.name, async function () {
      let target: Target | undefined;
      await needPeer(this, s.name, async () => {
        target = await getTarget(s.name);
        const a = await target.availability();
        return a.available && s.root && !isRoot() ? { available: false, reason: 'needs root' } : a;
      });
      const t = await target!.start();
      try {
        const key = parsePrivateKey(readFileSync(t.credentials.privateKeyPath!)).toPrivateKey();
        const byKey = await Client.exec([t.host, t.port], { username: t.credentials.user, privateKey: key, verifyHostKey: insecureAcceptAnyHostKey }, 'echo key-ok');
        expect(byKey.stdout.toString(), byKey.stderr.toString()).to.equal('key-ok\n');
        expect(byKey.code).to.equal(0);
        if (s.password) {
          const byPw = await Client.exec([t.host, t.port], { username: t.credentials.user, password: t.credentials.password, verifyHostKey: insecureAcceptAnyHostKey }, 'echo pw-ok; exit 5');
          expect(byPw.stdout.toString(), byPw.stderr.toString()).to.equal('pw-ok\n');
          expect(byPw.code).to.equal(5);
        }
      } catch (e) {
        (e as Error).message += `\n--- ${s.name} log (tail) ---\n${t.logs().split('\n').slice(-30).join('\n')}`;
        throw e;
      } finally {
        await t.stop();
      }
      if (t.pid !== undefined) expect(pidAlive(t.pid)).to.equal(false);
      if (t.containerId !== undefined) expect(await containerExists(t.containerId)).to.equal(false);
      expect(runningCount()).to.equal(0);
    });
  }
});
