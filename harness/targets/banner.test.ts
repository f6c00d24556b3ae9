import { expect } from 'chai';
import net from 'node:net';
import { Writer } from '../../impl/wire/writer.js';
import { decodeKexInitPayload, probe, versionFromBanner } from './banner.js';
import { parseTcpUrl, tcpTarget } from './tcp.js';
import { isPeerError } from './errors.js';

function kexInitPayload(): Uint8Array {
  const w = new Writer();
  w.byte(20);
  w.raw(new Uint8Array(16).fill(7));
  for (const list of [['curve25519-sha256'], ['ssh-ed25519'], ['aes128-ctr'], ['aes128-ctr'], ['hmac-sha2-256'], ['hmac-sha2-256'], ['none'], ['none'], [], []]) w.nameList(list);
  w.boolean(false);
  w.uint32(0);
  return w.finish();
}

/** RFC 4253 §6 framing with zero MAC: uint32 packet_length, byte padding_length, payload, padding. */
function packet(payload: Uint8Array, padding = 8): Buffer {
  const len = 1 + payload.length + padding;
  const out = Buffer.alloc(4 + len);
  out.writeUInt32BE(len, 0);
  out[4] = padding;
  Buffer.from(payload).copy(out, 5);
  return out;
}

async function fakeServer(bytes: Buffer | Buffer[]): Promise<{ port: number; close(): void }> {
  const srv = net.createServer((s) => {
    for (const b of Array.isArray(bytes) ? bytes : [bytes]) s.write(b);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
}

describe('banner probe (RFC 4253 §4.2, §6, §7.1 by hand)', () => {
  it('reads the identification line after pre-banner lines and decodes the first packet as KEXINIT', async () => {
    const s = await fakeServer([Buffer.from('hello there\r\nSSH-2.0-Fake_1.0 test\r\n'), packet(kexInitPayload())]);
    try {
      const p = await probe('127.0.0.1', s.port, { readKexInit: true });
      expect(p.banner).to.equal('SSH-2.0-Fake_1.0 test');
      expect(p.version).to.equal('Fake_1.0');
      expect(p.kexInit!.kex).to.deep.equal(['curve25519-sha256']);
      expect(p.kexInit!.compS2C).to.deep.equal(['none']);
      expect(p.kexInit!.langC2S).to.deep.equal([]);
    } finally {
      s.close();
    }
  });

  it('rejects a first packet that is not SSH_MSG_KEXINIT', async () => {
    const s = await fakeServer([Buffer.from('SSH-2.0-Fake\r\n'), packet(new Uint8Array([21]))]);
    try {
      const err = await probe('127.0.0.1', s.port, { readKexInit: true }).then(() => undefined, (e: unknown) => e);
      expect((err as Error).message).to.match(/not SSH_MSG_KEXINIT/);
    } finally {
      s.close();
    }
  });

  it('bounds what it reads: oversized packet_length, short padding, endless pre-banner lines, silence', async () => {
    const huge = Buffer.alloc(5); huge.writeUInt32BE(0x7fffffff, 0);
    const shortPad = packet(kexInitPayload(), 3);
    const chatter = Buffer.from('x\r\n'.repeat(100));
    // the silent case needs the timeout; the others must fail on content long before theirs
    for (const [bytes, re, timeoutMs] of [[Buffer.concat([Buffer.from('SSH-2.0-F\r\n'), huge]), /packet_length/, 10_000], [Buffer.concat([Buffer.from('SSH-2.0-F\r\n'), shortPad]), /padding_length/, 10_000], [chatter, /lines before/, 10_000], [Buffer.alloc(0), /no banner/, 300]] as const) {
      const s = await fakeServer(bytes);
      try {
        const err = await probe('127.0.0.1', s.port, { readKexInit: true, timeoutMs }).then(() => undefined, (e: unknown) => e);
        expect((err as Error).message).to.match(re);
      } finally {
        s.close();
      }
    }
  });

  it('decodes a KEXINIT payload and names the field on truncation', () => {
    const p = kexInitPayload();
    expect(decodeKexInitPayload(p).hostKey).to.deep.equal(['ssh-ed25519']);
    expect(() => decodeKexInitPayload(p.subarray(0, 30))).to.throw(/offset/);
  });

  it('takes the software version from a banner', () => {
    expect(versionFromBanner('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10')).to.equal('OpenSSH_9.2p1');
    expect(versionFromBanner('SSH-2.0-dropbear_2022.83')).to.equal('dropbear_2022.83');
  });
});

describe('target tcp://host:port', () => {
  it('parses addresses and rejects bad ones with the expected form', () => {
    expect(parseTcpUrl('tcp://127.0.0.1:2222')).to.deep.equal({ host: '127.0.0.1', port: 2222 });
    expect(parseTcpUrl('tcp://[::1]:22')).to.deep.equal({ host: '::1', port: 22 });
    for (const bad of ['tcp://127.0.0.1', 'tcp://h:0', 'tcp://h:70000', 'ssh://h:22']) {
      expect(() => parseTcpUrl(bad)).to.throw(/expected tcp:\/\/HOST:PORT/);
    }
  });

  it('reads the banner of an already-running server and stops as a no-op', async () => {
    const s = await fakeServer([Buffer.from('SSH-2.0-Fake_2.0\r\n'), packet(kexInitPayload())]);
    try {
      const t = await tcpTarget(`tcp://127.0.0.1:${s.port}`, { user: 'u', password: 'p' }).start();
      expect(t.version).to.equal('Fake_2.0');
      expect(t.credentials).to.deep.equal({ user: 'u', password: 'p' });
      await t.stop();
    } finally {
      s.close();
    }
  });

  it('a closed port is a clear error, and options it cannot apply are refused', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const err = await tcpTarget(`tcp://127.0.0.1:${port}`).start().then(() => undefined, (e: unknown) => e);
    expect(isPeerError(err, 'startup-failed'), String(err)).to.equal(true);
    expect((err as Error).message).to.match(/is the server running\?/);
    const err2 = await tcpTarget(`tcp://127.0.0.1:${port}`).start({ algorithms: { kex: ['x'] } }).then(() => undefined, (e: unknown) => e);
    expect(isPeerError(err2, 'unsupported-option')).to.equal(true);
  });
});
