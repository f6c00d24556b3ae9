/**
 * Deliberately broken servers (issue 7, "finding power"): our own reference server with one fault each,
 * built only through the engine's deviation hooks (impl/transport/testing.ts). The conformance suite must
 * flag every one and pass the unmodified server; `ssh-harness run --target self:<variant>` runs one.
 */
import { publicKeySignedData } from '../../impl/auth/signed-data.js';
import type { PrivateKey } from '../../impl/crypto/types.js';
import { DisconnectReason } from '../../impl/errors.js';
import { decodeMessage, encodeMessage } from '../../impl/messages/index.js';
import type { EngineTesting } from '../../impl/transport/testing.js';

/** What a variant may know about its server (it is ours: it holds the test user's key). */
export interface VariantEnv {
  readonly userKey?: PrivateKey;
}

export interface ServerVariant {
  readonly name: string;
  /** The fault, in one sentence, with the rule it breaks. */
  readonly description: string;
  /** Checks (id globs) expected to flag it: the fast CI test runs only these; `run --score` runs everything. */
  readonly catchers: readonly string[];
  /** Installs the fault on one connection's engine, before anything is sent. */
  install(t: EngineTesting, env: VariantEnv): void;
}

const STRICT_KEX_S = 'kex-strict-s-v00@openssh.com';

function decode(payload: Uint8Array): ReturnType<typeof decodeMessage> | undefined {
  try { return decodeMessage(payload); } catch { return undefined; }
}

/** Inflates the first CHANNEL_DATA the server sends to `size(open)` bytes, where `open` is what the client asked for. */
function inflateChannelData(t: EngineTesting, size: (o: { window: number; maxPacket: number }) => number): void {
  const opens = new Map<number, { window: number; maxPacket: number }>();
  t.rewriteInbound((p) => {
    const m = p[0] === 90 ? decode(p) : undefined;
    if (m?.type === 'SSH_MSG_CHANNEL_OPEN') opens.set(m.senderChannel, { window: m.initialWindowSize, maxPacket: m.maximumPacketSize });
    return p;
  });
  let done = false;
  t.rewriteOutbound((p) => {
    if (done || p[0] !== 94) return p;
    const m = decode(p);
    if (m?.type !== 'SSH_MSG_CHANNEL_DATA') return p;
    const o = opens.get(m.recipientChannel);
    if (!o) return p;
    done = true;
    const n = Math.min(size(o), 1 << 20);
    const data = new Uint8Array(Math.max(n, m.data.length)).fill(0x78);
    data.set(m.data);
    return encodeMessage({ ...m, data });
  });
}

