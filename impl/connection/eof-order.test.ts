/**
 * RFC 4254 §5.3: no data after EOF, and EOF only after everything written before it. A Channel sends stdout
 * and stderr (extended data, §5.2) through one queue bounded by the peer's window; ending the channel must wait
 * for stderr bytes still queued, or they are stranded behind the EOF (never sent).
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { generateHostKey } from '../crypto/hostkey/index.js';
import { insecureAcceptAnyHostKey, Transport } from '../Transport.js';
import { execLoopbackServer, type LoopbackServer } from './testing/loopback.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const hostKey = generateHostKey('ssh-ed25519');
const err = randomBytes(5 * 1024 * 1024);
const out = randomBytes(3 * 1024 * 1024);

describe('impl/connection: EOF waits for queued stdout and stderr', function () {
  this.timeout(30_000);
  let srv: LoopbackServer;
  before(async () => {
    srv = await execLoopbackServer([hostKey], (c, cmd) => {
      // more than the client's window (2 MiB) on stderr, queued before the end
      if (cmd === 'both') { c.stderr.write(err); c.write(out); } else c.stderr.write(err);
      void c.exit(0);
    }, { auth: { failureDelayMs: 1 } });
  });
  after(async () => { await srv.close(); });

  for (const cmd of ['stderr', 'both']) {
    it(`${cmd}: every byte before EOF, exit status after`, async () => {
      const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey }); // a server of the test's own
      await t.connect({ username: 'u', password: 'p' });
      try {
        const ch = await t.openSession();
        const o: Buffer[] = [];
        const e: Buffer[] = [];
        ch.on('data', (d: Buffer) => o.push(d));
        ch.stderr.on('data', (d: Buffer) => e.push(d));
        await ch.exec(cmd);
        ch.end();
        expect(await ch.exitStatus()).to.equal(0);
        await new Promise<void>((r) => (ch.readableEnded ? r() : ch.once('end', r)));
        expect(sha(Buffer.concat(e))).to.equal(sha(err));
        expect(Buffer.concat(o).length).to.equal(cmd === 'both' ? out.length : 0);
      } finally {
        await t.close();
      }
    });
  }
});
