/**
 * What a peer implements, asked of the peer's own software (not a table of ours): `ssh -Q` for OpenSSH (inside
 * the image for the containers), paramiko's and AsyncSSH's algorithm registries, ssh2's SUPPORTED_* constants,
 * `dbclient -c help` / `-m help`. The matrix re-enables only what is implemented and reports the rest as
 * "not implemented by <peer>" with this source, instead of learning it by starting the peer once per name.
 * Peers with a fixed algorithm set (dropbear, tinyssh, plink) have none: their KEXINIT is the whole story.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { findBinary } from '../../targets/local-tools.js';
import { SYSTEM_PYTHON } from '../../targets/python-servers.js';
import { builtArtifact, GO_PEER } from '../../targets/compiled-peers.js';
import { KINDS, type Kind, type Lists } from './types.js';

const run = promisify(execFile);
const QUERY_TIMEOUT_MS = 30_000;

export interface Capabilities {
  /** Per kind; a kind left out is not queryable (then nothing is assumed). */
  readonly lists: Partial<Lists>;
  /** How it was asked, for the report. */
  readonly source: string;
}

const OPENSSH_QUERIES: ReadonlyArray<[Kind, string]> = [['kex', 'kex'], ['hostKey', 'key-sig'], ['cipher', 'cipher'], ['mac', 'mac'], ['compression', 'compression']];

/** `ssh -Q` output, one section per query separated by `==`. */
function parseSections(out: string): Partial<Lists> {
  const parts = out.split(/^==\s*$/m).slice(1);
  const lists: Partial<Record<Kind, string[]>> = {};
  OPENSSH_QUERIES.forEach(([kind], i) => {
    const names = (parts[i] ?? '').split(/\s+/).filter(Boolean);
    if (names.length) lists[kind] = names;
  });
  return lists;
}

const OPENSSH_SCRIPT = OPENSSH_QUERIES.map(([, q]) => `echo ==; ssh -Q ${q} 2>/dev/null`).join('; ');

async function hostOpenSsh(): Promise<Capabilities | undefined> {
  if (!findBinary('ssh')) return undefined;
  const { stdout } = await run('/bin/sh', ['-c', OPENSSH_SCRIPT], { timeout: QUERY_TIMEOUT_MS });
  return { lists: parseSections(stdout), source: '`ssh -Q` on this host (same build as /usr/sbin/sshd)' };
}

async function containerOpenSsh(image: string): Promise<Capabilities | undefined> {
  const docker = findBinary('docker');
  if (!docker) return undefined;
  // a throwaway container without network; --rm removes it
  const { stdout } = await run(docker, ['run', '--rm', '--network', 'none', image, '/bin/sh', '-c', OPENSSH_SCRIPT], { timeout: QUERY_TIMEOUT_MS });
  return { lists: parseSections(stdout), source: `\`ssh -Q\` inside ${image}` };
}

async function python(code: string, source: string): Promise<Capabilities> {
  const { stdout } = await run(SYSTEM_PYTHON, ['-W', 'ignore', '-c', code], { timeout: QUERY_TIMEOUT_MS });
  const parsed = JSON.parse(stdout) as Partial<Record<Kind, string[]>>;
  return { lists: Object.fromEntries(KINDS.filter((k) => Array.isArray(parsed[k])).map((k) => [k, parsed[k]])), source };
}

const PARAMIKO = `import json, paramiko
T = paramiko.Transport
print(json.dumps({'kex': list(T._kex_info), 'hostKey': list(T._key_info), 'cipher': list(T._cipher_info), 'mac': list(T._mac_info), 'compression': list(T._compression_info)}))`;

const ASYNCSSH = `import json
from asyncssh import kex, public_key, encryption, mac, compression
d = lambda algs: [a.decode() for a in algs]
print(json.dumps({'kex': d(kex.get_kex_algs()), 'hostKey': d(public_key.get_public_key_algs()), 'cipher': d(encryption.get_encryption_algs()), 'mac': d(mac.get_mac_algs()), 'compression': d(compression.get_compression_algs())}))`;

function ssh2(): Capabilities | undefined {
  try {
    const c = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as Record<string, unknown>;
    const list = (k: string) => (Array.isArray(c[k]) ? (c[k] as string[]) : []);
    return {
      lists: { kex: list('SUPPORTED_KEX'), hostKey: list('SUPPORTED_SERVER_HOST_KEY'), cipher: list('SUPPORTED_CIPHER'), mac: list('SUPPORTED_MAC'), compression: list('SUPPORTED_COMPRESSION') },
      source: "ssh2's SUPPORTED_* lists (ssh2/lib/protocol/constants.js)",
    };
  } catch {
    return undefined;
  }
}