export const VARIANTS: readonly ServerVariant[] = [
  {
    name: 'ignore-bad-mac',
    catchers: ['bpp.bad-mac.*', 'bpp.wrong-sequence-number'],
    description: 'drops packets whose MAC fails and carries on, instead of ending the connection (RFC 4253 §6.4)',
    install: (t) => t.relax({ ignoreBadMac: true }),
  },
  {
    name: 'accept-before-newkeys',
    catchers: ['kex.before-newkeys.*', 'strict-kex.*-during-kex'],
    description: 'processes service messages before the key exchange has finished (RFC 4253 §7.1, §10)',
    install: (t) => t.relax({ skipStateChecks: true }),
  },
  {
    name: 'no-strict-kex',
    catchers: ['strict-kex.offered', 'security.terrapin-prefix-truncation'],
    description: 'does not offer kex-strict-s-v00@openssh.com, so it stays open to prefix truncation (CVE-2023-48795)',
    install: (t) => t.setKexInitOverride((k) => ({ ...k, kexAlgorithms: k.kexAlgorithms.filter((n) => n !== STRICT_KEX_S) })),
  },
  {
    name: 'window-overflow',
    catchers: ['conn.window-respected', 'conn.exec-echo'],
    description: 'sends more channel data than the client\'s window allows (RFC 4254 §5.2)',
    install: (t) => inflateChannelData(t, (o) => o.window + 100),
  },
  {
    name: 'max-packet-overflow',
    catchers: ['conn.max-packet-respected'],
    description: 'sends a CHANNEL_DATA larger than the client\'s maximum packet size (RFC 4254 §5.2)',
    install: (t) => inflateChannelData(t, (o) => Math.min(o.maxPacket + 100, o.window)),
  },
  {
    name: 'wrong-disconnect-reason',
    catchers: ['*-reason'],
    description: 'sends SSH_MSG_DISCONNECT with a reason code that does not match the cause (RFC 4250 §4.2.2, RFC 4253 §11.1)',
    install: (t) => t.rewriteOutbound((p) => {
      const m = p[0] === 1 ? decode(p) : undefined;
      if (m?.type !== 'SSH_MSG_DISCONNECT') return p;
      return encodeMessage({ ...m, reason: m.reason === DisconnectReason.BY_APPLICATION ? DisconnectReason.PROTOCOL_ERROR : DisconnectReason.BY_APPLICATION });
    }),
  },
  {
    name: 'auth-any-service',
    catchers: ['auth.unknown-service'],
    description: 'authenticates requests for services it does not provide as if they named ssh-connection (RFC 4252 §5)',
    install: (t) => t.rewriteInbound((p) => {
      const m = p[0] === 50 ? decode(p) : undefined;
      if (m?.type !== 'SSH_MSG_USERAUTH_REQUEST' || m.service === 'ssh-connection' || m.method === 'publickey') return p;
      return encodeMessage({ ...m, service: 'ssh-connection' });
    }),
  },
  {
    name: 'skip-signature-check',
    catchers: ['auth.publickey-*'],
    description: 'accepts a publickey authentication whatever the signature (RFC 4252 §7: the server MUST check it)',
    install: (t, env) => t.rewriteInbound((p) => {
      const key = env.userKey;
      const d = p[0] === 50 ? decode(p) : undefined;
      const sid = t.inspect().sessionId;
      if (!key || !sid || d?.type !== 'SSH_MSG_USERAUTH_REQUEST' || d.method !== 'publickey') return p;
      const m = d as Extract<typeof d, { hasSignature: boolean }>;
      if (!m.hasSignature) return p;
      if (Buffer.compare(Buffer.from(m.key), Buffer.from(key.publicKey.blob)) !== 0 || !key.algorithms.includes(m.algorithm)) return p;
      // re-sign what the client sent with the key we hold: whatever signature came in now "verifies"
      const signature = key.sign(m.algorithm, publicKeySignedData(sid, m.user, m.service, m.algorithm, m.key));
      return encodeMessage({ ...m, signature });
    }),
  },
  {
    name: 'no-unimplemented',
    catchers: ['robustness.unknown-message.during-auth.*'],
    description: 'never answers unknown messages with SSH_MSG_UNIMPLEMENTED (RFC 4253 §11.4)',
    install: (t) => t.rewriteOutbound((p) => (p[0] === 3 ? undefined : p)),
  },
  {
    name: 'wrong-unimplemented-seq',
    catchers: ['robustness.unknown-message.during-auth.*'],
    description: 'answers SSH_MSG_UNIMPLEMENTED with the wrong packet sequence number (RFC 4253 §11.4)',
    install: (t) => t.rewriteOutbound((p) => {
      const m = p[0] === 3 ? decode(p) : undefined;
      return m?.type === 'SSH_MSG_UNIMPLEMENTED' ? encodeMessage({ ...m, seq: (m.seq + 1) >>> 0 }) : p;
    }),
  },
  {
    name: 'none-auth-succeeds',
    catchers: ['auth.none-*'],
    description: 'answers the "none" method with SSH_MSG_USERAUTH_SUCCESS (RFC 4252 §5.2: no success before the required methods)',
    install: (t) => {
      let lastMethod = '';
      t.rewriteInbound((p) => {
        const m = p[0] === 50 ? decode(p) : undefined;
        if (m?.type === 'SSH_MSG_USERAUTH_REQUEST') lastMethod = m.method;
        return p;
      });
      t.rewriteOutbound((p) => (p[0] === 51 && lastMethod === 'none' ? Uint8Array.of(52) : p));
    },
  },
  {
    name: 'bad-host-key-signature',
    catchers: ['kex.hostkey.*'],
    description: 'signs the exchange hash wrongly, so it does not prove possession of its host key (RFC 4253 §8)',
    install: (t) => t.rewriteOutbound((p) => {
      if (p[0] !== 31) return p;
      let m;
      try { m = decodeMessage(p, { kex: 'ecdh' }); } catch { return p; }
      if (m.type !== 'SSH_MSG_KEX_ECDH_REPLY') return p;
      const signature = Uint8Array.from(m.signature);
      signature[signature.length - 1]! ^= 0x01;
      return encodeMessage({ ...m, signature });
    }),
  },
  {
    name: 'channel-id-mixup',
    catchers: ['conn.session-open'],
    description: 'confirms a channel with a recipient channel number the client never sent (RFC 4254 §5.1)',
    install: (t) => t.rewriteOutbound((p) => {
      const m = p[0] === 91 ? decode(p) : undefined;
      return m?.type === 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION' ? encodeMessage({ ...m, recipientChannel: (m.recipientChannel + 1) >>> 0 }) : p;
    }),
  },
];

export function variantByName(name: string): ServerVariant | undefined {
  return VARIANTS.find((v) => v.name === name);
}
