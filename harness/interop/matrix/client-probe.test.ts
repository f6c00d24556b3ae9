/** The client KEXINIT probe against our own client (in-process, no peers): what it reads, and that it gives up. */
import { expect } from 'chai';
import net from 'node:net';
import { insecureAcceptAnyHostKey, Transport } from '../../../impl/Transport.js';
import { TimeoutError } from '../../../impl/errors.js';
import { listenForClientKexInit } from './client-probe.js';

describe('interop matrix: client KEXINIT probe', () => {
  it('reads the identification line and the KEXINIT of a client, then hangs up', async () => {
    const probe = await listenForClientKexInit(10_000);
    const t = new Transport(['127.0.0.1', probe.port], { verifyHostKey: insecureAcceptAnyHostKey, algorithms: { kex: ['curve25519-sha256'], cipher: ['aes128-ctr', '3des-cbc'] } });
    const connecting = t.connect({ username: 'nobody', password: 'x' }).then(() => 'connected', (e: Error) => e.name);
    try {
      const got = await probe.result;
      expect(got.banner).to.match(/^SSH-2\.0-/);
      expect(got.kexInit.kex[0]).to.equal('curve25519-sha256');
      expect(got.kexInit.kex).to.include('ext-info-c'); // RFC 8308 §2.1
      expect(got.kexInit.cipherC2S).to.deep.equal(['aes128-ctr', '3des-cbc']);
      expect(await connecting).to.not.equal('connected');
    } finally {
      probe.close();
      await t.close(100).catch(() => undefined);
    }
  });

  it('rejects with a TimeoutError when no client comes, and on garbage', async () => {
    const idle = await listenForClientKexInit(200);
    const e = await idle.result.then(() => undefined, (x: unknown) => x);
    expect(e).to.be.instanceOf(TimeoutError);
    const bad = await listenForClientKexInit(5000);
    const sock = net.connect(bad.port, '127.0.0.1');
    sock.on('error', () => undefined);
    sock.write('SSH-2.0-x\r\n\x00\x00\xff\xff\x04');
    const e2 = await bad.result.then(() => undefined, (x: unknown) => x);
    expect((e2 as Error).message).to.match(/packet_length/);
    sock.destroy();
    bad.close();
  });
});
