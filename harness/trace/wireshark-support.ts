/**
 * What the Wiresharks in reach decrypt of our traces with our keylog: Debian 12's tshark 4.0.17 (the host's) and
 * Debian 13's 4.4.19 (image local/tshark:trixie). Measured, not assumed: tshark-judges.test.ts records every row
 * below and fails when a tshark decrypts more or less than written here. Used by the serve/exec notice for
 * `--pcap`/`--keylog` and by the table in README.md.
 *
 * `full`: every message of the session before a rekey decodes (service, userauth and channel data fields);
 * `partial`: some do; `none`: nothing after NEWKEYS.
 */
import { cipherAlgorithms, defaultAlgorithms } from '../../impl/crypto/registry.js';

export const TSHARK_VERSIONS = ['4.0', '4.4'] as const;
export type TsharkVersion = (typeof TSHARK_VERSIONS)[number];
export type Coverage = 'full' | 'partial' | 'none';
export type Support = Readonly<Record<TsharkVersion, Coverage>>;

const both = (c: Coverage): Support => ({ '4.0': c, '4.4': c });

/** By key exchange, with aes128-gcm and strict kex (the cipher both decrypt in full). */
export const KEX_SUPPORT: Readonly<Record<string, Support>> = {
  'curve25519-sha256': both('full'),
  'curve25519-sha256@libssh.org': both('full'),
  'diffie-hellman-group14-sha256': both('full'),
  'diffie-hellman-group16-sha512': both('full'),
  'diffie-hellman-group18-sha512': both('full'),
  'diffie-hellman-group14-sha1': both('full'),
  'diffie-hellman-group1-sha1': both('full'),
  // 4.0 does not follow the group exchange; 4.4 does, given the private key (keylog.ts writes that line last)
  'diffie-hellman-group-exchange-sha256': { '4.0': 'none', '4.4': 'full' },
  'diffie-hellman-group-exchange-sha1': { '4.0': 'none', '4.4': 'full' },
  // neither computes an ECDH secret on the NIST curves, nor uses our SHARED_SECRET line for them
  'ecdh-sha2-nistp256': both('none'),
  'ecdh-sha2-nistp384': both('none'),
  'ecdh-sha2-nistp521': both('none'),
  // post-quantum hybrids: neither, although the keylog carries K as a SHARED_SECRET line
  'mlkem768x25519-sha256': both('none'),
  'sntrup761x25519-sha512': both('none'),
  'sntrup761x25519-sha512@openssh.com': both('none'),
};

export interface CipherRow { readonly cipher: string; readonly mac?: string; readonly strictKex: boolean; readonly support: Support }

/**
 * By cipher and MAC, with curve25519-sha256. Under strict kex, 4.4 does not reset its sequence numbers at NEWKEYS
 * (OpenSSH PROTOCOL, "strict key exchange"): where the sequence number enters decryption (chacha20-poly1305's
 * nonce) or the MAC it checks, the first packets of each direction fail, as many as that direction sent in the key
 * exchange (3 here), until its count, which a failed packet does not advance, meets the real one. AES-GCM does not
 * use the sequence number. 4.0 knows no strict kex and checks no MAC.
 */
export const CIPHER_SUPPORT: readonly CipherRow[] = [
  { cipher: 'aes128-gcm@openssh.com', strictKex: true, support: both('full') },
  { cipher: 'aes256-gcm@openssh.com', strictKex: true, support: both('full') },
  { cipher: 'chacha20-poly1305@openssh.com', strictKex: true, support: { '4.0': 'none', '4.4': 'partial' } },
  { cipher: 'chacha20-poly1305@openssh.com', strictKex: false, support: both('full') },
  { cipher: 'aes128-ctr', mac: 'hmac-sha2-256', strictKex: true, support: { '4.0': 'full', '4.4': 'partial' } },
  { cipher: 'aes256-ctr', mac: 'hmac-sha2-256', strictKex: false, support: both('full') },
  { cipher: 'aes256-cbc', mac: 'hmac-sha2-256', strictKex: false, support: both('full') },
  { cipher: '3des-cbc', mac: 'hmac-sha2-256', strictKex: false, support: both('none') },
  // 4.4 checks only hmac-sha2-256 among the MACs; 4.0 skips any MAC of known length; neither reads -etm packets
  { cipher: 'aes128-ctr', mac: 'hmac-sha2-512', strictKex: false, support: { '4.0': 'full', '4.4': 'none' } },
  { cipher: 'aes128-ctr', mac: 'hmac-sha1', strictKex: false, support: { '4.0': 'full', '4.4': 'none' } },
  { cipher: 'aes128-ctr', mac: 'umac-64@openssh.com', strictKex: false, support: { '4.0': 'full', '4.4': 'none' } },
  { cipher: 'aes128-ctr', mac: 'hmac-sha2-256-etm@openssh.com', strictKex: false, support: both('none') },
  { cipher: 'aes128-ctr', mac: 'hmac-sha2-512-etm@openssh.com', strictKex: false, support: both('none') },
  { cipher: 'aes128-ctr', mac: 'umac-128-etm@openssh.com', strictKex: false, support: both('none') },
];

