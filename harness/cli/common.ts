/**
 * What serve and exec share: the usage error, the `--algorithms` flag, and the seam through which `--pcap` /
 * `--keylog` reach the trace writers. It imports the library only as a user does (the 'ssh-harness' package), so
 * `exec` — the reference client on the command line — loads one bundled module for all of SSH, not the ~100 modules
 * of impl/ (a fresh `exec` starts ~100 ms sooner).
 */
import { supportedAlgorithms, type TransportAlgorithms, type TransportTrace } from 'ssh-harness';

/** A usage or setup problem: the command exits 2 with this message (exit codes: README, "Command line"). */
export class UsageError extends Error {}

/** `--algorithms` kinds → the option key they fill. */
const KINDS = { kex: 'kex', hostkey: 'hostKey', cipher: 'cipher', mac: 'mac', compression: 'compression' } as const;

/**
 * `--algorithms kex=a:b,cipher=c,...`: kinds kex, hostkey, cipher, mac, compression; every name must
 * be one we implement. Legacy algorithms are offered only when named here (the engine enforces the rest).
 */
export function parseAlgorithmsFlag(spec: string): TransportAlgorithms {
  const supported = supportedAlgorithms();
  const out: { -readonly [K in keyof TransportAlgorithms]: string[] } = {};
  for (const pair of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    const kind = eq < 0 ? pair : pair.slice(0, eq);
    if (!Object.hasOwn(KINDS, kind)) throw new UsageError(`--algorithms: unknown kind ${JSON.stringify(kind)} (kinds: ${Object.keys(KINDS).join(', ')})`);
    const key = KINDS[kind as keyof typeof KINDS];
    const names = eq < 0 ? [] : pair.slice(eq + 1).split(':').filter(Boolean);
    if (names.length === 0) throw new UsageError(`--algorithms: ${kind}= needs at least one name`);
    const known = supported[key].map((a) => a.name);
    for (const n of names) {
      if (!known.includes(n)) throw new UsageError(`--algorithms: unknown ${kind} algorithm ${JSON.stringify(n)} (known: ${known.join(', ')})`);
    }
    out[key] = [...(out[key] ?? []), ...names];
  }
  return out;
}

/** What the trace seam gets per connection: the flags, who we are, and a connection number. */
export interface TraceRequest {
  readonly role: 'client' | 'server';
  readonly keylog?: string;
  readonly pcapDir?: string;
  readonly connection: number;
  readonly local?: { readonly host: string; readonly port: number };
  readonly remote?: { readonly host: string; readonly port: number };
}
export type TraceFactory = (req: TraceRequest) => TransportTrace | undefined;

let traceFactory: TraceFactory | undefined;

/**
 * The seam for --keylog / --pcap: the harness's trace writers (harness/trace) register a factory here; serve and exec
 * call it for each connection and pass the hooks to the Transport.
 */
export function setTraceFactory(f: TraceFactory | undefined): void {
  traceFactory = f;
}

let decryptionNoticeShown = false;

/**
 * Loads the trace writers when a command asks to record (they are not loaded otherwise: start-up time), and says
 * once per process when the offered algorithms can give a trace no Wireshark here decrypts (harness/trace/wireshark-support.ts).
 */
export async function loadTraceWriters(req: { readonly keylog?: string; readonly pcapDir?: string; readonly algorithms?: TransportAlgorithms }): Promise<void> {
  if (!req.keylog && !req.pcapDir) return;
  if (!traceFactory) traceFactory = (await import('../trace/trace-factory.js')).createTraceFactory();
  const notice = (await import('../trace/wireshark-support.js')).traceDecryptionNotice(req.algorithms);
  if (notice && !decryptionNoticeShown) {
    decryptionNoticeShown = true;
    process.stderr.write(notice);
  }
}

export function traceFor(req: TraceRequest): TransportTrace | undefined {
  if (!req.keylog && !req.pcapDir) return undefined;
  if (!traceFactory) {
    process.stderr.write('ssh-harness: --keylog/--pcap accepted, but no trace writer is registered in this build; nothing is recorded\n');
    return undefined;
  }
  return traceFactory(req);
}
