import { expect } from 'chai';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { decodeMessage, encodeGlobalRequestData, TcpipForwardReply } from '../../impl/messages/index.js';
import { Writer } from '../../impl/wire/writer.js';
import { forwardRequest, grantedListener } from './forward.js';
import { forwardStepArb } from './arb/steps.js';
import { fromJson, toJson } from './value.js';
import { checkStep, CorpusFormatError } from './corpus.js';
import { CaseRun } from './executor.js';
import { useHostSshd } from './host-sshd-kit.js';
import type { Step } from './steps.js';

describe('fuzz: remote forwards used from outside (RFC 4254 §7.1-7.2, OpenSSH PROTOCOL §2.4)', () => {
  it('a granted tcpip-forward names the port the peer picked for port 0, else the one asked for', () => {
    const ask0 = forwardRequest('tcp', '');
    expect(ask0.name).to.equal('tcpip-forward');
    expect(grantedListener(ask0.name, ask0.data, TcpipForwardReply.encode({ port: 40123 }))).to.deep.equal({ kind: 'tcp', port: 40123 });
    const ask = encodeGlobalRequestData({ kind: 'tcpip-forward', address: '127.0.0.1', port: 2222 });
    expect(grantedListener('tcpip-forward', ask, new Uint8Array(0))).to.deep.equal({ kind: 'tcp', port: 2222 });
    const unix = forwardRequest('unix', '/tmp/x.sock');
    expect(grantedListener(unix.name, unix.data, new Uint8Array(0))).to.deep.equal({ kind: 'unix', path: '/tmp/x.sock' });
  });

  it('fuzzed requests and replies that do not parse grant nothing', () => {
    expect(grantedListener('tcpip-forward', Uint8Array.of(0, 0, 0, 9), new Uint8Array(0))).to.equal(undefined);
    expect(grantedListener('tcpip-forward', forwardRequest('tcp', '').data, Uint8Array.of(1))).to.equal(undefined);
    expect(grantedListener('streamlocal-forward@openssh.com', new Writer().string('relative.sock').finish(), new Uint8Array(0))).to.equal(undefined);
    expect(grantedListener('keepalive@openssh.com', new Uint8Array(0), new Uint8Array(0))).to.equal(undefined);
  });

  it('forward steps survive the corpus JSON round trip; malformed ones are a CorpusFormatError', () => {
    fc.assert(fc.property(forwardStepArb, (s) => {
      const back = fromJson(JSON.parse(JSON.stringify(toJson(s)))) as Step;
      checkStep('x.json', back, 0);
      expect(back).to.deep.equal(s);
    }), { numRuns: 100 });
    expect(() => checkStep('x.json', { op: 'forward', kind: 'udp', data: new Uint8Array(0), halfClose: false }, 0)).to.throw(CorpusFormatError);
    expect(() => checkStep('x.json', { op: 'forward', kind: 'tcp', halfClose: false }, 0)).to.throw(CorpusFormatError);
  });
});

describe('fuzz: forward steps against host OpenSSH sshd', function () {
  this.timeout(60_000);
  const sshd = useHostSshd();

  for (const kind of ['tcp', 'unix'] as const) {
    it(`${kind}: the peer listens, our outside connection becomes a channel to us carrying its bytes and EOF`, async () => {
      const link = await sshd().connect();
      link.client.log.traceEnabled = true;
      const run = new CaseRun(link, sshd());
      const data = Buffer.from(`hello through a ${kind} forward`);
      let path: string | undefined;
      try {
        expect(await run.reach('authenticated')).to.equal(true);
        await run.step({ op: 'forward', kind, data, halfClose: true });
        const c = link.client;
        expect(c.listeners).to.have.length(1);
        if (kind === 'unix') { path = c.socketPaths[0]!; expect(existsSync(path)).to.equal(true); }
        // the channel the peer opened for the connection is ours now (accepted), and carries what was written
        const fwd = c.channels.find((ch) => ch.state === 'open' || ch.peerEof);
        expect(fwd, 'accepted forwarded channel').to.not.equal(undefined);
        await link.settle(() => fwd!.peerEof === true, 5_000);
        const received = c.log.trace.filter((t) => t.dir === 'in' && t.payload[0] === 94).map((t) => decodeMessage(t.payload))
          .flatMap((m) => (m.type === 'SSH_MSG_CHANNEL_DATA' && m.recipientChannel === fwd!.local ? [Buffer.from(m.data)] : []));
        expect(Buffer.concat(received).toString()).to.equal(data.toString());
        expect(fwd!.peerEof).to.equal(true);
        const opened = c.log.trace.find((t) => t.dir === 'in' && t.payload[0] === 90);
        expect(opened && decodeMessage(opened.payload)).to.include({ channelType: kind === 'tcp' ? 'forwarded-tcpip' : 'forwarded-streamlocal@openssh.com' });
      } finally {
        link.close();
      }
      // the link removes the socket file the peer left behind
      if (path) expect(existsSync(path)).to.equal(false);
    });
  }
});