/** Key exchanges no Wireshark in reach decrypts (only `ssh-harness trace import --keylog` does). */
export function undecryptableKex(names: readonly string[]): string[] {
  return names.filter((k) => { const s = KEX_SUPPORT[k]; return !s || TSHARK_VERSIONS.every((v) => s[v] === 'none'); });
}

/**
 * The rule behind CIPHER_SUPPORT, for any cipher and MAC impl knows (the test checks it against every row):
 * AES-GCM both; chacha20-poly1305 both without strict kex, else 4.4 partly; AES-CTR/CBC with a non-etm MAC in 4.0,
 * in 4.4 only with hmac-sha2-256 (partly under strict kex); 3des-cbc and the -etm MACs neither.
 */
export function cipherSupport(cipher: string, mac: string | undefined, strictKex: boolean): Support {
  if (/^aes(128|256)-gcm@openssh\.com$/.test(cipher)) return both('full');
  if (cipher === 'chacha20-poly1305@openssh.com') return strictKex ? { '4.0': 'none', '4.4': 'partial' } : both('full');
  if (!/^aes(128|192|256)-(ctr|cbc)$/.test(cipher) || !mac || mac.includes('-etm@')) return both('none');
  return { '4.0': 'full', '4.4': mac === 'hmac-sha2-256' ? (strictKex ? 'partial' : 'full') : 'none' };
}

export interface AlgorithmLists {
  readonly kex?: readonly string[];
  readonly hostKey?: readonly string[];
  readonly cipher?: readonly string[];
  readonly mac?: readonly string[];
  readonly compression?: readonly string[];
}

const isAead = (c: string): boolean => cipherAlgorithms.get(c)?.aead ?? false;
const fullSomewhere = (s: Support): boolean => TSHARK_VERSIONS.some((v) => s[v] === 'full');

/** Known-good choices (both versions decrypt them in full): what the notice suggests for a kind that needs one. */
const DECRYPTABLE = { kex: 'curve25519-sha256', cipher: 'aes128-gcm@openssh.com', mac: 'hmac-sha2-256' } as const;

export interface OfferProblems {
  /** Offered key exchanges no Wireshark here decrypts: any of them may be negotiated (by a server, the client's order wins). */
  readonly kex: readonly string[];
  /** The first offered cipher (what our client gets, and OpenSSH's own first choice), when no Wireshark decrypts it in full. */
  readonly cipher?: string;
  /** The first offered MAC, when it goes with a non-AEAD first cipher and no Wireshark decrypts the pair. */
  readonly mac?: string;
  /** The `--algorithms` value to use instead: the user's kinds kept, each problem replaced by a known-good choice. */
  readonly suggestion: string;
}

/** What of an offer (the user's `--algorithms`, else the defaults) leaves a trace Wireshark cannot decrypt; strict kex assumed (our default). */
export function offerProblems(a: AlgorithmLists | undefined): OfferProblems {
  const kex = undecryptableKex(a?.kex ?? defaultAlgorithms.kex);
  const cipher = (a?.cipher ?? defaultAlgorithms.cipher)[0];
  const mac = (a?.mac ?? defaultAlgorithms.mac)[0];
  const cipherBad = cipher !== undefined && (isAead(cipher) ? !fullSomewhere(cipherSupport(cipher, undefined, true)) : !fullSomewhere(cipherSupport(cipher, DECRYPTABLE.mac, true)));
  const macBad = !cipherBad && cipher !== undefined && !isAead(cipher) && !fullSomewhere(cipherSupport(cipher, mac, true));
  const lists: [string, readonly string[] | undefined][] = [
    ['kex', kex.length ? [DECRYPTABLE.kex] : a?.kex], ['hostkey', a?.hostKey],
    ['cipher', cipherBad ? [DECRYPTABLE.cipher] : a?.cipher], ['mac', macBad ? [DECRYPTABLE.mac] : a?.mac], ['compression', a?.compression],
  ];
  return {
    kex,
    ...(cipherBad ? { cipher } : {}),
    ...(macBad ? { mac } : {}),
    suggestion: lists.filter(([, v]) => v && v.length).map(([k, v]) => `${k}=${v!.join(':')}`).join(','),
  };
}

/**
 * The one notice serve/exec print when `--pcap`/`--keylog` record with an offer that can give a session no
 * Wireshark here decrypts in full (the defaults do: mlkem768x25519-sha256 and chacha20-poly1305 come first),
 * naming the `--algorithms` that avoid it; undefined when there is nothing to say.
 */
export function traceDecryptionNotice(a: AlgorithmLists | undefined): string | undefined {
  const p = offerProblems(a);
  const what = [
    p.kex.length ? `a key exchange among ${p.kex.join(', ')}` : '',
    p.cipher ? `the cipher ${p.cipher} (under strict kex)` : '',
    p.mac ? `the MAC ${p.mac}` : '',
  ].filter(Boolean);
  if (!what.length) return undefined;
  return `ssh-harness: note: --pcap/--keylog: Wireshark (tshark ${TSHARK_VERSIONS.join(' and ')} checked) cannot decrypt a session that negotiates `
    + `${what.join(', or ')}, which this offer allows (\`ssh-harness trace import --keylog FILE\` decrypts it). `
    + `For a trace Wireshark decrypts, use --algorithms ${p.suggestion}\n`;
}
