import { expect } from 'chai';
import { encodeMessage } from '../../impl/messages/index.js';
import type { PacketRecord } from '../../impl/transport/types.js';
import { PROBE_ID, WireLog, type LogState } from './wire-log.js';

const st: LogState = { kexDone: true, kexInProgress: false, authenticated: false, credentialsPending: false, cipher: 'chacha20-poly1305@openssh.com' };
const out = (seq: number, payload: Uint8Array, deviation?: string): PacketRecord => ({ direction: 'out', seq, payload, ...(deviation ? { deviation } : {}) });
const inn = (seq: number, payload: Uint8Array): PacketRecord => ({ direction: 'in', seq, payload });
const unimpl = (seq: number) => encodeMessage({ type: 'SSH_MSG_UNIMPLEMENTED', seq });
const probe = Uint8Array.of(PROBE_ID);

describe('fuzz wire log (what the oracles see)', () => {
  it('a probe answered with its own sequence number is answered', () => {
    const l = new WireLog();
    l.record(out(7, probe, 'probe'), st);
    expect(l.unansweredProbes).to.equal(1);
    l.record(inn(3, unimpl(7)), st);
    expect(l.unansweredProbes).to.equal(0);
    expect(l.pendingProbe).to.equal(undefined);
  });

  it('an UNIMPLEMENTED for an earlier packet of ours does not answer the probe; one with an unknown number is noted', () => {
    const l = new WireLog();
    l.record(out(4, encodeMessage({ type: 'SSH_MSG_NEWKEYS' }), 'fuzz'), st);
    l.record(out(5, probe, 'probe'), st);
    l.record(inn(1, unimpl(4)), st);
    expect(l.pendingProbe?.otherSeq).to.equal(undefined);
    l.record(inn(2, unimpl(0)), st);
    expect(l.pendingProbe?.otherSeq).to.equal(0); // RFC 4253 §11.4 says it should have been 5
    expect(l.unansweredProbes).to.equal(0);
  });

  it('an UNIMPLEMENTED naming our re-exchange KEXINIT is not a wrong answer to the probe (OpenSSH refuses rekeys before auth)', () => {
    const l = new WireLog();
    l.record(out(0, encodeMessage({ type: 'SSH_MSG_KEXINIT', cookie: new Uint8Array(16), kexAlgorithms: ['curve25519-sha256'], serverHostKeyAlgorithms: ['ssh-ed25519'], encryptionC2S: ['aes128-ctr'], encryptionS2C: ['aes128-ctr'], macC2S: ['hmac-sha2-256'], macS2C: ['hmac-sha2-256'], compressionC2S: ['none'], compressionS2C: ['none'], languagesC2S: [], languagesS2C: [], firstKexPacketFollows: false, reserved: 0 })), st);
    l.record(out(1, probe, 'probe'), st);
    l.record(inn(1, unimpl(0)), st);
    expect(l.pendingProbe?.otherSeq).to.equal(undefined);
    l.record(inn(2, unimpl(1)), st);
    expect(l.unansweredProbes).to.equal(0);
  });

  it('marks MAC corruption after the first kex (not on AES-GCM sequence offsets, whose nonce ignores it)', () => {
    const l = new WireLog();
    l.record(out(3, probe, 'corrupt seqOffset=1'), { ...st, cipher: 'aes128-gcm@openssh.com' });
    expect(l.sentCorrupt).to.equal(false);
    l.record(out(4, probe, 'corrupt mac=true'), { ...st, kexDone: false });
    expect(l.sentCorrupt).to.equal(false);
    l.record(out(5, probe, 'corrupt mac=true'), st);
    expect(l.sentCorrupt).to.equal(true);
    expect(l.corruptOrdinal).to.equal(3);
  });

  it('records foreign service requests before auth and what the peer accepted', () => {
    const l = new WireLog();
    l.record(out(1, encodeMessage({ type: 'SSH_MSG_SERVICE_REQUEST', service: 'ssh-userauth' })), st);
    l.record(out(2, encodeMessage({ type: 'SSH_MSG_SERVICE_REQUEST', service: 'ssh-connection' }), 'fuzz'), st);
    l.record(inn(1, encodeMessage({ type: 'SSH_MSG_SERVICE_ACCEPT', service: 'ssh-connection' })), st);
    expect(l.foreignServiceRequests.map((r) => r.name)).to.deep.equal(['ssh-connection']);
    expect(l.acceptedServices).to.deep.equal(['ssh-connection']);
  });

  it('a service request behind valid credentials still in flight is not one before auth (the peer may have logged us in)', () => {
    const l = new WireLog();
    l.record(out(3, encodeMessage({ type: 'SSH_MSG_SERVICE_REQUEST', service: 'none' }), 'fuzz'), { ...st, credentialsPending: true });
    expect(l.foreignServiceRequests).to.deep.equal([]);
  });

  it('a skipped request voids the replies it would have earned; resetCase forgets the case', () => {
    const l = new WireLog();
    l.record(out(-1, encodeMessage({ type: 'SSH_MSG_GLOBAL_REQUEST', name: 'x', wantReply: true, data: new Uint8Array(0) }), 'skipped'), st);
    expect(l.lostRequest).to.equal(true);
    l.record(out(1, probe, 'probe'), st);
    l.resetCase();
    expect([l.lostRequest, l.probes.length, l.sentSeqs.size]).to.deep.equal([false, 0, 0]);
  });
});
