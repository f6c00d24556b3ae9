/**
 * Abstract inputs → concrete messages, built with the connection's current keys. Each input is one small
 * handler; an alphabet file picks which ones it learns over. A handler either sends (and the mapper then
 * collects the peer's replies) or answers locally without sending (the channel bounds, so that the
 * model stays finite: at most one channel at a time).
 */
import { randomBytes } from 'node:crypto';
import { publicKeySignedData } from '../../../impl/auth/signed-data.js';
import type { PrivateKey } from '../../../impl/crypto/types.js';
import { MessageId } from '../../../impl/messages/index.js';
import { Writer } from '../../../impl/wire/writer.js';
import type { FuzzCredentials } from '../../fuzz/client.js';
import type { LearnSession } from './session.js';

/** What an input handler may use besides the connection. */
export interface InputContext {
  readonly credentials: FuzzCredentials;
  /** A key the peer does not know, for credentials without one (publickey inputs then test an unknown key). */
  readonly spareKey: PrivateKey;
  /** Wait until `until` holds or the connection ends, at most `ms` (default 10 s) (a composite input's inner steps). */
  settle(until: () => boolean, ms?: number): Promise<void>;
}

export interface InputSpec {
  readonly summary: string;
  /** The rule the input exercises. */
  readonly spec: string;
  /** Sends; returns a local output instead when nothing was sent. */
  run(s: LearnSession, cx: InputContext): Promise<string | void> | string | void;
}

/** RFC 4253 §11.4: a message number no one assigned (the probe uses another one). */
export const UNKNOWN_ID = 16;
const WINDOW = 1 << 20;
const MAX_PACKET = 32768;

/** Re-sends the last payload we sent with this number, or builds a fresh one. */
function resend(s: LearnSession, id: number, fresh: () => Uint8Array): void {
  s.sendRaw(s.lastSent.get(id) ?? fresh());
}

function userauth(s: LearnSession, cx: InputContext, method: 'none' | 'password-ok' | 'password-bad' | 'publickey-ok' | 'publickey-bad'): void {
  const user = cx.credentials.user;
  const service = 'ssh-connection';
  if (method === 'none') { s.sendRaw({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service, method: 'none' }); return; }
  if (method === 'password-ok' || method === 'password-bad') {
    const pw = cx.credentials.password ?? 'password';
    s.sendRaw({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service, method: 'password', changePassword: false, password: method === 'password-ok' ? pw : `wrong-${pw}` });
    return;
  }
  // RFC 4252 §7: a signed request; "bad" signs the right fields over a wrong session identifier
  const key = cx.credentials.privateKey ?? cx.spareKey;
  const algorithm = key.algorithms[0]!;
  const sid = s.engine.sessionId ?? new Uint8Array(32);
  const signed = method === 'publickey-ok' ? sid : new Uint8Array(sid.length);
  const data = publicKeySignedData(signed, user, service, algorithm, key.publicKey.blob);
  s.sendRaw({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service, method: 'publickey', hasSignature: true, algorithm, key: key.publicKey.blob, signature: key.sign(algorithm, data) });
}

function channelRequest(s: LearnSession, requestType: string, data: Uint8Array): string | void {
  const c = s.channel;
  if (!c || c.remote === undefined) return 'CH_NONE';
  s.sendRaw({ type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: c.remote, requestType, wantReply: true, data });
}

