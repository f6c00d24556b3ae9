/**
 * The decoded fields that matter, one short line per message, for the ladder diagrams: a table of small handlers
 * keyed by RFC message name (field names as impl/messages defines them). Evidence fields are JSON cut inside their
 * values (harness/scenario/evidence.ts); older reports may hold JSON cut mid-text, which shows as raw text.
 */
import { disconnectReasonName } from '../../impl/errors.js';

type Fields = Readonly<Record<string, unknown>>;
type Summarizer = (f: Fields) => string;

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
const quoted = (v: unknown, max = 40): string => {
  const s = str(v);
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
};
/** The first `max` names of a name-list, then how many more (evidence may have cut the list: `…(+N)`). */
const list = (v: unknown, max = 2): string => {
  if (!Array.isArray(v)) return str(v);
  const names = v.map(String);
  const cut = names.find((x) => x.startsWith('…(+'));
  const real = names.filter((x) => !x.startsWith('…(+'));
  const more = real.length - Math.min(max, real.length) + (cut ? Number(/\d+/.exec(cut)?.[0] ?? 0) : 0);
  return `${real.slice(0, max).join(', ')}${more > 0 ? ` +${more}` : ''}`;
};

/** Byte length of a hex field as the JSONL formatter writes it (`hex…(+N bytes)` when cut). */
export function hexBytes(v: unknown): number {
  const s = str(v);
  const m = /^([0-9a-f]*)(?:…\(\+(\d+) bytes\))?$/.exec(s);
  if (!m) return 0;
  return m[1]!.length / 2 + Number(m[2] ?? 0);
}

/** The algorithm name an SSH key or signature blob starts with (RFC 4253 §6.6: string format-identifier). */
function blobType(v: unknown): string {
  const s = str(v);
  if (s.length < 8) return '?';
  const len = parseInt(s.slice(0, 8), 16);
  const hex = s.slice(8, 8 + len * 2);
  return hex.length === len * 2 && len > 0 && len < 64 ? Buffer.from(hex, 'hex').toString('latin1') : '?';
}

const kexInit: Summarizer = (f) => {
  const kex = Array.isArray(f['kexAlgorithms']) ? (f['kexAlgorithms'] as unknown[]).map(String) : [];
  const real = kex.filter((k) => !/^(ext-info-|kex-strict-)/.test(k)); // a cut list keeps its `…(+N)` marker
  const flags = [kex.some((k) => k.startsWith('kex-strict-')) ? 'strict-kex' : '', kex.some((k) => k.startsWith('ext-info-')) ? 'ext-info' : '',
    f['firstKexPacketFollows'] === true ? 'first_kex_packet_follows' : ''].filter(Boolean);
  return `kex ${list(real, 1)} · cipher ${list(f['encryptionC2S'], 1)}${flags.length ? ` · ${flags.join(' ')}` : ''}`;
};