async function dbclient(): Promise<Capabilities | undefined> {
  const bin = findBinary('dbclient');
  if (!bin) return undefined;
  // `-c help` / `-m help` print "Available ciphers: a,b,c" on stderr and exit non-zero
  const ask = async (flag: string): Promise<string[]> => {
    const r = await run(bin, [flag, 'help'], { timeout: QUERY_TIMEOUT_MS }).catch((e: { stdout?: string; stderr?: string }) => e);
    const m = /Available \w+: ([^\s]+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    return m ? m[1]!.split(',').filter(Boolean) : [];
  };
  return { lists: { cipher: await ask('-c'), mac: await ask('-m') }, source: '`dbclient -c help` and `-m help`' };
}

const TWISTED = `import json, warnings
warnings.simplefilter('ignore')
from twisted.conch.ssh import _kex, transport
from twisted.conch.ssh.transport import SSHCiphers
d = lambda xs: sorted(x.decode() for x in xs)
print(json.dumps({'kex': d(_kex.getSupportedKeyExchanges()), 'hostKey': d(transport.SSHTransportBase.supportedPublicKeys), 'cipher': d(set(SSHCiphers.cipherMap) - {b'none'}), 'mac': d(set(SSHCiphers.macMap) - {b'none'}), 'compression': d(transport.SSHTransportBase.supportedCompressions)}))`;

/** OTP's own list of everything its ssh application implements (ssh_transport:supported_algorithms/0). */
const ERLANG = `A = ssh_transport:supported_algorithms(),
L = fun(K) -> case proplists:get_value(K, A) of [{client2server, X} | _] -> X; X -> X end end,
[io:format("~s: ~s~n", [N, lists:join(",", [atom_to_list(X) || X <- L(K)])]) || {N, K} <- [{"kex", kex}, {"hostKey", public_key}, {"cipher", cipher}, {"mac", mac}, {"compression", compression}]],
halt().`;

async function erlang(): Promise<Capabilities | undefined> {
  const erl = findBinary('erl');
  if (!erl) return undefined;
  const { stdout } = await run(erl, ['-noinput', '-eval', ERLANG], { timeout: QUERY_TIMEOUT_MS });
  const lists: Partial<Record<Kind, string[]>> = {};
  for (const m of stdout.matchAll(/^(\w+): (.*)$/gm)) if ((KINDS as readonly string[]).includes(m[1]!)) lists[m[1] as Kind] = m[2]!.split(',').filter(Boolean);
  return { lists, source: "OTP's ssh_transport:supported_algorithms()" };
}

/** Our Go peer prints x/crypto's implemented names (`peer algorithms`); group exchange is client-only there. */
async function go(role: 'server' | 'client'): Promise<Capabilities | undefined> {
  const bin = builtArtifact(GO_PEER);
  if (!bin) return undefined;
  const { stdout } = await run(bin, ['algorithms'], { timeout: QUERY_TIMEOUT_MS });
  const lists = JSON.parse(stdout) as Partial<Record<Kind, string[]>>;
  if (role === 'client') lists.kex = [...(lists.kex ?? []), 'diffie-hellman-group-exchange-sha256', 'diffie-hellman-group-exchange-sha1'];
  return { lists, source: 'golang.org/x/crypto/ssh 0.4.0 (harness/targets/go/peer.go `algorithms`)' };
}

/** `lsh --list-algorithms`: ciphers, MACs and compression (its host key line names only the --hostkey-algorithm choices). */
async function lsh(): Promise<Capabilities | undefined> {
  const bin = findBinary('lsh');
  if (!bin) return undefined;
  const out = await run(bin, ['--list-algorithms'], { timeout: QUERY_TIMEOUT_MS, env: { ...process.env, HOME: '/nonexistent' } }).then((r) => r.stdout + r.stderr, (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`);
  const line = (what: string): string[] => (new RegExp(`Supported ${what} algorithms: (.*)`).exec(out)?.[1] ?? '').split(',').map((x) => x.trim()).filter((x) => x && x !== 'none');
  return { lists: { cipher: line('crypto'), mac: line('MAC'), compression: ['none', ...line('compression')] }, source: '`lsh --list-algorithms`' };
}

const QUERIES: Readonly<Record<string, () => Promise<Capabilities | undefined>>> = {
  'sshd': hostOpenSsh,
  'openssh-client': hostOpenSsh,
  'openssh': () => containerOpenSsh('local/openssh:bookworm'),
  'openssh:bookworm': () => containerOpenSsh('local/openssh:bookworm'),
  'openssh:trixie': () => containerOpenSsh('local/openssh:trixie'),
  'paramiko': () => python(PARAMIKO, "paramiko's Transport._*_info registries"),
  'paramiko-client': () => python(PARAMIKO, "paramiko's Transport._*_info registries"),
  'asyncssh': () => python(ASYNCSSH, "AsyncSSH's get_*_algs()"),
  'asyncssh-client': () => python(ASYNCSSH, "AsyncSSH's get_*_algs()"),
  'ssh2': async () => ssh2(),
  'ssh2-client': async () => ssh2(),
  'dbclient': dbclient,
  'twisted': () => python(TWISTED, "Conch's key exchange, cipher and MAC registries"),
  'twisted-client': () => python(TWISTED, "Conch's key exchange, cipher and MAC registries"),
  'erlang': erlang,
  'erlang-client': erlang,
  'go': () => go('server'),
  'go-client': () => go('client'),
  'lsh': lsh,
  'lsh-client': lsh,
};

/** The peer's implemented algorithms, or undefined when it has no query (or the query failed: then nothing is assumed). */
export async function capabilitiesOf(peer: string): Promise<Capabilities | undefined> {
  const q = QUERIES[peer];
  if (!q) return undefined;
  try {
    const c = await q();
    return c && KINDS.some((k) => (c.lists[k]?.length ?? 0) > 0) ? c : undefined;
  } catch {
    return undefined;
  }
}

/** False only when the peer's own list for that kind exists and lacks the name. */
export function implemented(c: Capabilities | undefined, kind: Kind, name: string): boolean {
  const l = c?.lists[kind];
  return !l || l.length === 0 || l.includes(name);
}