export const INPUTS: { readonly [name: string]: InputSpec } = {
  KEXINIT: {
    summary: 'our KEXINIT: the held one of the running exchange, a new exchange after one finished, else a copy of the last one',
    spec: 'RFC 4253 §7.1, §9',
    run(s) {
      if (s.release(MessageId.KEXINIT)) return;
      const st = s.engine.testing.inspect();
      if (st.phase === 'established' && !st.kexInProgress) { s.engine.rekey(); if (s.release(MessageId.KEXINIT)) return; }
      resend(s, MessageId.KEXINIT, () => { throw new Error('no KEXINIT to resend'); });
    },
  },
  KEX_ECDH_INIT: {
    summary: "the kex method's first client message (KEX_ECDH_INIT, or KEXDH_INIT for a DH method) of the running exchange, else a copy",
    spec: 'RFC 5656 §4, RFC 4253 §8',
    run(s) {
      if (s.release(30)) return;
      // no exchange of ours computed one: a fresh X25519-sized public value
      resend(s, 30, () => new Writer().byte(30).string(randomBytes(32)).finish());
    },
  },
  NEWKEYS: {
    summary: 'our NEWKEYS (switching our outbound keys) when the exchange produced one, else a bare NEWKEYS under the current keys',
    spec: 'RFC 4253 §7.3',
    run(s) {
      if (s.release(MessageId.NEWKEYS)) return;
      s.sendRaw(Uint8Array.of(MessageId.NEWKEYS));
    },
  },
  IGNORE: { summary: 'SSH_MSG_IGNORE', spec: 'RFC 4253 §11.2', run: (s) => s.sendRaw({ type: 'SSH_MSG_IGNORE', data: new Uint8Array(0) }) },
  DEBUG: { summary: 'SSH_MSG_DEBUG', spec: 'RFC 4253 §11.3', run: (s) => s.sendRaw({ type: 'SSH_MSG_DEBUG', alwaysDisplay: false, message: 'learn', language: '' }) },
  UNIMPLEMENTED: { summary: 'SSH_MSG_UNIMPLEMENTED (sequence number 0)', spec: 'RFC 4253 §11.4', run: (s) => s.sendRaw({ type: 'SSH_MSG_UNIMPLEMENTED', seq: 0 }) },
  UNKNOWN: { summary: `message number ${UNKNOWN_ID}, which no RFC assigns`, spec: 'RFC 4253 §11.4', run: (s) => s.sendRaw(Uint8Array.of(UNKNOWN_ID)) },
  SERVICE_REQUEST_AUTH: { summary: 'SERVICE_REQUEST ssh-userauth', spec: 'RFC 4253 §10', run: (s) => s.sendRaw({ type: 'SSH_MSG_SERVICE_REQUEST', service: 'ssh-userauth' }) },
  USERAUTH_NONE: { summary: 'USERAUTH_REQUEST method none', spec: 'RFC 4252 §5.2', run: (s, cx) => userauth(s, cx, 'none') },
  USERAUTH_PW_OK: { summary: 'USERAUTH_REQUEST password, right password', spec: 'RFC 4252 §8', run: (s, cx) => userauth(s, cx, 'password-ok') },
  USERAUTH_PW_BAD: { summary: 'USERAUTH_REQUEST password, wrong password', spec: 'RFC 4252 §8', run: (s, cx) => userauth(s, cx, 'password-bad') },
  USERAUTH_PK_OK: { summary: 'USERAUTH_REQUEST publickey, signed by the authorized key', spec: 'RFC 4252 §7', run: (s, cx) => userauth(s, cx, 'publickey-ok') },
  USERAUTH_PK_BAD: { summary: 'USERAUTH_REQUEST publickey, signature over a wrong session id', spec: 'RFC 4252 §7', run: (s, cx) => userauth(s, cx, 'publickey-bad') },
  CHANNEL_OPEN: {
    summary: 'CHANNEL_OPEN session (local CH_MAX when one is already open: one channel at a time)',
    spec: 'RFC 4254 §5.1, §6.1',
    run(s) {
      if (s.channel) return 'CH_MAX';
      const local = s.client.channels.length;
      s.client.channels.push({ local, remote: undefined, state: 'opening', sentClose: false, window: WINDOW, owedReplies: 1 });
      s.sendRaw({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: 'session', senderChannel: local, initialWindowSize: WINDOW, maximumPacketSize: MAX_PACKET, data: new Uint8Array(0) });
    },
  },
  CHANNEL_REQUEST_PTY: {
    summary: 'CHANNEL_REQUEST pty-req (vt100 80x24), want reply (local CH_NONE without a channel)',
    spec: 'RFC 4254 §6.2',
    run: (s) => channelRequest(s, 'pty-req', new Writer().string('vt100').uint32(80).uint32(24).uint32(0).uint32(0).string(Uint8Array.of(0)).finish()),
  },
  CHANNEL_REQUEST_EXEC: {
    summary: 'CHANNEL_REQUEST exec "cat" (runs until EOF, so its end is not a race), want reply (local CH_NONE without a channel)',
    spec: 'RFC 4254 §6.5',
    run: (s) => channelRequest(s, 'exec', new Writer().string('cat').finish()),
  },
  CHANNEL_CLOSE: {
    summary: 'CHANNEL_CLOSE of our channel, waiting (≤ 2 s) for the peer\'s CLOSE (local CH_NONE without a channel)',
    spec: 'RFC 4254 §5.3',
    async run(s, cx) {
      const c = s.client.channels.find((x) => (x.state === 'open' || x.state === 'opening') && !x.sentClose);
      if (!c || c.remote === undefined) return 'CH_NONE';
      c.sentClose = true;
      s.sendRaw({ type: 'SSH_MSG_CHANNEL_CLOSE', recipientChannel: c.remote });
      // a peer running a command answers once the command is gone (exit-signal, CLOSE): later than a probe's
      // UNIMPLEMENTED (sshd), so the answer is awaited here rather than left to the next input
      await cx.settle(() => c.state === 'closed', 2000);
    },
  },
  GLOBAL_REQUEST: {
    summary: 'GLOBAL_REQUEST keepalive@openssh.com, want reply',
    spec: 'RFC 4254 §4',
    run: (s) => s.sendRaw({ type: 'SSH_MSG_GLOBAL_REQUEST', name: 'keepalive@openssh.com', wantReply: true, data: new Uint8Array(0) }),
  },
  REKEY: {
    summary: 'a whole key re-exchange by the reference (KEXINIT, method messages, NEWKEYS as the exchange needs them)',
    spec: 'RFC 4253 §9',
    async run(s, cx) {
      const t = s.engine.testing;
      const before = s.client.kexCount;
      t.holdKexMessages(false);
      try {
        const st = t.inspect();
        if (st.phase === 'established' && !st.kexInProgress) s.engine.rekey();
        // done when the exchange completes, or the peer refuses it (UNIMPLEMENTED for our KEXINIT, or a disconnect)
        await cx.settle(() => s.client.kexCount > before || s.receivedIds().includes(MessageId.UNIMPLEMENTED));
      } finally {
        t.holdKexMessages(true);
      }
    },
  },
};

export function inputNames(): string[] {
  return Object.keys(INPUTS);
}
