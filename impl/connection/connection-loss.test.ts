/**
 * A connection that dies under an open channel, before the peer's EOF (RFC 4254 §5.3: only EOF says the data is
 * complete): the channel must not end as if complete. Its readable sides close without 'end' (pipeline() reports a
 * premature close), 'error' carries the connection's error to a listener and crashes no one without one, and
 * exec's collected result becomes an error instead of cut-off output. After the peer's EOF, a lost connection
 * changes nothing: what was received is complete.
 */
import { expect } from 'chai';
import * as net from 'node:net';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execCollect } from '../client/exec.js';
import { generateHostKey } from '../crypto/hostkey/index.js';
import { SSHError } from '../errors.js';
import { insecureAcceptAnyHostKey, Transport } from '../Transport.js';
import type { Channel } from './channel.js';
import { execLoopbackServer, type LoopbackServer } from './testing/loopback.js';

const hostKey = generateHostKey('ssh-ed25519');

describe('impl/connection: the connection is lost under an open channel', function () {
  this.timeout(20_000);
  let srv: LoopbackServer;
  before(async () => {
    srv = await execLoopbackServer([hostKey], (c, cmd) => {
      c.write('first part; ');
      if (cmd === 'complete') { c.end('the end'); void c.exit(0); }
      // 'partial': the rest never comes
    }, { auth: { failureDelayMs: 1 } });
  });
  after(async () => { await srv.close(); });

  /** A client on a TCP connection the test can cut, with `command` running and its first bytes received. */
  const started = async (command: string): Promise<{ t: Transport; wire: net.Socket; ch: Channel }> => {
    const wire = net.connect({ port: srv.port, host: '127.0.0.1' });
    wire.on('error', () => undefined);
    const t = new Transport(wire, { verifyHostKey: insecureAcceptAnyHostKey }); // a server of the test's own
    await t.connect({ username: 'alice', password: 'pw' });
    const ch = await t.openSession();
    ch.pause();
    await ch.exec(command);
    while (ch.readableLength === 0) await new Promise((r) => setTimeout(r, 5));
    return { t, wire, ch };
  };

  it('before EOF: no end, a premature close for pipeline(), the cause in channel.error and in an error listener', async () => {
    const { t, wire, ch } = await started('partial');
    const seen: string[] = [];
    ch.on('end', () => seen.push('end'));
    ch.on('error', (e) => seen.push(`error ${(e as SSHError).code}`));
    const sink = new PassThrough();
    sink.resume();
    const piped = pipeline(ch, sink).then(() => 'finished', (e: Error & { code?: string }) => e.code ?? e.message);
    wire.resetAndDestroy();
    expect(await piped).to.not.equal('finished');
    expect(seen).to.not.include('end');
    expect(seen.some((s) => s.startsWith('error'))).to.equal(true);
    expect(ch.error).to.be.instanceOf(SSHError);
    expect(ch.readableEnded).to.equal(false);
    expect(sink.writableEnded).to.equal(false); // a file behind the pipe would not be finished as if complete
    await t.close();
  });

  it('before EOF, with no error listener: the channel closes quietly (no crash), without end', async () => {
    const { t, wire, ch } = await started('partial');
    let ended = false;
    ch.on('end', () => { ended = true; });
    ch.resume();
    wire.destroy();
    await new Promise<void>((r) => ch.once('close', () => r()));
    expect(ended).to.equal(false);
    expect(ch.error).to.be.instanceOf(SSHError);
    await t.close();
  });

  it('exec collecting output: the lost connection is an error, not a short stdout', async () => {
    const wire = net.connect({ port: srv.port, host: '127.0.0.1' });
    wire.on('error', () => undefined);
    const t = new Transport(wire, { verifyHostKey: insecureAcceptAnyHostKey }); // a server of the test's own
    await t.connect({ username: 'alice', password: 'pw' });
    const result = execCollect(t, 'partial').then(() => 'returned', (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    wire.destroy();
    expect(await result).to.be.instanceOf(SSHError);
    await t.close();
  });

  it('after EOF: the data is complete; a lost connection still lets it end normally', async () => {
    const { t, wire, ch } = await started('complete');
    while (!(ch as unknown as { peerEof: boolean }).peerEof) await new Promise((r) => setTimeout(r, 5));
    wire.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const got: Buffer[] = [];
    ch.on('data', (d: Buffer) => got.push(d));
    const ended = new Promise<void>((r) => ch.once('end', () => r()));
    ch.resume();
    await ended;
    expect(Buffer.concat(got).toString()).to.equal('first part; the end');
    await t.close();
  });
});