const SUMMARIES: Readonly<Record<string, Summarizer>> = {
  SSH_MSG_KEXINIT: kexInit,
  SSH_MSG_KEX_ECDH_INIT: (f) => `Q_C ${hexBytes(f['publicKey'])} bytes`,
  SSH_MSG_KEX_ECDH_REPLY: (f) => `host key ${blobType(f['hostKey'])} · Q_S ${hexBytes(f['publicKey'])} bytes · sig ${blobType(f['signature'])}`,
  SSH_MSG_KEXDH_INIT: (f) => `e ${Math.ceil((str(f['e']).replace(/^0x/, '').length) / 2)} bytes`,
  SSH_MSG_KEXDH_REPLY: (f) => `host key ${blobType(f['hostKey'])} · sig ${blobType(f['signature'])}`,
  SSH_MSG_KEX_DH_GEX_REQUEST: (f) => `min ${str(f['min'])} · n ${str(f['n'])} · max ${str(f['max'])}`,
  SSH_MSG_KEX_DH_GEX_REQUEST_OLD: (f) => `n ${str(f['n'])}`,
  SSH_MSG_KEX_DH_GEX_REPLY: (f) => `host key ${blobType(f['hostKey'])} · sig ${blobType(f['signature'])}`,
  SSH_MSG_DISCONNECT: (f) => `${disconnectReasonName(Number(f['reason']))} (${str(f['reason'])})${str(f['description']) ? ` ${quoted(f['description'])}` : ''}`,
  SSH_MSG_IGNORE: (f) => `${hexBytes(f['data'])} bytes`,
  SSH_MSG_UNIMPLEMENTED: (f) => `seq ${str(f['seq'])}`,
  SSH_MSG_DEBUG: (f) => quoted(f['message']),
  SSH_MSG_SERVICE_REQUEST: (f) => str(f['service']),
  SSH_MSG_SERVICE_ACCEPT: (f) => str(f['service']),
  SSH_MSG_EXT_INFO: (f) => (Array.isArray(f['extensions']) ? (f['extensions'] as { name?: string }[]).map((e) => e.name ?? '…').join(', ') : ''),
  SSH_MSG_USERAUTH_REQUEST: (f) => `${quoted(f['user'], 24)} · ${str(f['method'])} · ${str(f['service'])}`,
  SSH_MSG_USERAUTH_FAILURE: (f) => `can continue: ${list(f['methods'], 4) || '(none)'}${f['partialSuccess'] === true ? ' · partial success' : ''}`,
  SSH_MSG_USERAUTH_BANNER: (f) => quoted(f['message']),
  SSH_MSG_USERAUTH_PK_OK: (f) => str(f['algorithm']),
  SSH_MSG_USERAUTH_INFO_REQUEST: (f) => `${Array.isArray(f['prompts']) ? (f['prompts'] as unknown[]).length : 0} prompt(s)`,
  SSH_MSG_GLOBAL_REQUEST: (f) => `${str(f['name'])}${f['wantReply'] === true ? ' · want reply' : ''}`,
  SSH_MSG_CHANNEL_OPEN: (f) => `${str(f['channelType'])} · sender ${str(f['senderChannel'])} · window ${str(f['initialWindowSize'])}`,
  SSH_MSG_CHANNEL_OPEN_CONFIRMATION: (f) => `channel ${str(f['recipientChannel'])} ↔ ${str(f['senderChannel'])} · window ${str(f['initialWindowSize'])}`,
  SSH_MSG_CHANNEL_OPEN_FAILURE: (f) => `channel ${str(f['recipientChannel'])} · reason ${str(f['reason'])}${str(f['description']) ? ` ${quoted(f['description'])}` : ''}`,
  SSH_MSG_CHANNEL_WINDOW_ADJUST: (f) => `channel ${str(f['recipientChannel'])} · +${str(f['bytesToAdd'])}`,
  SSH_MSG_CHANNEL_DATA: (f) => `channel ${str(f['recipientChannel'])} · ${hexBytes(f['data'])} bytes`,
  SSH_MSG_CHANNEL_EXTENDED_DATA: (f) => `channel ${str(f['recipientChannel'])} · type ${str(f['dataTypeCode'])} · ${hexBytes(f['data'])} bytes`,
  SSH_MSG_CHANNEL_REQUEST: (f) => `channel ${str(f['recipientChannel'])} · ${str(f['requestType'])}${f['wantReply'] === true ? ' · want reply' : ''}`,
};

const channelOnly: Summarizer = (f) => `channel ${str(f['recipientChannel'])}`;
for (const n of ['SSH_MSG_CHANNEL_EOF', 'SSH_MSG_CHANNEL_CLOSE', 'SSH_MSG_CHANNEL_SUCCESS', 'SSH_MSG_CHANNEL_FAILURE']) (SUMMARIES as Record<string, Summarizer>)[n] = channelOnly;

/** Any other message: its first scalar fields, `name=value`. */
const generic: Summarizer = (f) => Object.entries(f).filter(([, v]) => v === null || typeof v !== 'object').slice(0, 3)
  .map(([k, v]) => `${k}=${typeof v === 'string' && /^[0-9a-f]{16,}/.test(v) ? `${hexBytes(v)} bytes` : quoted(v, 24).replace(/^"(.*)"$/, '$1')}`).join(' · ');

/** One line for a message's evidence fields (JSON text, or `undecodable: …`); at most `max` characters. */
export function fieldSummary(name: string, fields: string | undefined, max = 96): string {
  if (!fields) return '';
  let out: string;
  if (fields.startsWith('undecodable:')) out = fields;
  else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fields);
    } catch {
      parsed = undefined;
    }
    out = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (SUMMARIES[name] ?? generic)(parsed as Fields) : fields;
  }
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}
